package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFirstStartWritesTheDefaultsWithAFreshAdminKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	cfg, created, err := Load(path, true, nil)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if !strings.HasPrefix(cfg.Admin.Key, "rak_") || len(cfg.Admin.Key) < 40 {
		t.Fatalf("admin key %q", cfg.Admin.Key)
	}
	again, created, err := Load(path, true, nil)
	if err != nil || created || again.Admin.Key != cfg.Admin.Key {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("config holds a secret but has mode %v", info.Mode().Perm())
	}
}

func TestAnExplicitMissingConfigIsAnError(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "nope.json"), false, nil); err == nil {
		t.Fatal("loaded a missing file")
	}
}

func TestEnvironmentOverridesEveryKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"listen":":1"}`), 0o600)
	cfg, _, err := Load(path, false, []string{
		"RELAYAPI_LISTEN=127.0.0.1:9", "RELAYAPI_ADMIN_KEY=k", "RELAYAPI_TOKEN_LEEWAY=5s",
		"RELAYAPI_LIMITS_PER_IP_RPS=2.5", "RELAYAPI_LIMITS_MAX_BODY_BYTES=1024",
		"RELAYAPI_CORS_ALLOWED_ORIGINS=https://a.example, https://b.example", "OTHER=x",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9" || cfg.Admin.Key != "k" || cfg.Token.Leeway.D() != 5*time.Second ||
		cfg.Limits.PerIPRPS != 2.5 || cfg.Limits.MaxBodyBytes != 1024 || len(cfg.CORS.AllowedOrigins) != 2 {
		t.Fatalf("%+v", cfg)
	}
}

func TestTLSAndHTTP2ComeFromTheEnvironmentToo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{}`), 0o600)
	cfg, _, err := Load(path, false, []string{
		"RELAYAPI_TLS_DOMAINS=relay.example.com,api.example.com", "RELAYAPI_TLS_ACME_EMAIL=ops@example.com",
		"RELAYAPI_TLS_REDIRECT_HTTP=:80", "RELAYAPI_HTTP2_MAX_CONCURRENT_STREAMS=50",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.TLS.Enabled() || len(cfg.TLS.Domains) != 2 || cfg.TLS.ACMEDirectory != LetsEncrypt ||
		cfg.TLS.RedirectHTTP != ":80" || cfg.HTTP2.MaxConcurrentStreams != 50 || !cfg.HTTP2.Enabled {
		t.Fatalf("%+v %+v", cfg.TLS, cfg.HTTP2)
	}
	if Default().TLS.Enabled() {
		t.Fatal("TLS must be off by default: the first-run command serves plain HTTP on :8840")
	}
}

func TestInvalidConfigNamesTheKeyAndTheProblem(t *testing.T) {
	cases := map[string]string{
		`{"store":{"driver":"mysql"}}`:                                       "store.driver",
		`{"store":{"driver":"redis"}}`:                                       "store.url",
		`{"providers":{"x":{"base_url":"ftp://h"}}}`:                         "providers.x",
		`{"providers":{"x":{"base_url":"http://h","auth":"q"}}}`:             "providers.x",
		`{"log":{"level":"loud"}}`:                                           "log.level",
		`{"timeouts":{"idle":"0s"}}`:                                         "timeouts.idle",
		`{"timeouts":{"idle":"soon"}}`:                                       "duration",
		`{"network":{"trusted_proxies":["nope"]}}`:                           "network.trusted_proxies",
		`{"limits":{"max_header_bytes":10}}`:                                 "limits.max_header_bytes",
		`{"lissten":":1"}`:                                                   "lissten",
		`{"key_files":[]}`:                                                   "key_files",
		`{"tls":{"cert_file":"c.pem"}}`:                                      "cert_file and key_file go together",
		`{"tls":{"cert_file":"c","key_file":"k","domains":["a.example"]}}`:   "exclude each other",
		`{"tls":{"domains":["localhost"]}}`:                                  "tls.domains",
		`{"tls":{"domains":["https://a.example"]}}`:                          "tls.domains",
		`{"tls":{"domains":["*.a.example"]}}`:                                "tls.domains",
		`{"tls":{"domains":["10.0.0.1"]}}`:                                   "tls.domains",
		`{"tls":{"domains":["a.example"],"acme_directory":"http://ca"}}`:     "tls.acme_directory",
		`{"tls":{"redirect_http":":80"}}`:                                    "tls.redirect_http",
		`{"tls":{"hsts":true}}`:                                              "tls.hsts",
		`{"tls":{"cache":"redis","domains":["a.example"]}}`:                  `tls.cache: "redis" is not dir or store`,
		`{"tls":{"cache":""}}`:                                               `tls.cache: "" is not dir or store`,
		`{"tls":{"cache":"store"}}`:                                          "tls.cache: \"store\" keeps ACME certificates: it needs tls.domains",
		`{"tls":{"cache":"store","domains":["a.example"],"cache_dir":"/c"}}`: "tls.cache_dir: is unused",
		`{"http2":{"max_concurrent_streams":0}}`:                             "http2.max_concurrent_streams",
		`{"http2":{"h2c":true,"enabled":false}}`:                             "http2.h2c",
		`{"http2":{"h2c":true},"tls":{"cert_file":"c","key_file":"k"}}`:      "http2.h2c",
	}
	for body, want := range cases {
		path := filepath.Join(t.TempDir(), "config.json")
		os.WriteFile(path, []byte(body), 0o600)
		_, _, err := Load(path, false, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %s", body, err, want)
		}
	}
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{}`), 0o600)
	if _, _, err := Load(path, false, []string{"RELAYAPI_LIMITS_PER_IP_RPS=fast"}); err == nil || !strings.Contains(err.Error(), "RELAYAPI_LIMITS_PER_IP_RPS") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestConfigurationDocListsEveryKeyAndVariable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for path, env := range EnvNames() {
		if !strings.Contains(string(doc), "`"+path+"`") || !strings.Contains(string(doc), env) {
			t.Errorf("docs/configuration.md lacks %s / %s", path, env)
		}
	}
	data, _ := json.Marshal(Default())
	if len(data) == 0 {
		t.Fatal("defaults do not marshal")
	}
}
