// Package config loads, defaults, overrides (RELAYAPI_… environment
// variables) and validates the relay's config.json.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole relay configuration. Every field has a default
// (Default) and an environment variable named after its JSON path, e.g.
// limits.max_body_bytes → RELAYAPI_LIMITS_MAX_BODY_BYTES.
type Config struct {
	Listen    string              `json:"listen"`
	BasePath  string              `json:"base_path"`
	DataDir   string              `json:"data_dir"`
	KeyFiles  []string            `json:"key_files"`
	Log       Log                 `json:"log"`
	Providers map[string]Provider `json:"providers"`
	Admin     Admin               `json:"admin"`
	Store     Store               `json:"store"`
	Token     Token               `json:"token"`
	Limits    Limits              `json:"limits"`
	Timeouts  Timeouts            `json:"timeouts"`
	CORS      CORS                `json:"cors"`
	Network   Network             `json:"network"`
	TLS       TLS                 `json:"tls"`
	Realtime  Realtime            `json:"realtime"`
	HTTP2     HTTP2               `json:"http2"`

	SubjectLimit SubjectLimit `json:"subject_limit"`
	Accounting   Accounting   `json:"accounting"`
	// Models override or add to the embedded model catalog (output
	// limits, cap parameter), by model name.
	Models     map[string]Model `json:"models,omitempty"`
	RequestLog RequestLog       `json:"request_log"`
	Metrics    Metrics          `json:"metrics"`
	Upstream   Upstream         `json:"upstream"`

	// Warnings says how a RelayAPI 1.x config.json was read (one line per
	// key mapped or dropped); the caller logs them.
	Warnings []string `json:"-"`
}

// SubjectLimit caps every end user (`sub`) across all of their tokens, so
// asking the backend for many tokens does not dodge a limit.
type SubjectLimit struct {
	Calls  int64    `json:"calls"` // 0: off
	Window Duration `json:"window"`
}

// Accounting says how token usage is settled.
type Accounting struct {
	// OnDisconnect is what happens upstream when a client leaves a stream:
	// "cancel" (stop paying; usage estimated) or "drain" (read to the end
	// for the provider's exact usage).
	OnDisconnect string   `json:"on_disconnect"`
	DrainTimeout Duration `json:"drain_timeout"`
	// LeaseTTL bounds a concurrency/budget lease between renewals; a relay
	// that dies mid-stream frees the slot after at most this long.
	LeaseTTL Duration `json:"lease_ttl"`
	// OutputReserve bounds what a call without its own max_tokens may
	// produce (per answer) on a token with a budget: the relay clamps it
	// to this, and reserves that much. A call asking for more still gets
	// up to the model's limit.
	OutputReserve int64 `json:"output_reserve"`
	// UnknownModelOutput is the output limit assumed for a model the
	// catalog does not know.
	UnknownModelOutput int64 `json:"unknown_model_output"`
	// ServerSideContext is what happens on a budget token to a request
	// that makes the provider read context the relay cannot count (a
	// stored conversation, a file, server-side tools): "refuse", or
	// "reserve" ServerSideContextTokens more for its prompt and settle
	// from the provider's usage.
	ServerSideContext       string `json:"server_side_context"`
	ServerSideContextTokens int64  `json:"server_side_context_tokens"`
}

// Model overrides the catalog's figures for one model name.
type Model struct {
	MaxOutputTokens   int64  `json:"max_output_tokens,omitempty"`
	ContextWindow     int64  `json:"context_window,omitempty"`
	CapParam          string `json:"cap_param,omitempty"`
	ImageOutputTokens int64  `json:"image_output_tokens,omitempty"`
}

// RequestLog configures the per-request log kept in the store.
type RequestLog struct {
	Enabled   bool     `json:"enabled"`
	Retention Duration `json:"retention"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Enabled bool `json:"enabled"`
	// Listen, when set, serves /metrics on its own address instead of the
	// relay's (keep it off the public interface).
	Listen string `json:"listen"`
	// Pprof adds Go's /debug/pprof/ profiles to that separate listener
	// (never to the relay's own): how bench/ profiles the relay under load.
	Pprof bool `json:"pprof"`
}

// Upstream configures retries towards the provider, made only before any
// byte reached the client.
type Upstream struct {
	MaxRetries    int      `json:"max_retries"`
	RetryBase     Duration `json:"retry_base_delay"`
	RetryMaxTotal Duration `json:"retry_max_total"`
}

// Log configures the structured log on stderr.
type Log struct {
	Level  string `json:"level"`  // debug, info, warn, error
	Format string `json:"format"` // json or text
}

// Provider is an operator-defined upstream, or an override of a built-in
// one (fields left empty keep the built-in value).
type Provider struct {
	BaseURL string `json:"base_url"`
	Auth    string `json:"auth,omitempty"`
	// Headers are pinned: set on every request to the provider, whatever
	// the client sent.
	Headers map[string]string `json:"headers,omitempty"`
	// APIKeys are relay-held credentials, used round-robin for tokens that
	// carry no api_key. Never inline: each names an env var or a file.
	APIKeys []KeyRef `json:"api_keys,omitempty"`
	// APIs are the API families the provider speaks (openai, anthropic,
	// gemini, azure); empty keeps the built-in's, or all of them for a
	// provider of the operator's own.
	APIs []string `json:"apis,omitempty"`
	// FixedCharges lets tokens with a budget reach endpoints whose usage
	// the relay cannot meter, at a fixed charge in tokens per call:
	// "METHOD /path" (with * wildcards) → tokens.
	FixedCharges map[string]int64 `json:"fixed_charges,omitempty"`
	// AllowRequestHeaders and AllowResponseHeaders add header names (a
	// trailing * matches a prefix) to what crosses the relay, beyond what
	// the official SDKs need: e.g. "anthropic-beta" to let clients pick
	// Anthropic betas on the operator's account.
	AllowRequestHeaders  []string `json:"allow_request_headers,omitempty"`
	AllowResponseHeaders []string `json:"allow_response_headers,omitempty"`
}

// KeyRef points at a secret without containing it.
type KeyRef struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// Admin configures the /admin API.
type Admin struct {
	Key string `json:"key"`
}

// Store selects the usage store.
type Store struct {
	Driver   string   `json:"driver"` // sqlite, redis, postgres
	URL      string   `json:"url"`
	PoolSize int      `json:"pool_size"` // 0: the driver's default
	Timeout  Duration `json:"timeout"`   // per store operation
	// OnUnavailable: fail_closed answers 503 store_unavailable when the
	// store cannot be reached; fail_open forwards unmetered (weaker).
	OnUnavailable string `json:"on_unavailable"`
	// LogDriver/LogURL put the request log in another store (postgres)
	// while the counters stay in Driver (e.g. redis). Empty: same store.
	LogDriver string `json:"log_driver"`
	LogURL    string `json:"log_url"`
}

// Token configures token decoding.
type Token struct {
	Leeway Duration `json:"leeway"`
	// CacheBytes bounds the decoded-token cache by memory (about 1 KiB a
	// token): a deployment minting a token per user session has as many
	// live tokens as users, and each miss costs a decryption.
	CacheBytes int64 `json:"cache_bytes"`
	// CacheSize is deprecated and ignored (the cache was bounded by count);
	// kept so config files written by older relays still load.
	CacheSize int `json:"cache_size,omitempty"`
}

// Limits bound what one client or the whole relay may send.
type Limits struct {
	MaxBodyBytes   int64   `json:"max_body_bytes"`
	MaxHeaderBytes int     `json:"max_header_bytes"`
	GlobalRPS      float64 `json:"global_rps"`
	GlobalBurst    int     `json:"global_burst"`
	PerIPRPS       float64 `json:"per_ip_rps"`
	PerIPBurst     int     `json:"per_ip_burst"`
}

// Timeouts of the listener and the upstream transport. None of them ever
// cuts a response that is streaming.
type Timeouts struct {
	ReadHeader             Duration `json:"read_header"`
	Read                   Duration `json:"read"`
	WriteIdle              Duration `json:"write_idle"`
	Idle                   Duration `json:"idle"`
	UpstreamDial           Duration `json:"upstream_dial"`
	UpstreamResponseHeader Duration `json:"upstream_response_header"`
	UpstreamIdle           Duration `json:"upstream_idle"`
	Shutdown               Duration `json:"shutdown"`
}

// CORS lists the browser origins allowed for tokens that carry no
// `origins` claim of their own.
type CORS struct {
	AllowedOrigins []string `json:"allowed_origins"`
}

// Network says which peers are trusted to report the client IP.
type Network struct {
	TrustedProxies []string `json:"trusted_proxies"`
}

// TLS makes the relay serve HTTPS itself, from certificate files or with
// certificates it obtains over ACME for Domains. Off when both are empty.
type TLS struct {
	// CertFile and KeyFile are PEM files (the chain, leaf first, and its
	// key), re-read when they change and on SIGHUP.
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	// Domains get certificates over ACME (HTTP-01 on RedirectHTTP, or
	// TLS-ALPN-01 on the HTTPS listener when it is on port 443).
	Domains       []string `json:"domains"`
	ACMEDirectory string   `json:"acme_directory"`
	ACMEEmail     string   `json:"acme_email"`
	// ACMECAFile lists the roots to trust for a private ACME directory
	// (step-ca, a test server); empty: the system's.
	ACMECAFile string `json:"acme_ca_file"`
	// Cache says where the ACME account key and certificates are kept:
	// "dir" (CacheDir) or "store" (the usage store, store.driver: shared
	// by every relay on one Redis or PostgreSQL).
	Cache string `json:"cache"`
	// CacheDir keeps ACME accounts and certificates; empty: data_dir/certs.
	// Several relays serving one domain share one directory.
	CacheDir string `json:"cache_dir"`
	// RedirectHTTP is the address of a plain HTTP listener that answers
	// ACME HTTP-01 challenges and sends browsers to HTTPS (e.g. ":80").
	RedirectHTTP string `json:"redirect_http"`
	// HSTS adds Strict-Transport-Security (two years) to HTTPS answers.
	HSTS bool `json:"hsts"`
}

// Enabled says whether the main listener speaks TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" || len(t.Domains) > 0 }

// LetsEncrypt is the default ACME directory.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// Realtime bounds WebSocket sessions (the OpenAI Realtime API).
type Realtime struct {
	MaxSessions int `json:"max_sessions"`
	// MaxSession is the longest session; a token's max_session_seconds
	// may shorten it, never lengthen it.
	MaxSession      Duration `json:"max_session"`
	IdleTimeout     Duration `json:"idle_timeout"`
	MaxMessageBytes int64    `json:"max_message_bytes"`
	// RevocationCheck is how often a live session asks the store whether
	// its token was revoked.
	RevocationCheck Duration `json:"revocation_check"`
}

// HTTP2 configures HTTP/2: on for TLS clients (browsers need it for more
// than six concurrent requests to one origin), and optionally in clear
// text (h2c, prior knowledge) for load balancers that speak it.
type HTTP2 struct {
	Enabled bool `json:"enabled"`
	H2C     bool `json:"h2c"`
	// MaxConcurrentStreams bounds the requests in flight on one
	// connection; a client asking for more gets REFUSED_STREAM.
	MaxConcurrentStreams int `json:"max_concurrent_streams"`
}

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		Listen:    ":8840",
		DataDir:   "./data",
		KeyFiles:  []string{"default.rai"},
		Log:       Log{Level: "info", Format: "json"},
		Providers: map[string]Provider{},
		Store:     Store{Driver: "sqlite", Timeout: Duration(2 * time.Second), OnUnavailable: "fail_closed"},
		Token:     Token{Leeway: Duration(30 * time.Second), CacheBytes: 128 << 20},
		Limits: Limits{
			MaxBodyBytes: 32 << 20, MaxHeaderBytes: 64 << 10,
			GlobalRPS: 0, GlobalBurst: 0, PerIPRPS: 100, PerIPBurst: 200,
		},
		Timeouts: Timeouts{
			ReadHeader: Duration(10 * time.Second), Read: Duration(2 * time.Minute), WriteIdle: Duration(time.Minute), Idle: Duration(120 * time.Second),
			UpstreamDial: Duration(10 * time.Second), UpstreamResponseHeader: Duration(10 * time.Minute),
			UpstreamIdle: Duration(5 * time.Minute),
			Shutdown:     Duration(30 * time.Second),
		},
		CORS:    CORS{AllowedOrigins: []string{"*"}},
		Network: Network{TrustedProxies: []string{}},
		TLS:     TLS{Domains: []string{}, ACMEDirectory: LetsEncrypt, Cache: "dir"},
		HTTP2:   HTTP2{Enabled: true, MaxConcurrentStreams: 100},
		Realtime: Realtime{
			MaxSessions: 10000, MaxSession: Duration(30 * time.Minute), IdleTimeout: Duration(5 * time.Minute),
			MaxMessageBytes: 15 << 20, RevocationCheck: Duration(2 * time.Second),
		},
		SubjectLimit: SubjectLimit{Calls: 0, Window: Duration(24 * time.Hour)},
		Accounting: Accounting{
			OnDisconnect: "cancel", DrainTimeout: Duration(2 * time.Minute), LeaseTTL: Duration(time.Minute),
			OutputReserve: 8192, UnknownModelOutput: 32768,
			ServerSideContext: "refuse", ServerSideContextTokens: 32768,
		},
		RequestLog: RequestLog{Enabled: true, Retention: Duration(30 * 24 * time.Hour)},
		Metrics:    Metrics{Enabled: true},
		Upstream:   Upstream{MaxRetries: 2, RetryBase: Duration(200 * time.Millisecond), RetryMaxTotal: Duration(10 * time.Second)},
	}
}

// Load reads path over the defaults. When path does not exist and
// create is true, it writes the defaults there first, with a fresh admin key.
// Environment overrides are applied last, then everything is validated.
func Load(path string, create bool, environ []string) (cfg Config, created bool, err error) {
	cfg = Default()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if cfg.Admin.Key, err = NewAdminKey(); err != nil {
			return cfg, false, err
		}
		if err := write(path, cfg); err != nil {
			return cfg, false, fmt.Errorf("write default config: %w", err)
		}
		created = true
	case err != nil:
		return cfg, false, err
	case IsV1(data):
		if cfg, cfg.Warnings, err = FromV1(data); err != nil {
			return cfg, false, fmt.Errorf("%s: %w", path, err)
		}
		cfg.Warnings = append(cfg.Warnings, "1.x config: (no admin key in 1.x) → the admin API is off; `relayapi migrate-config OLD NEW` writes a config with a fresh admin key")
	default:
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, false, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, created, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, created, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, created, nil
}

// Write writes cfg to path as JSON, refusing to replace an existing file
// (it holds the admin key).
func Write(path string, cfg Config) error { return write(path, cfg) }

func write(path string, cfg Config) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// NewAdminKey returns a random admin key.
func NewAdminKey() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "rak_" + hex.EncodeToString(b), nil
}

// Validate names the first key with a bad value.
func (c *Config) Validate() error {
	var problems []string
	bad := func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	}
	if c.Listen == "" {
		bad("listen", "must not be empty")
	}
	if c.BasePath != "" && c.BasePath != "/" && (!strings.HasPrefix(c.BasePath, "/") || strings.HasSuffix(c.BasePath, "/")) {
		bad("base_path", `must start with / and not end with / ("/": the root)`)
	}
	if len(c.KeyFiles) == 0 {
		bad("key_files", "must list at least one .rai file or directory")
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "json", "text") {
		bad("log.format", "%q is not json or text", c.Log.Format)
	}
	for name, p := range c.Providers {
		if err := p.validate(); err != nil {
			bad("providers."+name, "%v", err)
		}
	}
	c.validateStore(bad)
	if c.Token.Leeway < 0 || c.Token.Leeway.D() > 10*time.Minute {
		bad("token.leeway", "must be between 0s and 10m")
	}
	if c.Token.CacheBytes < 1<<20 {
		bad("token.cache_bytes", "must be at least 1048576 (1 MiB)")
	}
	c.validateLimits(bad)
	c.validateAccounting(bad)
	c.validateTLS(bad)
	c.validateRealtime(bad)
	if c.Metrics.Pprof && c.Metrics.Listen == "" {
		bad("metrics.pprof", "needs metrics.listen: profiles are never served on the relay's own listener")
	}
	for _, o := range c.CORS.AllowedOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			bad("cors.allowed_origins", "%q is not an origin (scheme://host[:port]) or *", o)
		}
	}
	for _, p := range c.Network.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad("network.trusted_proxies", "%q is not an IP or CIDR", p)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (c *Config) validateLimits(bad func(string, string, ...any)) {
	l := c.Limits
	if l.MaxBodyBytes < 1 {
		bad("limits.max_body_bytes", "must be at least 1")
	}
	if l.MaxHeaderBytes < 4096 {
		bad("limits.max_header_bytes", "must be at least 4096 (tokens travel in headers)")
	}
	if l.GlobalRPS < 0 || l.PerIPRPS < 0 || l.GlobalBurst < 0 || l.PerIPBurst < 0 {
		bad("limits", "rates and bursts must not be negative (0 turns a limit off)")
	}
	for key, d := range map[string]Duration{
		"timeouts.read_header": c.Timeouts.ReadHeader, "timeouts.read": c.Timeouts.Read, "timeouts.write_idle": c.Timeouts.WriteIdle, "timeouts.idle": c.Timeouts.Idle,
		"timeouts.upstream_dial": c.Timeouts.UpstreamDial, "timeouts.upstream_response_header": c.Timeouts.UpstreamResponseHeader,
		"timeouts.upstream_idle": c.Timeouts.UpstreamIdle,
		"timeouts.shutdown":      c.Timeouts.Shutdown,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration")
		}
	}
}

func (c *Config) validateTLS(bad func(string, string, ...any)) {
	t := c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	if t.CertFile != "" && len(t.Domains) > 0 {
		bad("tls", "cert_file and domains exclude each other: certificates come from files or from ACME")
	}
	for _, d := range t.Domains {
		if !validDomain(d) {
			bad("tls.domains", "%q is not a DNS name (no scheme, port, wildcard or IP; at least one dot)", d)
		}
	}
	if len(t.Domains) > 0 {
		if u, err := url.Parse(t.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("tls.acme_directory", "%q is not an https URL", t.ACMEDirectory)
		}
	}
	switch t.Cache {
	case "dir":
	case "store":
		if len(t.Domains) == 0 {
			bad("tls.cache", "\"store\" keeps ACME certificates: it needs tls.domains")
		}
		if t.CacheDir != "" {
			bad("tls.cache_dir", "is unused with tls.cache \"store\" (certificates are kept in store.driver %s)", c.Store.Driver)
		}
	default:
		bad("tls.cache", "%q is not dir or store", t.Cache)
	}
	if t.RedirectHTTP != "" && !t.Enabled() {
		bad("tls.redirect_http", "needs TLS (cert_file or domains): it sends clients to HTTPS")
	}
	if t.HSTS && !t.Enabled() {
		bad("tls.hsts", "needs TLS (cert_file or domains)")
	}
	if c.HTTP2.MaxConcurrentStreams < 1 || c.HTTP2.MaxConcurrentStreams > 1000 {
		bad("http2.max_concurrent_streams", "must be between 1 and 1000")
	}
	if c.HTTP2.H2C && t.Enabled() {
		bad("http2.h2c", "is for a plain listener behind a load balancer; with TLS, HTTP/2 is negotiated")
	}
	if c.HTTP2.H2C && !c.HTTP2.Enabled {
		bad("http2.h2c", "needs http2.enabled")
	}
}

func (c *Config) validateRealtime(bad func(string, string, ...any)) {
	rt := c.Realtime
	if rt.MaxSessions < 1 {
		bad("realtime.max_sessions", "must be at least 1")
	}
	if rt.MaxSession < Duration(time.Second) || rt.MaxSession > Duration(24*time.Hour) {
		bad("realtime.max_session", "must be between 1s and 24h")
	}
	if rt.IdleTimeout < Duration(time.Second) {
		bad("realtime.idle_timeout", "must be at least 1s")
	}
	if rt.MaxMessageBytes < 64<<10 {
		bad("realtime.max_message_bytes", "must be at least 65536")
	}
	if rt.RevocationCheck < Duration(100*time.Millisecond) || rt.RevocationCheck > Duration(time.Minute) {
		bad("realtime.revocation_check", "must be between 100ms and 1m")
	}
}

// validDomain accepts what an ACME CA issues for over HTTP-01/TLS-ALPN-01:
// a dotted DNS name, no wildcard, no IP.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(strings.Trim(d, "."), ".") || strings.HasSuffix(d, ".") {
		return false
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (c *Config) validateStore(bad func(string, string, ...any)) {
	st := c.Store
	switch st.Driver {
	case "sqlite":
	case "redis", "postgres":
		if st.URL == "" {
			bad("store.url", "is required for driver %s", st.Driver)
		}
	default:
		bad("store.driver", "%q is not sqlite, redis or postgres", st.Driver)
	}
	switch st.LogDriver {
	case "":
		if st.LogURL != "" {
			bad("store.log_url", "is set but store.log_driver is empty")
		}
	case "postgres":
		if st.LogURL == "" {
			bad("store.log_url", "is required when store.log_driver is set")
		}
	default:
		bad("store.log_driver", "%q is not postgres (or empty for the main store)", st.LogDriver)
	}
	if !oneOf(st.OnUnavailable, "fail_closed", "fail_open") {
		bad("store.on_unavailable", "%q is not fail_closed or fail_open", st.OnUnavailable)
	}
	if st.PoolSize < 0 {
		bad("store.pool_size", "must not be negative (0: driver default)")
	}
	if st.Timeout <= 0 {
		bad("store.timeout", "must be a positive duration")
	}
}

func (c *Config) validateAccounting(bad func(string, string, ...any)) {
	if c.SubjectLimit.Calls < 0 {
		bad("subject_limit.calls", "must not be negative (0 turns it off)")
	}
	if c.SubjectLimit.Window < Duration(time.Second) {
		bad("subject_limit.window", "must be at least 1s")
	}
	if !oneOf(c.Accounting.OnDisconnect, "cancel", "drain") {
		bad("accounting.on_disconnect", "%q is not cancel or drain", c.Accounting.OnDisconnect)
	}
	if c.Accounting.DrainTimeout <= 0 {
		bad("accounting.drain_timeout", "must be a positive duration")
	}
	if c.Accounting.LeaseTTL < Duration(3*time.Second) {
		bad("accounting.lease_ttl", "must be at least 3s (leases renew every third of it)")
	}
	if c.Accounting.OutputReserve < 1 || c.Accounting.UnknownModelOutput < 1 {
		bad("accounting", "output_reserve and unknown_model_output must be at least 1")
	}
	if !oneOf(c.Accounting.ServerSideContext, "refuse", "reserve") {
		bad("accounting.server_side_context", "%q is not refuse or reserve", c.Accounting.ServerSideContext)
	}
	if c.Accounting.ServerSideContextTokens < 1 {
		bad("accounting.server_side_context_tokens", "must be at least 1")
	}
	for name, m := range c.Models {
		if m.MaxOutputTokens < 0 || m.ContextWindow < 0 || m.ImageOutputTokens < 0 || !oneOf(m.CapParam, "", "max_tokens", "max_completion_tokens") {
			bad("models."+name, "token counts must not be negative; cap_param is max_tokens or max_completion_tokens")
		}
	}
	if c.RequestLog.Retention < Duration(time.Hour) {
		bad("request_log.retention", "must be at least 1h")
	}
	if c.Upstream.MaxRetries < 0 || c.Upstream.MaxRetries > 10 {
		bad("upstream.max_retries", "must be between 0 and 10")
	}
	if c.Upstream.RetryBase <= 0 || c.Upstream.RetryMaxTotal <= 0 {
		bad("upstream", "retry_base_delay and retry_max_total must be positive durations")
	}
}

func (p Provider) validate() error {
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("base_url %q must be an http(s) URL without query or credentials", p.BaseURL)
		}
	}
	if p.Auth != "" && !oneOf(p.Auth, AuthStyles...) {
		return fmt.Errorf("auth %q is not one of %s", p.Auth, strings.Join(AuthStyles, ", "))
	}
	for i, ref := range p.APIKeys {
		if (ref.Env == "") == (ref.File == "") {
			return fmt.Errorf("api_keys[%d] must name exactly one of env or file (never the key itself)", i)
		}
	}
	for _, api := range p.APIs {
		if !oneOf(api, APIFamilies...) {
			return fmt.Errorf("apis: %q is not one of %s", api, strings.Join(APIFamilies, ", "))
		}
	}
	for _, h := range append(append([]string{}, p.AllowRequestHeaders...), p.AllowResponseHeaders...) {
		if name := strings.TrimSuffix(h, "*"); name == "" || strings.ContainsAny(name, "* :\t\r\n") {
			return fmt.Errorf("allow_*_headers: %q is not a header name (a trailing * matches a prefix)", h)
		}
	}
	for route, tokens := range p.FixedCharges {
		method, path, ok := strings.Cut(route, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") || tokens < 1 {
			return fmt.Errorf("fixed_charges: %q must be \"METHOD /path\" with a charge of at least 1 token", route)
		}
	}
	return nil
}

// APIFamilies are the API dialects a provider may speak.
var APIFamilies = []string{"openai", "anthropic", "gemini", "azure"}

// AuthStyles are the ways a provider takes its API key.
var AuthStyles = []string{"bearer", "x-api-key", "api-key", "x-goog-api-key", "none"}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
