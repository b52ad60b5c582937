package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
)

const adminKey = "rak_go_sdk_e2e_0123456789abcdef"

// env is one relay in front of one mock provider, with the aes key file
// both the relay and the backend load.
type env struct {
	relayURL string
	mockURL  string
	raiPath  string
	bins     bins
}

type bins struct{ relay, mock string }

// binaries returns the relay and mock binaries: from the environment, or
// built once from this checkout.
func binaries(t *testing.T) bins {
	t.Helper()
	b := bins{os.Getenv("RELAYAPI_BIN"), os.Getenv("MOCKPROVIDER_BIN")}
	if b.relay != "" && b.mock != "" {
		return b
	}
	dir := t.TempDir()
	for name, pkg := range map[string]string{"relayapi": "./cmd/relayapi", "mockprovider": "./cmd/mockprovider"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = "../../../server"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return bins{filepath.Join(dir, "relayapi"), filepath.Join(dir, "mockprovider")}
}

// start runs the mock and a relay whose providers openai and dashscope
// point at it.
func start(t *testing.T) *env {
	t.Helper()
	b := binaries(t)
	dir := t.TempDir()
	mockURL := "http://" + startMock(t, b.mock, dir)

	port := freePort(t)
	key, err := rai.GenerateAES(rai.Server{Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	raiPath := filepath.Join(dir, "default.rai")
	if err := key.Write(raiPath); err != nil {
		t.Fatal(err)
	}
	config := map[string]any{
		"providers": map[string]any{
			"openai":    map[string]any{"base_url": mockURL},
			"dashscope": map[string]any{"base_url": mockURL},
		},
		"admin":  map[string]any{"key": adminKey},
		"limits": map[string]any{"per_ip_rps": 0},
		"log":    map[string]any{"level": "warn"},
	}
	data, _ := json.Marshal(config)
	configPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	relayURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	run(t, dir, "relay.log", nil, b.relay, "serve", "--config", configPath, "--rai", raiPath,
		"--data", filepath.Join(dir, "data"), "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	waitHTTP(t, relayURL+"/health", filepath.Join(dir, "relay.log"))
	return &env{relayURL: relayURL, mockURL: mockURL, raiPath: raiPath, bins: b}
}

// run starts a process for the test's life, its output in dir/logName,
// with env added to the test's environment.
func run(t *testing.T, dir, logName string, env []string, bin string, args ...string) {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logFile, logFile, dir
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("%s:\n%s", logName, tail(string(out), 30))
			}
		}
	})
}

func startMock(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("mockprovider exited before listening")
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		return a
	case <-time.After(15 * time.Second):
		t.Fatal("mockprovider did not listen within 15 s")
	}
	return ""
}

func waitHTTP(t *testing.T, url, logPath string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(logPath)
	t.Fatalf("%s did not answer within 20 s:\n%s", url, tail(string(out), 30))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
