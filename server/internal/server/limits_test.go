package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// adminUsage reads a token's usage through the admin API.
func (s *stack) adminUsage(id string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/admin/tokens/"+id, "", map[string]string{"Authorization": "Bearer " + adminKey})
	var u map[string]any
	if err := json.Unmarshal(r.body, &u); err != nil || r.status != 200 {
		s.t.Fatalf("admin usage: %d %s", r.status, r.body)
	}
	return u
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// eventually polls cond (bounded) for state that settles after a response
// was delivered, such as settlement after a client disconnect.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRPMRefusesWithRetryAfterAndReportsRateHeaders(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), nil)
	tok := s.token(func(c *token.Claims) { c.RPM = 2 })
	first := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	if first.status != 200 || first.header.Get("X-Ratelimit-Limit-Requests") != "2" || first.header.Get("X-Ratelimit-Remaining-Requests") != "1" {
		t.Fatalf("%d %v", first.status, first.header)
	}
	s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	if r.status != 429 || r.code() != "rate_limited" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 30 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
}

func TestConcurrencyLimitHoldsUnder200ParallelStreams(t *testing.T) {
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int64
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	s := newStack(t, upstream, nil)
	tok := s.token(func(c *token.Claims) { c.Concurrency = 5 })
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 250, MaxIdleConnsPerHost: 250}}
	statuses := make(chan int, 200)
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(s.url+"/t/"+tok+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true}`))
			if err != nil {
				statuses <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	limited := 0
	for limited < 195 { // the 5 admitted streams are held open meanwhile
		switch st := <-statuses; st {
		case 429:
			limited++
		default:
			close(release)
			t.Fatalf("status %d while 5 streams were held", st)
		}
	}
	if inFlight.Load() != 5 {
		close(release)
		t.Fatalf("%d streams in flight upstream, want 5", inFlight.Load())
	}
	close(release)
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 200 {
			t.Fatalf("admitted stream ended with %d", st)
		}
	}
	if maxInFlight.Load() != 5 {
		t.Fatalf("max in flight %d", maxInFlight.Load())
	}
	// Every lease was released when its stream ended.
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", `{"model":"m"}`, nil); r.status != 200 {
		t.Fatalf("after the streams: %d %s", r.status, r.body)
	}
}

func TestConcurrencySlotIsReleasedWhenTheClientLeaves(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) { c.Concurrency = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("x-mock-chunk-delay-ms", "200")
	req.Header.Set("x-mock-chunks", "50")
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(resp.Body).ReadString('\n')
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.code() != "concurrency_limited" {
		t.Fatalf("second call while streaming: %d %s", r.status, r.body)
	}
	cancel()
	resp.Body.Close()
	eventually(t, "the slot to be released", func() bool {
		return s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil).status == 200
	})
}

type budgetCase struct {
	name, path, body string
}

func TestUsageIsRecordedForEveryFormatAndStreamingMode(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	msgs := `"messages":[{"role":"user","content":"count my tokens please"}]`
	cases := []budgetCase{
		{"openai json", "/v1/chat/completions", `{"model":"m",` + msgs + `}`},
		{"openai stream, usage injected", "/v1/chat/completions", `{"model":"m","stream":true,` + msgs + `}`},
		{"openai stream, usage asked", "/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},` + msgs + `}`},
		{"anthropic json", "/v1/messages", `{"model":"claude","max_tokens":50,` + msgs + `}`},
		{"anthropic stream", "/v1/messages", `{"model":"claude","max_tokens":50,"stream":true,` + msgs + `}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := cliID()
			tok := s.token(func(c *token.Claims) { c.ID = id; c.TokenBudget = 100000 })
			mock.Reset()
			r := s.do("POST", "/t/"+tok+tc.path, tc.body, map[string]string{"anthropic-version": "2023-06-01"})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			produced := mock.Requests()[0]
			if produced.ProducedPromptTokens == 0 || produced.ProducedCompletionTokens == 0 {
				t.Fatalf("the provider produced nothing: %+v", produced)
			}
			eventually(t, "settlement", func() bool { return num(s.adminUsage(id)["tokens_reserved"]) == 0 })
			u := s.adminUsage(id)
			if num(u["prompt_tokens"]) != int64(produced.ProducedPromptTokens) || num(u["completion_tokens"]) != int64(produced.ProducedCompletionTokens) {
				t.Fatalf("recorded %v/%v, provider produced %d/%d", u["prompt_tokens"], u["completion_tokens"],
					produced.ProducedPromptTokens, produced.ProducedCompletionTokens)
			}
			if strings.Contains(tc.name, "injected") && strings.Contains(string(r.body), `"usage"`) {
				t.Fatalf("the client got the usage the relay asked for: %s", r.body)
			}
			if strings.Contains(tc.name, "asked") {
				if p, c := reportedUsage(t, r.body); p != int64(produced.ProducedPromptTokens) || c != int64(produced.ProducedCompletionTokens) {
					t.Fatalf("the client asked for usage and got %d/%d", p, c)
				}
			}
		})
	}
}

// reportedUsage finds the provider's usage in a JSON body or an SSE stream
// (OpenAI final chunk, Anthropic message_start + message_delta).
func reportedUsage(t *testing.T, body []byte) (prompt, completion int64) {
	t.Helper()
	lines := []string{string(body)}
	if strings.Contains(string(body), "data:") {
		lines = nil
		for _, l := range strings.Split(string(body), "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok && d != "[DONE]" {
				lines = append(lines, d)
			}
		}
	}
	for _, l := range lines {
		var v struct {
			Usage *struct {
				Prompt, Completion, Input, Output int64
			} `json:"usage"`
			Message *struct {
				Usage struct {
					InputTokens int64 `json:"input_tokens"`
				} `json:"usage"`
			} `json:"message"`
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal([]byte(l), &raw) != nil {
			continue
		}
		_ = json.Unmarshal([]byte(l), &v)
		var u struct {
			PromptTokens     int64 `json:"prompt_tokens"`
			CompletionTokens int64 `json:"completion_tokens"`
			InputTokens      int64 `json:"input_tokens"`
			OutputTokens     int64 `json:"output_tokens"`
		}
		if raw["usage"] != nil {
			_ = json.Unmarshal(raw["usage"], &u)
			prompt += u.PromptTokens + u.InputTokens
			if u.CompletionTokens+u.OutputTokens > 0 {
				completion = u.CompletionTokens + u.OutputTokens
			}
		}
		if v.Message != nil {
			prompt += v.Message.Usage.InputTokens
		}
	}
	return prompt, completion
}

func TestBudgetIsAHardCapEvenUnderConcurrency(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{Chunks: 40})
	s := newStack(t, mock, nil)
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.TokenBudget = 300 })
	body := `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.do("POST", "/t/"+tok+"/v1/chat/completions", body, nil)
		}()
	}
	wg.Wait()
	for i := 0; i < 20; i++ {
		s.do("POST", "/t/"+tok+"/v1/chat/completions", body, nil)
	}
	u := s.adminUsage(id)
	if used := num(u["tokens_used"]); used > 300 || used == 0 {
		t.Fatalf("tokens used %d with a budget of 300", used)
	}
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", body, nil); r.code() != "budget_exceeded" {
		t.Fatalf("after the budget: %d %s", r.status, r.body)
	}
	for _, req := range mock.Requests() {
		if req.MaxTokens == nil || *req.MaxTokens > 300 {
			t.Fatalf("a request reached the provider without a clamped max_tokens: %v", req.MaxTokens)
		}
	}
}

func TestModelMapAndMaxTokensClaimRewriteTheForwardedBody(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) {
		c.Models = []string{"fast"}
		c.ModelMap = map[string]string{"fast": "gpt-4o-mini"}
		c.MaxTokens = 16
	})
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", `{"model":"fast","max_tokens":500,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got := mock.Requests()[0]
	if got.Model != "gpt-4o-mini" || got.MaxTokens == nil || *got.MaxTokens != 16 {
		t.Fatalf("forwarded model %q max_tokens %v", got.Model, got.MaxTokens)
	}
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[]}`, nil); r.code() != "model_not_allowed" {
		t.Fatalf("the mapped name itself must not pass the models check: %d", r.status)
	}
}

func TestModelMapStarSendsEveryOtherModelToOne(t *testing.T) {
	// What a 1.x ext_info {"rep_m": …} becomes: every model → that one.
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	tok := s.token(func(c *token.Claims) {
		c.ModelMap = map[string]string{"*": "gpt-4o-mini", "fast": "gpt-4.1-mini"}
	})
	for _, asked := range []string{"gpt-3.5-turbo", "gpt-4o", "fast"} {
		r := s.do("POST", "/t/"+tok+"/v1/chat/completions", `{"model":"`+asked+`","messages":[{"role":"user","content":"hi"}]}`, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", asked, r.status, r.body)
		}
	}
	var got []string
	for _, req := range mock.Requests() {
		got = append(got, req.Model)
	}
	if strings.Join(got, ",") != "gpt-4o-mini,gpt-4o-mini,gpt-4.1-mini" {
		t.Fatalf("the provider saw models %v", got)
	}
}

func TestDisconnectMidStreamChargesAnEstimateAndCancelsUpstream(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, nil)
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.TokenBudget = 100000 })
	streamAndLeave(t, s, tok, 3)
	eventually(t, "the upstream to be cancelled", func() bool { return mock.Stats().Canceled == 1 })
	eventually(t, "settlement", func() bool { return num(s.adminUsage(id)["tokens_reserved"]) == 0 })
	u := s.adminUsage(id)
	if num(u["prompt_tokens"]) == 0 || num(u["completion_tokens"]) < 3 {
		t.Fatalf("estimate not charged: %v", u)
	}
	eventually(t, "the request log", func() bool {
		r := s.do("GET", "/admin/requests?jti="+id, "", map[string]string{"Authorization": "Bearer " + adminKey})
		return strings.Contains(string(r.body), `"estimated":true`)
	})
}

func TestDrainModeRecordsTheProvidersExactUsage(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) { c.Accounting.OnDisconnect = "drain" })
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.TokenBudget = 100000 })
	streamAndLeave(t, s, tok, 2)
	eventually(t, "the drained stream to complete upstream", func() bool { return mock.Stats().Streams == 1 })
	eventually(t, "settlement", func() bool { return num(s.adminUsage(id)["tokens_reserved"]) == 0 })
	u := s.adminUsage(id)
	if num(u["completion_tokens"]) != 30 {
		t.Fatalf("drained usage %v, want the provider's 30 completion tokens", u)
	}
}

// streamAndLeave reads n events of a 30-chunk stream, then disconnects.
func streamAndLeave(t *testing.T, s *stack, tok string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"a long answer please"}]}`))
	req.Header.Set("x-mock-chunk-delay-ms", "20")
	req.Header.Set("x-mock-chunks", "30")
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	for seen := 0; seen < n+1; { // the role chunk, then n content chunks
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data:") {
			seen++
		}
	}
	cancel()
	resp.Body.Close()
}

func TestSubjectLimitSpansAllTokensOfAUser(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.SubjectLimit.Calls = 2 })
	a := s.token(func(c *token.Claims) { c.Subject = "user-7" })
	b := s.token(func(c *token.Claims) { c.Subject = "user-7" })
	other := s.token(func(c *token.Claims) { c.Subject = "user-8" })
	s.do("POST", "/t/"+a+"/v1/chat/completions", chatBody, nil)
	s.do("POST", "/t/"+b+"/v1/chat/completions", chatBody, nil)
	r := s.do("POST", "/t/"+b+"/v1/chat/completions", chatBody, nil)
	if r.status != 429 || r.code() != "call_limit_exceeded" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := s.do("POST", "/t/"+other+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("another user: %d", r.status)
	}
}

func TestRelayHeldKeysRotateAndA401KeyIsBenched(t *testing.T) {
	t.Setenv("TEST_KEY_A", "sk-relay-held-key-aaaaaaaaaaaa")
	t.Setenv("TEST_KEY_B", "sk-relay-held-key-bbbbbbbbbbbb")
	var seen []string
	var mu sync.Mutex
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen = append(seen, key)
		mu.Unlock()
		if strings.HasSuffix(key, "aaaa") {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"bad key"}}`)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	s := newStack(t, upstream, func(c *config.Config) {
		p := c.Providers["mock"]
		p.APIKeys = []config.KeyRef{{Env: "TEST_KEY_A"}, {Env: "TEST_KEY_B"}}
		c.Providers["mock"] = p
	})
	tok := s.token(func(c *token.Claims) { c.APIKey = "" })
	for i := 0; i < 4; i++ {
		if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	a := 0
	for _, k := range seen {
		if strings.HasSuffix(k, "aaaa") {
			a++
		}
	}
	if a != 1 || len(seen) != 5 {
		t.Fatalf("key A used %d times over %d attempts; want once, then benched", a, len(seen))
	}
	if strings.Contains(s.logs.String(), "sk-relay-held-key") {
		t.Fatal("a relay-held key reached the log")
	}
}

func TestUpstream5xxIsRetriedBeforeTheFirstByte(t *testing.T) {
	var attempts atomic.Int64
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	s := newStack(t, upstream, nil)
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.MaxCalls = 5 })
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if attempts.Load() != 2 || num(s.adminUsage(id)["calls"]) != 1 {
		t.Fatalf("attempts %d, calls %v", attempts.Load(), s.adminUsage(id)["calls"])
	}
}

func TestMetricsCountRequestsByProviderAndCode(t *testing.T) {
	s := newStack(t, mockprovider.New(mockprovider.Options{}), nil)
	tok := s.token(nil)
	s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil)
	s.do("POST", "/t/"+tok+"/v1/chat/completions", `{"model":42}`, nil)
	r := s.do("GET", "/metrics", "", nil)
	text := string(r.body)
	for _, want := range []string{
		`relayapi_requests_total{code="none",model="gpt-4o",provider="mock",status="200"} 1`,
		`code="bad_request"`, "relayapi_time_to_first_byte_seconds_bucket", "relayapi_tokens_total",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("metrics lack %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, tok[:30]) || strings.Contains(text, realKey) {
		t.Fatal("a secret reached the metrics")
	}
}
