package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/server"
)

// stack is a whole relay (real config, keyring, SQLite store, handlers)
// behind httptest, in front of an upstream handler.
type stack struct {
	t        testing.TB
	url      string
	mint     *token.MintKey
	upstream *httptest.Server
	dataDir  string
	logs     *syncBuffer
	// http is the client speaking the stack's protocol; nil: the default.
	http *http.Client
}

func (s *stack) client() *http.Client {
	if s.http != nil {
		return s.http
	}
	return http.DefaultClient
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mockControls lets the mock provider's test controls through.
var mockControls = []string{"x-mock-*"}

const (
	realKey  = "sk-real-upstream-key-0123456789"
	adminKey = "rak_test_admin_key_000000000000"
)

func newStack(t testing.TB, upstream http.Handler, mutate func(*config.Config)) *stack {
	t.Helper()
	s, cfg, keys := prepareStack(t, upstream, mutate)
	s.start(cfg, keys)
	return s
}

// prepareStack starts the upstream, makes a key and builds the validated
// test config (debug logs, no per-IP limit, the admin key, provider "mock"
// pointing at the upstream), leaving how to run the relay to the caller.
func prepareStack(t testing.TB, upstream http.Handler, mutate func(*config.Config)) (*stack, config.Config, *token.Keyring) {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	key, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, upstream: up, dataDir: t.TempDir(), logs: &syncBuffer{}}
	s.mint, _ = key.MintKey()
	keys := token.NewKeyring()
	if err := key.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = s.dataDir
	cfg.Log.Level = "debug"
	cfg.Limits.PerIPRPS = 0
	cfg.Admin.Key = adminKey
	// The mock's test controls (x-mock-*) cross the relay like any header
	// the operator allows.
	cfg.Providers = map[string]config.Provider{"mock": {BaseURL: up.URL, Auth: "bearer", AllowRequestHeaders: mockControls}}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, cfg, keys
}

func (s *stack) start(cfg config.Config, keys *token.Keyring) {
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	relay, err := server.New(cfg, keys, log)
	if err != nil {
		s.t.Fatal(err)
	}
	srv := httptest.NewServer(relay.Handler())
	s.t.Cleanup(func() { srv.Close(); relay.Close() })
	s.url = srv.URL
}

func (s *stack) token(mutate func(*token.Claims)) string {
	s.t.Helper()
	c := &token.Claims{
		ID: cliID(), ExpiresAt: time.Now().Add(time.Hour).Unix(), IssuedAt: time.Now().Unix(),
		Provider: "mock", APIKey: realKey,
	}
	if mutate != nil {
		mutate(c)
	}
	tok, err := token.Encode(c, s.mint)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func cliID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
			Type string `json:"type"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (s *stack) do(method, path string, body string, headers map[string]string) response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

const chatBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
