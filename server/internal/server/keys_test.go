package server

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/config"
)

const testVectors = "../../../testdata/vectors"

func TestTheRelayServesUnderTheBasePathItsKeyFilesName(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v1 := filepath.Join(testVectors, "v1-seed.rai") // base_path "/relayapi/", as 1.x wrote it
	plain := filepath.Join(testVectors, "aes.rai")  // names none
	keys, err := LoadKeys([]string{v1, plain}, ":0", log)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ configured, want string }{{"", "/relayapi"}, {"/", "/"}, {"/ai", "/ai"}} {
		cfg := config.Default()
		cfg.BasePath = c.configured
		if err := keys.ApplyBasePath(&cfg, log); err != nil {
			t.Fatal(err)
		}
		if cfg.BasePath != c.want {
			t.Errorf("config %q: serves under %q, want %q", c.configured, cfg.BasePath, c.want)
		}
	}
	https := filepath.Join(testVectors, "v1-root-path.rai") // base_path "/": none
	if keys, err = LoadKeys([]string{v1, https}, ":0", log); err != nil {
		t.Fatal(err)
	}
	if bp, err := keys.BasePath(); err != nil || bp != "/relayapi" {
		t.Fatalf("base path %q %v", bp, err)
	}
}

func TestKeyFilesNamingDifferentBasePathsNeedTheConfigToChoose(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	other := filepath.Join(dir, "other.rai")
	if err := os.WriteFile(other, []byte(`{"server":{"base_path":"/ai"},"crypto":{"method":"aes","aes_key":"`+strings.Repeat("ab", 32)+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys([]string{filepath.Join(testVectors, "v1-seed.rai"), other}, ":0", log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if err := keys.ApplyBasePath(&cfg, log); err == nil || !strings.Contains(err.Error(), "different base paths") {
		t.Fatalf("err %v", err)
	}
	cfg.BasePath = "/ai"
	if err := keys.ApplyBasePath(&cfg, log); err != nil {
		t.Fatal(err)
	}
}
