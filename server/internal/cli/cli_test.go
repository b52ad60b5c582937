package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/config"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestKeygenTokenInspectRoundTripForBothMethods(t *testing.T) {
	dir := t.TempDir()
	for _, method := range []string{"aes", "ecc"} {
		t.Run(method, func(t *testing.T) {
			backend := filepath.Join(dir, method+".rai")
			relay := backend
			args := []string{"keygen", "--method", method, "--out", backend}
			if method == "ecc" {
				relay = filepath.Join(dir, method+"-relay.rai")
				args = append(args, "--relay-out", relay)
			}
			if code, _, stderr := run(t, args...); code != 0 {
				t.Fatalf("keygen: %d %s", code, stderr)
			}
			code, tok, stderr := run(t, "token", "--rai", backend, "--provider", "openai",
				"--api-key", "sk-secret-abcdefghijkl", "--max-calls", "7", "--models", "gpt-4o,gpt-4o-mini",
				"--sub", "user-1", "--model-map", "fast=gpt-4o-mini", "--meta", "plan=free", "--expires-in", "2h",
				"--max-session-seconds", "900")
			if code != 0 {
				t.Fatalf("token: %d %s", code, stderr)
			}
			code, out, stderr := run(t, "inspect", "--rai", relay, strings.TrimSpace(tok))
			if code != 0 {
				t.Fatalf("inspect: %d %s", code, stderr)
			}
			var claims map[string]any
			if err := json.Unmarshal([]byte(out), &claims); err != nil {
				t.Fatal(err)
			}
			if claims["max_calls"] != float64(7) || claims["sub"] != "user-1" || claims["api_key"] != "sk-…ijkl" ||
				claims["max_session_seconds"] != float64(900) {
				t.Fatalf("claims %v", claims)
			}
			if strings.Contains(out, "sk-secret") {
				t.Fatal("inspect printed the api key")
			}
		})
	}
}

func TestTokenURLUsesTheServerSectionOfTheRaiFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.rai")
	if code, _, stderr := run(t, "keygen", "--out", file, "--host", "relay.example.com", "--port", "443", "--base-path", "/ai"); code != 0 {
		t.Fatal(stderr)
	}
	_, out, _ := run(t, "token", "--rai", file, "--url")
	if !strings.HasPrefix(out, "https://relay.example.com/ai/t/") || !strings.HasSuffix(strings.TrimSpace(out), "/v1") {
		t.Fatalf("url %q", out)
	}
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.rai")
	run(t, "keygen", "--out", file)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"version"}, 0},
		{[]string{"nope"}, 2},
		{[]string{"token", "--rai", file, "--max-calls", "-1"}, 2},
		{[]string{"token", "--rai", file, "--max-session-seconds", "86401"}, 2},
		{[]string{"token", "--rai", file, "--bogus"}, 2},
		{[]string{"token"}, 2},
		{[]string{"inspect", "--rai", file}, 2},
		{[]string{"inspect", "--rai", file, "not-a-token"}, 1},
		{[]string{"keygen", "--out", file}, 1}, // refuses to overwrite
		{[]string{"token", "--rai", filepath.Join(t.TempDir(), "missing.rai")}, 1},
	}
	for _, tc := range cases {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, stderr)
		}
		if code != 0 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: stderr not one line: %q", tc.args, stderr)
		}
	}
}

func TestDomainFlagServesHTTPSOnTheStandardPorts(t *testing.T) {
	cfg := config.Default()
	applyDomains(&cfg, []string{"relay.example.com"}, false)
	if cfg.Listen != ":443" || cfg.TLS.RedirectHTTP != ":80" || cfg.TLS.Domains[0] != "relay.example.com" || cfg.Validate() != nil {
		t.Fatalf("%+v %v", cfg.TLS, cfg.Validate())
	}
	cfg = config.Default()
	cfg.Listen, cfg.TLS.RedirectHTTP = "10.0.0.1:8443", "10.0.0.1:8080"
	applyDomains(&cfg, []string{"relay.example.com"}, false)
	if cfg.Listen != "10.0.0.1:8443" || cfg.TLS.RedirectHTTP != "10.0.0.1:8080" {
		t.Fatalf("configured addresses were overridden: %s %s", cfg.Listen, cfg.TLS.RedirectHTTP)
	}
	cfg = config.Default()
	applyDomains(&cfg, []string{"relay.example.com"}, true) // --listen :8840 given
	if cfg.Listen != ":8840" {
		t.Fatalf("--listen was overridden: %s", cfg.Listen)
	}
}
