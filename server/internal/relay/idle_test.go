package relay_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/relay"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// idleRig is a bare relay.Handler (no config: Options.UpstreamIdle has no
// config key yet) in front of the mock provider.
type idleRig struct {
	url    string
	mint   *token.MintKey
	store  *sqlitestore.Store
	mu     sync.Mutex
	fields []*reqlog.Fields
	// upstreamEnded receives when an upstream request's context ended
	// while the provider was still answering.
	upstreamEnded chan time.Time
}

func newIdleRig(t *testing.T, idle time.Duration) *idleRig {
	t.Helper()
	r := &idleRig{upstreamEnded: make(chan time.Time, 8)}
	mock := mockprovider.New(mockprovider.Options{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		stop := context.AfterFunc(req.Context(), func() { r.upstreamEnded <- time.Now() })
		defer stop()
		mock.ServeHTTP(w, req)
	}))
	t.Cleanup(up.Close)
	key, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	r.mint, _ = key.MintKey()
	keys := token.NewKeyring()
	if err := key.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	providers, err := provider.New(map[string]config.Provider{"mock": {BaseURL: up.URL, Auth: "bearer", AllowRequestHeaders: []string{"x-mock-*"}}})
	if err != nil {
		t.Fatal(err)
	}
	r.store, err = sqlitestore.Open(filepath.Join(t.TempDir(), "relayapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	h, err := relay.New(relay.Options{
		Keys: keys, Providers: providers, Store: r.store, Transport: transport,
		ClientIP:   func(*http.Request) netip.Addr { return netip.MustParseAddr("127.0.0.1") },
		CacheBytes: 1 << 20, MaxBodyBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler),
		LeaseTTL: time.Minute, DrainTimeout: time.Minute, UpstreamIdle: idle,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f := &reqlog.Fields{}
		defer func() {
			r.mu.Lock()
			r.fields = append(r.fields, f)
			r.mu.Unlock()
		}()
		h.ServeHTTP(w, req.WithContext(reqlog.With(req.Context(), f)))
	}))
	t.Cleanup(func() { srv.Close(); transport.CloseIdleConnections(); r.store.Close() })
	r.url = srv.URL
	return r
}

func (r *idleRig) token(t *testing.T) (id, tok string) {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id = base64.RawURLEncoding.EncodeToString(b)
	tok, err := token.Encode(&token.Claims{
		ID: id, ExpiresAt: time.Now().Add(time.Hour).Unix(), Provider: "mock", APIKey: "sk-test",
		Concurrency: 1, TokenBudget: 100_000,
	}, r.mint)
	if err != nil {
		t.Fatal(err)
	}
	return id, tok
}

func (r *idleRig) stream(t *testing.T, tok string, headers map[string]string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.url+"/t/"+tok+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi there"}]}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return http.DefaultClient.Do(req)
}

// waitSettled polls (bounded) until the token's reservation is released.
func (r *idleRig) waitSettled(t *testing.T, id string) (calls, completion int64, lastError string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, ok, err := r.store.Usage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok && u.Reserved == 0 {
			return u.Calls, u.CompletionTokens, u.LastError
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reservation was not released: %+v", u)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A provider that sends headers and two chunks, then nothing, while the
// client waits: after UpstreamIdle the relay cancels the upstream request,
// the client's stream ends abruptly, the call is charged its estimate and
// the lease is free.
func TestStalledUpstreamIsCutAfterUpstreamIdle(t *testing.T) {
	const idle = 300 * time.Millisecond
	r := newIdleRig(t, idle)
	id, tok := r.token(t)
	start := time.Now()
	resp, err := r.stream(t, tok, map[string]string{"x-mock-stall-after": "2"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err == nil || strings.Contains(string(data), "[DONE]") {
		t.Fatalf("a stalled stream must end with an error: %v %q", err, data)
	}
	if took < idle || took > idle+3*time.Second {
		t.Fatalf("the stalled stream lasted %v, UpstreamIdle is %v", took, idle)
	}
	select {
	case <-r.upstreamEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	calls, completion, lastError := r.waitSettled(t, id)
	if calls != 1 || completion < 2 || lastError != "upstream_timeout" {
		t.Fatalf("calls %d, completion %d, last_error %q", calls, completion, lastError)
	}
	r.mu.Lock()
	code := r.fields[0].Code
	r.mu.Unlock()
	if code != "upstream_timeout" {
		t.Fatalf("request log code %q", code)
	}
	// The concurrency-1 slot is free again.
	next, err := r.stream(t, tok, nil)
	if err != nil || next.StatusCode != 200 {
		t.Fatalf("next call: %v %v", next, err)
	}
	_, _ = io.Copy(io.Discard, next.Body)
	next.Body.Close()
}

// UpstreamIdle is an idle bound, not a total one: a stream slower in total
// than UpstreamIdle but never silent that long runs to its end.
func TestSlowButLiveStreamOutlivesUpstreamIdle(t *testing.T) {
	const idle = time.Second // 10× the gap between chunks
	r := newIdleRig(t, idle)
	id, tok := r.token(t)
	resp, err := r.stream(t, tok, map[string]string{"x-mock-chunks": "15", "x-mock-chunk-delay-ms": "100"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	start := time.Now()
	rd := bufio.NewReader(resp.Body)
	var last string
	for {
		line, err := rd.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		if strings.HasPrefix(line, "data:") {
			last = line
		}
	}
	resp.Body.Close()
	if last != "data: [DONE]\n" || time.Since(start) < idle {
		t.Fatalf("last event %q after %v", last, time.Since(start))
	}
	if calls, completion, _ := r.waitSettled(t, id); calls != 1 || completion != 15 {
		t.Fatalf("calls %d, completion %d", calls, completion)
	}
}
