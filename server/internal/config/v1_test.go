package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testdata/v1-config.json is the config.json RelayAPI 1.x shipped.
func TestA1xConfigMapsWhatHasAMeaningHere(t *testing.T) {
	cfg, _, err := Load("testdata/v1-config.json", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"listen", cfg.Listen, ":8080"},
		{"base_path", cfg.BasePath, "/relayapi"},
		{"timeouts.read", cfg.Timeouts.Read.D(), 30 * time.Second},
		{"timeouts.write_idle", cfg.Timeouts.WriteIdle.D(), 30 * time.Second},
		{"limits.max_header_bytes", cfg.Limits.MaxHeaderBytes, 1 << 20},
		{"log.level", cfg.Log.Level, "info"},
		{"limits.global_rps", cfg.Limits.GlobalRPS, 10.0},
		{"limits.global_burst", cfg.Limits.GlobalBurst, 20},
		{"limits.per_ip_rps", cfg.Limits.PerIPRPS, 2.0},
		{"limits.per_ip_burst", cfg.Limits.PerIPBurst, 4},
		{"store.driver", cfg.Store.Driver, "sqlite"},
		{"store.log_driver", cfg.Store.LogDriver, "postgres"},
		{"store.log_url", cfg.Store.LogURL, "user=postgres password=postgres dbname=water host=localhost port=5432 sslmode=disable"},
		{"admin.key", cfg.Admin.Key, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestA1xConfigWarnsOncePerKeyMappedOrDropped(t *testing.T) {
	cfg, _, err := Load("testdata/v1-config.json", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"server.host", "server.read_timeout", "server.write_timeout", "server.max_header_bytes",
		"server.debug", "log.console", "log.database", "log.web", "log.parquet", "rate_limit.burst", "rate_limit.ip_limit", "base_path", "admin API"} {
		n := 0
		for _, w := range cfg.Warnings {
			if strings.Contains(w, key) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d warnings mention %s, want 1: %q", n, key, cfg.Warnings)
		}
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "password") {
			t.Fatalf("a warning shows the connection string: %q", w)
		}
	}
}

func TestA1xConfigNamesKeysItDoesNotKnowAndRefusesOtherLogDatabases(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, _, err := Load(write(`{"server":{"port":9000,"hots":"x"},"extra":1}`), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(cfg.Warnings, "\n")
	if !strings.Contains(joined, "server.hots is dropped") || !strings.Contains(joined, "extra is dropped") || cfg.Listen != ":9000" {
		t.Fatalf("listen %q warnings:\n%s", cfg.Listen, joined)
	}
	_, _, err = Load(write(`{"server":{"port":9000},"log":{"database":{"enabled":true,"type":"mysql","connection_string":"x"}}}`), false, nil)
	if err == nil || !strings.Contains(err.Error(), "only postgres") {
		t.Fatalf("mysql log database: %v", err)
	}
}

func TestAFileMixing1xSectionsWithCurrentKeysIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	body := `{"rate_limit":{"burst":5},"admin":{"key":"rak_x"},"store":{"driver":"redis","url":"redis://r"},"log":{"level":"info"}}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(p, false, nil)
	if err == nil || !strings.Contains(err.Error(), "admin, log.level, store") || !strings.Contains(err.Error(), "migrate-config") {
		t.Fatalf("err %v", err)
	}
}

func TestTheCurrentFormatIsNotMistakenFor1x(t *testing.T) {
	if IsV1([]byte(`{"listen":":8840","log":{"level":"info"},"limits":{"global_rps":1}}`)) {
		t.Fatal("a current config read as 1.x")
	}
}

func TestEnvironmentOverridesApplyOverA1xConfig(t *testing.T) {
	cfg, _, err := Load("testdata/v1-config.json", false, []string{"RELAYAPI_LIMITS_PER_IP_BURST=9"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.PerIPBurst != 9 {
		t.Fatalf("per_ip_burst %d", cfg.Limits.PerIPBurst)
	}
}
