package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

func TestEveryTokenLocationReachesTheProviderWithTheRealKeyOnly(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(nil)
	cases := []struct {
		name    string
		path    string
		headers map[string]string
	}{
		{"path", "/t/" + tok + "/v1/chat/completions", map[string]string{"Authorization": "Bearer unused"}},
		{"authorization", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + tok}},
		{"x-api-key", "/v1/chat/completions", map[string]string{"x-api-key": tok}},
		{"api-key", "/v1/chat/completions", map[string]string{"api-key": tok}},
		{"x-goog-api-key", "/v1/chat/completions", map[string]string{"x-goog-api-key": tok}},
		{"query token", "/v1/chat/completions?token=" + tok + "&keep=1", nil},
		{"query key", "/v1/chat/completions?key=" + tok, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mock.Reset()
			r := s.do("POST", tc.path, chatBody, tc.headers)
			if r.status != 200 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			reqs := mock.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d upstream requests", len(reqs))
			}
			got := reqs[0]
			if got.Key != realKey || got.Path != "/v1/chat/completions" {
				t.Fatalf("upstream saw key %q path %q", got.Key, got.Path)
			}
			for name, values := range got.Headers {
				for _, v := range values {
					if strings.Contains(v, tok) {
						t.Fatalf("token leaked upstream in header %s", name)
					}
				}
			}
			if strings.Contains(got.Query, tok) || strings.Contains(got.Query, "token=") || strings.Contains(got.Query, "key=") {
				t.Fatalf("token leaked upstream in query %q", got.Query)
			}
			if tc.name == "query token" && got.Query != "keep=1" {
				t.Fatalf("other query params must pass verbatim, got %q", got.Query)
			}
		})
	}
}

func TestRelayErrorsUseTheDocumentedCodeStatusAndShape(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) {
		c.Token.Leeway = 0
		c.Limits.MaxBodyBytes = 1024
	})
	st := func(mut func(*token.Claims)) string { return "/t/" + s.token(mut) + "/v1/chat/completions" }
	now := time.Now()
	cases := []struct {
		name, path, body string
		headers          map[string]string
		status           int
		code             string
	}{
		{"missing", "/v1/chat/completions", chatBody, nil, 401, "missing_token"},
		{"invalid", "/t/not-a-token/v1/chat/completions", chatBody, nil, 401, "invalid_token"},
		{"expired", st(func(c *token.Claims) { c.ExpiresAt = now.Add(-time.Minute).Unix(); c.IssuedAt = 0 }), chatBody, nil, 401, "token_expired"},
		{"not yet", st(func(c *token.Claims) { c.NotBefore = now.Add(time.Minute).Unix() }), chatBody, nil, 401, "token_not_yet_valid"},
		{"model", st(func(c *token.Claims) { c.Models = []string{"gpt-3.5*"} }), chatBody, nil, 403, "model_not_allowed"},
		{"no model", st(func(c *token.Claims) { c.Models = []string{"gpt-4o"} }), `{"messages":[]}`, nil, 403, "model_not_allowed"},
		{"model key in another case is ambiguous", st(func(c *token.Claims) { c.Models = []string{"gpt-4o"} }), `{"model":"o1-pro","MODEL":"gpt-4o"}`, nil, 400, "ambiguous_request"},
		{"path", st(func(c *token.Claims) { c.Paths = []string{"/v1/embeddings"} }), chatBody, nil, 403, "path_not_allowed"},
		{"origin", st(func(c *token.Claims) { c.Origins = []string{"https://good.example"} }), chatBody, map[string]string{"Origin": "https://evil.example"}, 403, "origin_not_allowed"},
		{"no origin", st(func(c *token.Claims) { c.Origins = []string{"https://good.example"} }), chatBody, nil, 403, "origin_not_allowed"},
		{"ip", st(func(c *token.Claims) { c.IPs = []string{"10.0.0.0/8"} }), chatBody, nil, 403, "ip_not_allowed"},
		{"provider", st(func(c *token.Claims) { c.Provider = "nowhere" }), chatBody, nil, 400, "unknown_provider"},
		{"model not string", st(nil), `{"model":42}`, nil, 400, "bad_request"},
		{"dot segment", "/t/" + s.token(nil) + "/v1/%2e%2e/admin", chatBody, nil, 400, "bad_request"},
		{"too large", st(nil), `{"model":"gpt-4o","pad":"` + strings.Repeat("x", 2000) + `"}`, nil, 413, "request_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mock.Reset()
			r := s.do("POST", tc.path, tc.body, tc.headers)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if !strings.Contains(string(r.body), `"type":"relayapi_error"`) {
				t.Fatalf("error shape: %s", r.body)
			}
			if n := mock.Stats().Requests; n != 0 {
				t.Fatalf("a refused request reached the provider (%d)", n)
			}
		})
	}
}

func TestAllowedOriginAndModelPatternPass(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) {
		c.Origins = []string{"https://*.example.com"}
		c.Models = []string{"gpt-4o*"}
		c.IPs = []string{"127.0.0.0/8", "::1"}
		c.Paths = []string{"/v1/chat/*"}
	})
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, map[string]string{"Origin": "https://app.example.com"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Fatalf("ACAO %q", got)
	}
	if vals := r.header.Values("Access-Control-Allow-Origin"); len(vals) != 1 {
		t.Fatalf("ACAO repeated: %v", vals)
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id })
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	// The relay's SQLite file has one writer, the relay itself: the
	// revocation goes through its admin API.
	auth := map[string]string{"Authorization": "Bearer " + adminKey}
	if r := s.do("POST", "/admin/tokens/"+id+"/revoke", "", auth); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	if r.status != 401 || r.code() != "token_revoked" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestPreflightIsAnsweredWithoutATokenOrACall(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	r := s.do("OPTIONS", "/v1/chat/completions", "", map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type",
	})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "authorization") {
		t.Fatalf("%d %v", r.status, r.header)
	}
	if mock.Stats().Requests != 0 {
		t.Fatal("preflight reached the provider")
	}
}

// A page outside a token's origins gets through the preflight so that it
// can read the relay's refusal instead of a bare network error; the
// request itself is refused and nothing reaches the provider.
func TestARefusedOriginIsReadableByThePage(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) { c.Origins = []string{"https://good.example"} })
	evil := map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
	r := s.do("OPTIONS", "/t/"+tok+"/v1/chat/completions", "", evil)
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://evil.example" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, map[string]string{"Origin": "https://evil.example"})
	if r.code() != "origin_not_allowed" || r.header.Get("Access-Control-Allow-Origin") != "https://evil.example" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "x-should-retry") || r.header.Get("X-Should-Retry") != "false" {
		t.Fatalf("refusal: %d %s %v", r.status, r.body, r.header)
	}
	if mock.Stats().Requests != 0 {
		t.Fatal("a refused origin reached the provider")
	}
}

// A browser token tried from a server (a script, a test, curl) fails for a
// reason nothing in the request shows: the answer names it.
func TestAnOriginsTokenWithoutOriginSaysItIsForBrowsers(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) { c.Origins = []string{"https://good.example"} })
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	if r.code() != "origin_not_allowed" || !strings.Contains(string(r.body), "sends no Origin header") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, map[string]string{"Origin": "https://good.example"})
	if r.status != 200 {
		t.Fatalf("with the page's Origin: %d %s", r.status, r.body)
	}
}

func TestStreamChunksArriveBeforeTheUpstreamFinishes(t *testing.T) {
	release := make(chan struct{})
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		<-release // the second event waits until the client has seen the first
		fmt.Fprint(w, "data: {\"n\":2}\n\ndata: [DONE]\n\n")
	})
	s := newStack(t, upstream, nil)
	resp, err := http.Post(s.url+"/t/"+s.token(nil)+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || line != "data: {\"n\":1}\n" {
		close(release)
		t.Fatalf("first event %q %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), `data: {"n":2}`) || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("rest %q", rest)
	}
}

func TestClientDisconnectCancelsTheUpstreamRequest(t *testing.T) {
	started := make(chan struct{})
	canceled := make(chan struct{})
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
		close(canceled)
	})
	s := newStack(t, upstream, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+s.token(nil)+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	resp.Body.Close()
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request was not cancelled after the client left")
	}
}

func TestMaxCallsHoldsUnderConcurrency(t *testing.T) {
	var hits atomic.Int64
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	s := newStack(t, upstream, nil)
	tok := s.token(func(c *token.Claims) { c.MaxCalls = 50 })
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 100, MaxIdleConnsPerHost: 100}}
	var wg sync.WaitGroup
	var ok, limited, other atomic.Int64
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(s.url+"/t/"+tok+"/v1/chat/completions", "application/json", strings.NewReader(chatBody))
			if err != nil {
				other.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if hits.Load() != 50 || ok.Load() != 50 || limited.Load() != 450 || other.Load() != 0 {
		t.Fatalf("upstream hits %d, ok %d, limited %d, other %d", hits.Load(), ok.Load(), limited.Load(), other.Load())
	}
}

func TestFailedUpstreamAttemptsAreRefunded(t *testing.T) {
	var fail atomic.Bool
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"message":"overloaded"}}`)
			return
		}
		fmt.Fprint(w, `{}`)
	})
	s := newStack(t, upstream, nil)
	tok := s.token(func(c *token.Claims) { c.MaxCalls = 1 })
	fail.Store(true)
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	if r.status != 503 || !strings.Contains(string(r.body), "overloaded") {
		t.Fatalf("upstream 5xx must pass through unchanged: %d %s", r.status, r.body)
	}
	fail.Store(false)
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("refunded call not available: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.code() != "call_limit_exceeded" {
		t.Fatalf("limit not enforced after refund: %d %s", r.status, r.body)
	}
}

func TestUnreachableAndSlowUpstreamsGiveClearErrorsAndRefunds(t *testing.T) {
	block := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	s := newStack(t, slow, func(c *config.Config) {
		c.Timeouts.UpstreamResponseHeader = config.Duration(200 * time.Millisecond)
		c.Providers["dead"] = config.Provider{BaseURL: "http://127.0.0.1:1", Auth: "bearer"}
	})
	t.Cleanup(func() { close(block) }) // runs before the upstream server's Close
	dead := s.token(func(c *token.Claims) { c.Provider = "dead"; c.MaxCalls = 1 })
	for i := 0; i < 2; i++ { // the second attempt proves the first was refunded
		r := s.do("POST", "/t/"+dead+"/v1/chat/completions", chatBody, nil)
		if r.status != 502 || r.code() != "upstream_unreachable" {
			t.Fatalf("dead upstream: %d %s", r.status, r.body)
		}
	}
	slowTok := s.token(func(c *token.Claims) { c.MaxCalls = 1 })
	for i := 0; i < 2; i++ {
		r := s.do("POST", "/t/"+slowTok+"/v1/chat/completions", chatBody, nil)
		if r.status != 504 || r.code() != "upstream_timeout" {
			t.Fatalf("slow upstream: %d %s", r.status, r.body)
		}
	}
}

func TestCallCountersSurviveARestartOnTheSameDataDir(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/relayapi.db"
	st, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := store.Admission{TokenID: "restart-token-000000001", MaxCalls: 3, ExpiresAt: time.Now().Add(time.Hour), Now: time.Now()}
	for i := 0; i < 3; i++ {
		if g, err := st.Admit(context.Background(), a); err != nil || g.Decision != store.Admitted {
			t.Fatalf("admit %d: %+v %v", i, g, err)
		}
	}
	st.Close()
	st, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if g, err := st.Admit(context.Background(), a); err != nil || g.Decision != store.CallLimitReached {
		t.Fatalf("after restart: %+v %v", g, err)
	}
	u, ok, err := st.Usage(context.Background(), a.TokenID)
	if err != nil || !ok || u.Calls != 3 {
		t.Fatalf("usage %+v %v %v", u, ok, err)
	}
}

func TestPerIPRateLimitAnswers429WithRetryAfter(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) { c.Limits.PerIPRPS = 1; c.Limits.PerIPBurst = 2 })
	tok := s.token(nil)
	var last response
	for i := 0; i < 3; i++ {
		last = s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	}
	if last.status != 429 || last.code() != "rate_limited" || last.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s %v", last.status, last.body, last.header)
	}
}

func TestBasePathPrefixesEveryRoute(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) { c.BasePath = "/relay" })
	if r := s.do("GET", "/relay/health", "", nil); r.status != 200 {
		t.Fatalf("health %d", r.status)
	}
	if r := s.do("GET", "/health", "", nil); r.status != 404 {
		t.Fatalf("unprefixed %d", r.status)
	}
	if r := s.do("POST", "/relay/t/"+s.token(nil)+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("relay %d %s", r.status, r.body)
	}
}

func TestLogsNeverContainTheTokenOrTheKey(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(nil)
	s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	s.do("POST", "/v1/chat/completions?token="+url.QueryEscape(tok), chatBody, nil)
	s.do("POST", "/t/"+tok[:len(tok)-3]+"xyz/v1/chat/completions", chatBody, nil)
	logs := s.logs.String()
	if !strings.Contains(logs, "/t/***/v1/chat/completions") {
		t.Fatalf("access log missing: %s", logs)
	}
	for _, secret := range []string{tok, tok[:40], realKey} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log leaked a secret")
		}
	}
}
