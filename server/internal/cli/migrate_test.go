package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/config"
)

const vectorsDir = "../../../testdata/vectors"

func TestMigrateConfigWritesTheCurrentFormatWithAnAdminKey(t *testing.T) {
	out := filepath.Join(t.TempDir(), "config.json")
	code, stdout, stderr := run(t, "migrate-config", "../config/testdata/v1-config.json", out)
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	if !strings.Contains(stdout, out) || strings.Count(stderr, "1.x config:") < 10 {
		t.Fatalf("stdout %q stderr:\n%s", stdout, stderr)
	}
	cfg, _, err := config.Load(out, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 || cfg.BasePath != "/relayapi" || cfg.Limits.PerIPBurst != 4 || cfg.Store.LogDriver != "postgres" || !strings.HasPrefix(cfg.Admin.Key, "rak_") {
		t.Fatalf("migrated config: %+v", cfg)
	}
	if info, _ := os.Stat(out); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: the file holds the admin key", info.Mode())
	}
	if code, _, stderr := run(t, "migrate-config", "../config/testdata/v1-config.json", out); code == 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("overwrote an existing config: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "migrate-config", out, out+".2"); code == 0 || !strings.Contains(stderr, "not a RelayAPI 1.x config") {
		t.Fatalf("migrated a current config: %d %s", code, stderr)
	}
}

func TestTokenMintsFromA1xKeyFileWithItsBaseURL(t *testing.T) {
	code, out, stderr := run(t, "token", "--rai", filepath.Join(vectorsDir, "v1-seed.rai"), "--provider", "openai", "--max-calls", "1", "--url")
	if code != 0 {
		t.Fatalf("%d %s", code, stderr)
	}
	url := strings.TrimSpace(out)
	if !strings.HasPrefix(url, "http://localhost:8840/relayapi/t/eyJ") || !strings.HasSuffix(url, "/v1") {
		t.Fatalf("url %q", url)
	}
}

func TestTheExampleKeyOf1xIsRefusedWithHowToMakeARealOne(t *testing.T) {
	code, _, stderr := run(t, "token", "--rai", filepath.Join(vectorsDir, "v1-example-key.rai"), "--provider", "openai")
	if code != exitFailure || !strings.Contains(stderr, "example key published with RelayAPI 1.x") || !strings.Contains(stderr, "relayapi keygen") {
		t.Fatalf("%d %s", code, stderr)
	}
	if strings.Contains(stderr, "0123456789abcdef0123") {
		t.Fatalf("the message repeats the key: %s", stderr)
	}
}
