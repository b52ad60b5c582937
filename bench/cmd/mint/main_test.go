package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// keyFiles writes a fresh aes file, or an ecc pair, and returns the file
// to mint with and a keyring the relay would decode with.
func keyFiles(t *testing.T, method string) (string, *token.Keyring) {
	t.Helper()
	dir := t.TempDir()
	keys := token.NewKeyring()
	var backend, relay *rai.File
	var err error
	switch method {
	case "aes":
		backend, err = rai.GenerateAES(rai.Server{})
		relay = backend
	case "ecc":
		backend, relay, err = rai.GenerateECC(rai.Server{})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := relay.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, method+".rai")
	if err := backend.Write(path); err != nil {
		t.Fatal(err)
	}
	return path, keys
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestMintsDistinctTokensTheRelayAccepts(t *testing.T) {
	for _, method := range []string{"aes", "ecc"} {
		t.Run(method, func(t *testing.T) {
			file, keys := keyFiles(t, method)
			dir := t.TempDir()
			out, jtiOut := filepath.Join(dir, "tokens"), filepath.Join(dir, "jtis")
			t.Setenv("RELAYAPI_API_KEY", "sk-test-key")
			var stdout, stderr bytes.Buffer
			args := []string{"-rai", file, "-n", "37", "-workers", "3", "-out", out, "-jti-out", jtiOut,
				"-provider", "mock", "-max-calls", "5", "-sub-prefix", "user-"}
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var sum summary
			if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
				t.Fatalf("summary %q: %v", stdout.String(), err)
			}
			if sum.Tokens != 37 || sum.Method != method || sum.BytesMean <= 0 {
				t.Fatalf("summary %+v", sum)
			}
			if strings.Contains(stdout.String(), "sk-test-key") {
				t.Fatal("the summary shows the API key")
			}
			toks, jtis := lines(t, out), lines(t, jtiOut)
			if len(toks) != 37 || len(jtis) != 37 {
				t.Fatalf("%d tokens, %d jtis", len(toks), len(jtis))
			}
			seen := map[string]bool{}
			for i, tok := range toks {
				c, err := token.Decode(tok, keys, time.Now())
				if err != nil {
					t.Fatalf("token %d: %v", i, err)
				}
				if c.ID != jtis[i] || seen[c.ID] {
					t.Fatalf("token %d: jti %q (listed %q, seen before %v)", i, c.ID, jtis[i], seen[c.ID])
				}
				seen[c.ID] = true
				if c.Provider != "mock" || c.APIKey != "sk-test-key" || c.MaxCalls != 5 ||
					c.Subject != "user-"+strconv.Itoa(i) || c.ExpiresAt != sum.ExpiresUnix {
					t.Fatalf("token %d: claims %+v", i, c)
				}
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("tokens file mode: %v %v", fi.Mode(), err)
			}
		})
	}
}

func TestRefusesBadUse(t *testing.T) {
	file, _ := keyFiles(t, "aes")
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-n", "3", "-out", filepath.Join(dir, "a")}, 2},
		{[]string{"-rai", file, "-n", "0", "-out", filepath.Join(dir, "b")}, 2},
		{[]string{"-rai", file, "-n", "9999999", "-out", filepath.Join(dir, "c")}, 2},
		{[]string{"-rai", file, "-n", "3", "-out", filepath.Join(dir, "d"), "extra"}, 2},
		{[]string{"-rai", filepath.Join(dir, "missing.rai"), "-n", "3", "-out", filepath.Join(dir, "e")}, 1},
		{[]string{"-rai", file, "-n", "3", "-out", existing}, 1},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, stderr.String())
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Fatal("an existing file was overwritten")
	}
}

func TestRefusesARelayKeyFile(t *testing.T) {
	_, relay, err := rai.GenerateECC(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "relay.rai")
	if err := relay.Write(path); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-rai", path, "-n", "2", "-out", filepath.Join(t.TempDir(), "t")}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
