package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// The token budget against a provider that behaves like the real ones
// (mockprovider: compression, model limits, n, stored context, Gemini,
// Azure, reasoning tokens). Every test checks the accounting invariant:
// the relay charged at least what the provider produced (billed), and no
// token was charged more than its budget plus one call's clamp.

// budgetRig is a relay in front of the mock, with a Gemini-style
// provider beside the default one.
type budgetRig struct {
	*stack
	mock *mockprovider.Provider
}

func newBudgetRig(t *testing.T, mutate func(*config.Config)) *budgetRig {
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) {
		up := c.Providers["mock"].BaseURL
		c.Providers["mockgemini"] = config.Provider{BaseURL: up, Auth: "x-goog-api-key", APIs: []string{"gemini"}, AllowRequestHeaders: mockControls}
		c.Providers["mockazure"] = config.Provider{BaseURL: up, Auth: "api-key", APIs: []string{"azure", "openai"}, AllowRequestHeaders: mockControls}
		// The built-in openai provider, pointed at the mock: it caps chat
		// with max_completion_tokens.
		c.Providers["openai"] = config.Provider{BaseURL: up, AllowRequestHeaders: mockControls}
		if mutate != nil {
			mutate(c)
		}
	})
	return &budgetRig{stack: s, mock: mock}
}

func (b *budgetRig) budgetToken(budget int64, mutate func(*token.Claims)) (id, tok string) {
	id = cliID()
	tok = b.token(func(c *token.Claims) {
		c.ID, c.TokenBudget = id, budget
		if mutate != nil {
			mutate(c)
		}
	})
	return id, tok
}

// produced sums what the mock billed for every request it answered.
func (b *budgetRig) produced() (total int64) {
	for _, r := range b.mock.Requests() {
		total += int64(r.ProducedPromptTokens + r.ProducedCompletionTokens)
	}
	return total
}

// settledUsage waits for every call of the token to settle.
func (b *budgetRig) settledUsage(t *testing.T, id string) map[string]any {
	t.Helper()
	eventually(t, "settlement", func() bool { return num(b.adminUsage(id)["tokens_reserved"]) == 0 })
	return b.adminUsage(id)
}

// checkAccounting is the invariant every budget test ends with.
func (b *budgetRig) checkAccounting(t *testing.T, id string, budget, clamp int64) int64 {
	t.Helper()
	used := num(b.settledUsage(t, id)["tokens_used"])
	if p := b.produced(); used < p {
		t.Fatalf("charged %d tokens, the provider produced %d", used, p)
	}
	if used > budget+clamp {
		t.Fatalf("charged %d tokens on a budget of %d (one call's clamp is %d)", used, budget, clamp)
	}
	return used
}

func gunzipped(t *testing.T, r response) []byte {
	t.Helper()
	if r.header.Get("Content-Encoding") != "gzip" {
		return r.body
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const browserEncodings = "gzip, deflate, br, zstd"

func chatOf(model, user string, extra string) string {
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}]%s}`, model, user, extra)
}

// Case 1: compressed answers are metered, and the client still gets them
// compressed.
func TestCompressedAnswersAreMeteredAndStayCompressed(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(1000, nil)
	headers := map[string]string{"Accept-Encoding": browserEncodings, "x-mock-chunks": "500"}
	ok := 0
	for i := 0; i < 10; i++ {
		r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), headers)
		if r.status != 200 {
			if r.code() != "budget_exceeded" {
				t.Fatalf("call %d: %d %s", i, r.status, r.body)
			}
			continue
		}
		ok++
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("the client asked for gzip and got %q", r.header.Get("Content-Encoding"))
		}
		if !json.Valid(gunzipped(t, r)) {
			t.Fatal("the gzip body is not the provider's JSON")
		}
	}
	for _, req := range b.mock.Requests() {
		if got := req.Headers.Get("Accept-Encoding"); got != "gzip" {
			t.Fatalf("the provider was asked for %q, want gzip (the only coding the relay reads)", got)
		}
	}
	if ok > 2 {
		t.Fatalf("%d calls of ~510 tokens passed a budget of 1,000", ok)
	}
	b.checkAccounting(t, id, 1000, 0)
}

// Case 2: an answer far larger than any buffer is metered by a streaming
// scan.
func TestAnAnswerOf12MiBIsChargedWhatItReports(t *testing.T) {
	const size = 12 << 20
	b := newBudgetRig(t, func(c *config.Config) { c.Accounting.OutputReserve, c.Accounting.UnknownModelOutput = 1<<30, 1<<30 })
	id, tok := b.budgetToken(1<<30, nil)
	for _, enc := range []string{"identity", browserEncodings} {
		r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("huge-model", "hi", ""),
			map[string]string{"x-mock-huge-bytes": strconv.Itoa(size), "Accept-Encoding": enc})
		if r.status != 200 || len(gunzipped(t, r)) < size {
			t.Fatalf("%s: %d, %d bytes", enc, r.status, len(r.body))
		}
	}
	used := b.checkAccounting(t, id, 1<<30, 0)
	if used < 2*size/4 {
		t.Fatalf("two answers of %d bytes charged %d tokens", size, used)
	}
}

// Case 3: Gemini's native API is clamped with generationConfig and
// metered from usageMetadata, JSON and streams alike.
func TestGeminiCallsAreClampedAndMetered(t *testing.T) {
	b := newBudgetRig(t, nil)
	for _, tc := range []struct{ name, verb string }{
		{"generateContent", ":generateContent"},
		{"streamGenerateContent sse", ":streamGenerateContent?alt=sse"},
		{"streamGenerateContent json array", ":streamGenerateContent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.mock.Reset()
			id, tok := b.budgetToken(500, func(c *token.Claims) { c.Provider, c.MaxTokens = "mockgemini", 50 })
			body := `{"contents":[{"role":"user","parts":[{"text":"write a long essay please"}]}],"generationConfig":{"maxOutputTokens":8192}}`
			refused := 0
			for i := 0; i < 20 && refused == 0; i++ {
				r := b.do("POST", "/t/"+tok+"/v1beta/models/gemini-2.0-flash"+tc.verb, body,
					map[string]string{"x-mock-chunks": "8000", "Accept-Encoding": browserEncodings})
				switch {
				case r.code() == "budget_exceeded":
					refused++
				case r.status != 200:
					t.Fatalf("%d %s", r.status, r.body)
				}
			}
			if refused == 0 {
				t.Fatal("twenty calls of up to 50 tokens never used a budget of 500")
			}
			for i, req := range b.mock.Requests() {
				if got := req.Caps["maxOutputTokens"]; got > 50 || got < 1 || (i == 0 && got != 50) {
					t.Fatalf("call %d forwarded maxOutputTokens %v, want 50 (less once the budget runs low)", i, req.Caps)
				}
			}
			b.checkAccounting(t, id, 500, 50)
		})
	}
}

// Case 3, thinking: thought tokens are billed as output and counted.
func TestGeminiThoughtsAreCharged(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(100000, func(c *token.Claims) { c.Provider = "mockgemini" })
	r := b.do("POST", "/t/"+tok+"/v1beta/models/gemini-2.5-flash:generateContent",
		`{"contents":[{"role":"user","parts":[{"text":"think first"}]}]}`, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "thoughtsTokenCount") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	b.checkAccounting(t, id, 100000, 0)
	if u := b.adminUsage(id); num(u["completion_tokens"]) != int64(b.mock.Requests()[0].ProducedCompletionTokens) {
		t.Fatalf("completion %v, the provider billed %d", u["completion_tokens"], b.mock.Requests()[0].ProducedCompletionTokens)
	}
}

// Case 4: n, best_of and candidateCount multiply the reservation.
func TestChoicesMultiplyTheReservation(t *testing.T) {
	b := newBudgetRig(t, nil)
	for _, tc := range []struct {
		name, provider, path, body string
	}{
		{"chat n", "mock", "/v1/chat/completions", chatOf("gpt-4o-mini", "hi", `,"n":8`)},
		{"completions best_of", "mock", "/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"hi","n":2,"best_of":8}`},
		{"gemini candidateCount", "mockgemini", "/v1beta/models/gemini-2.0-flash:generateContent",
			`{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"candidateCount":8}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.mock.Reset()
			id, tok := b.budgetToken(1000, func(c *token.Claims) { c.Provider = tc.provider })
			r := b.do("POST", "/t/"+tok+tc.path, tc.body, map[string]string{"x-mock-chunks": "1000"})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			b.checkAccounting(t, id, 1000, 0)
		})
	}
}

// Case 5: context stored at the provider is refused on a budget token,
// or reserved at the operator's size.
func TestServerSideContextIsRefusedOrReserved(t *testing.T) {
	b := newBudgetRig(t, nil)
	_, tok := b.budgetToken(1000, nil)
	for _, body := range []string{
		`{"model":"gpt-4.1","input":"go on","previous_response_id":"resp_big"}`,
		`{"model":"gpt-4.1","input":"go on","conversation":"conv_big"}`,
		`{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}`,
		`{"model":"gpt-4.1","input":"search","tools":[{"type":"web_search"}]}`,
	} {
		r := b.do("POST", "/t/"+tok+"/v1/responses", body, nil)
		if r.status != 403 || r.code() != "parameter_not_metered" {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d refused calls reached the provider", n)
	}

	reserve := newBudgetRig(t, func(c *config.Config) { c.Accounting.ServerSideContext = "reserve" })
	seed(t, reserve.upstream.URL, `{"id":"resp_big","tokens":50000}`)
	_, tok = reserve.budgetToken(1000, nil)
	if r := reserve.do("POST", "/t/"+tok+"/v1/responses", `{"model":"gpt-4.1","input":"go on","previous_response_id":"resp_big"}`, nil); r.code() != "budget_exceeded" {
		t.Fatalf("a 32,768-token reservation passed a budget of 1,000: %d %s", r.status, r.body)
	}
	id, tok := reserve.budgetToken(200000, nil)
	for i := 0; i < 5; i++ {
		r := reserve.do("POST", "/t/"+tok+"/v1/responses", `{"model":"gpt-4.1","input":"go on","previous_response_id":"resp_big"}`, nil)
		if r.status != 200 && r.code() != "budget_exceeded" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	used := reserve.checkAccounting(t, id, 200000, 8192+32768)
	if used < 100000 {
		t.Fatalf("stored context of 50,000 tokens charged as %d in all", used)
	}
}

func seed(t *testing.T, base, body string) {
	t.Helper()
	resp, err := httpPost(base+"/_mock/stored", body)
	if err != nil || resp != 200 {
		t.Fatalf("seeding the mock: %d %v", resp, err)
	}
}

// Case 6: the client gets the stream it would get without the relay.
func TestTheRelaysUsageChunkNeverReachesTheClient(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(100000, nil)
	r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", `,"stream":true`), nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	chunks := 0
	for _, line := range strings.Split(string(r.body), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		chunks++
		var c map[string]json.RawMessage
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatal(err)
		}
		if _, has := c["usage"]; has {
			t.Fatalf("a chunk carries usage the client did not ask for: %s", data)
		}
		var choices []any
		if json.Unmarshal(c["choices"], &choices) != nil || len(choices) == 0 {
			t.Fatalf("chunk.choices[0] would fail in the client's loop: %s", data)
		}
	}
	if chunks < 3 || !strings.HasSuffix(string(r.body), "data: [DONE]\n\n") {
		t.Fatalf("stream: %s", r.body)
	}
	if req := b.mock.Requests()[0]; !strings.Contains(req.Body, `"include_usage":true`) {
		t.Fatalf("the provider was not asked for usage: %s", req.Body)
	}
	b.checkAccounting(t, id, 100000, 0)
	if u := b.adminUsage(id); num(u["completion_tokens"]) != int64(b.mock.Requests()[0].ProducedCompletionTokens) {
		t.Fatalf("charged %v, produced %+v", u, b.mock.Requests()[0])
	}
}

// Case 7: calls without max_tokens reserve what the model may produce,
// bounded by the output reserve — not the whole budget — and get the cap
// parameter their provider and model accept.
func TestCallsWithoutMaxTokensRunInParallelWithinTheModelsLimit(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(100000, nil)
	var wg sync.WaitGroup
	results := make([]response, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""),
				map[string]string{"x-mock-delay-ms": "200"})
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.status != 200 {
			t.Fatalf("parallel call %d: %d %s", i, r.status, r.body)
		}
	}
	for _, req := range b.mock.Requests() {
		if req.Caps["max_tokens"] == 0 || req.Caps["max_tokens"] > 16384 {
			t.Fatalf("forwarded caps %v: above gpt-4o-mini's 16,384", req.Caps)
		}
	}
	b.checkAccounting(t, id, 100000, 0)

	for _, tc := range []struct{ provider, model, param string }{
		{"mock", "o3-mini", "max_completion_tokens"},       // reasoning models refuse max_tokens
		{"openai", "gpt-4o-mini", "max_completion_tokens"}, // OpenAI deprecated max_tokens
		{"mock", "gpt-4o-mini", "max_tokens"},              // what OpenAI-compatible servers know
	} {
		b.mock.Reset()
		_, tok := b.budgetToken(100000, func(c *token.Claims) { c.Provider = tc.provider })
		if r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf(tc.model, "hi", ""), nil); r.status != 200 {
			t.Fatalf("%s %s: %d %s", tc.provider, tc.model, r.status, r.body)
		}
		if caps := b.mock.Requests()[0].Caps; len(caps) != 1 || caps[tc.param] == 0 {
			t.Fatalf("%s %s: forwarded caps %v, want %s", tc.provider, tc.model, caps, tc.param)
		}
	}
}

// Case 8: x-ratelimit-remaining-tokens is what the budget holds for other
// calls, before this call's own reservation.
func TestRemainingTokensHeaderIsTheBudgetLeftBeforeThisCall(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(100000, nil)
	r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), nil)
	if got := r.header.Get("X-Ratelimit-Remaining-Tokens"); got != "100000" {
		t.Fatalf("first call: remaining %q, want 100000", got)
	}
	used := num(b.settledUsage(t, id)["tokens_used"])
	r = b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), nil)
	if got, want := r.header.Get("X-Ratelimit-Remaining-Tokens"), strconv.FormatInt(100000-used, 10); got != want {
		t.Fatalf("second call: remaining %q, want %s", got, want)
	}
}

// Case 9: a stream that keeps to its cap is never cut; one that overruns
// it is ended the provider's way; either way the charge holds.
func TestWellBehavedStreamsRunToTheirOwnEnd(t *testing.T) {
	b := newBudgetRig(t, nil)
	for _, tc := range []struct{ name, path, body string }{
		{"openai", "/v1/chat/completions", chatOf("gpt-4o-mini", "hi", `,"stream":true,"stream_options":{"include_usage":true}`)},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.mock.Reset()
			id, tok := b.budgetToken(300, nil)
			r := b.do("POST", "/t/"+tok+tc.path, tc.body, map[string]string{"x-mock-chunks": "2000", "anthropic-version": "2023-06-01"})
			body := string(r.body)
			if r.status != 200 || strings.Contains(body, "budget_exceeded") {
				t.Fatalf("%d %s", r.status, body)
			}
			end := `"finish_reason":"length"`
			if tc.name == "anthropic" {
				end = `"stop_reason":"max_tokens"`
			}
			if !strings.Contains(body, end) || !(strings.HasSuffix(body, "data: [DONE]\n\n") || strings.Contains(body, "message_stop")) {
				t.Fatalf("the provider's own length stop did not reach the client: %s", body)
			}
			p, c := reportedUsage(t, r.body)
			req := b.mock.Requests()[0]
			if p+c != int64(req.ProducedPromptTokens+req.ProducedCompletionTokens) {
				t.Fatalf("the stream reported %d+%d, the provider billed %+v", p, c, req)
			}
			b.checkAccounting(t, id, 300, 0)
		})
	}
}

func TestAStreamPastItsCapIsEndedTheProvidersWay(t *testing.T) {
	b := newBudgetRig(t, nil)
	for _, tc := range []struct{ name, path, body, end string }{
		{"openai", "/v1/chat/completions", chatOf("gpt-4o-mini", "hi", `,"stream":true`), `"finish_reason":"length"`},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, `"stop_reason":"max_tokens"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.mock.Reset()
			id, tok := b.budgetToken(300, nil)
			r := b.do("POST", "/t/"+tok+tc.path, tc.body, map[string]string{
				"x-mock-ignore-max-tokens": "1", "x-mock-chunks": "5000", "x-mock-chunk-delay-ms": "1", "anthropic-version": "2023-06-01",
			})
			body := string(r.body)
			if r.status != 200 || !strings.Contains(body, tc.end) {
				t.Fatalf("%d %s", r.status, body)
			}
			if tc.name == "openai" && (!strings.HasSuffix(body, "data: [DONE]\n\n") || strings.Contains(body, `"usage"`)) {
				t.Fatalf("an OpenAI stream ends with a length chunk and [DONE], no usage unasked: …%s", body[max(0, len(body)-400):])
			}
			if tc.name == "anthropic" && !strings.HasSuffix(body, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
				t.Fatalf("an Anthropic stream ends with message_stop: …%s", body[max(0, len(body)-400):])
			}
			eventually(t, "the provider to be cancelled", func() bool { return b.mock.Stats().Canceled == 1 })
			b.checkAccounting(t, id, 300, 300)
		})
	}
}

// Fail closed: a 2xx without usage is charged its whole reservation.
func TestAnAnswerWithoutUsageIsChargedItsWholeReservation(t *testing.T) {
	b := newBudgetRig(t, nil)
	id, tok := b.budgetToken(100000, nil)
	r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", `,"max_tokens":100`), map[string]string{"x-mock-omit-usage": "1"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	u := b.settledUsage(t, id)
	if num(u["completion_tokens"]) != 100 || num(u["prompt_tokens"]) == 0 {
		t.Fatalf("charged %v, want the prompt estimate and the whole cap of 100", u)
	}
	eventually(t, "the request log", func() bool {
		r := b.do("GET", "/admin/requests?jti="+id, "", map[string]string{"Authorization": "Bearer " + adminKey})
		return strings.Contains(string(r.body), `"usage_source":"reservation"`)
	})
}

// Endpoints the relay cannot meter are refused on budget tokens unless
// the operator prices them; free ones pass and cost nothing.
func TestUnmeteredEndpointsAreRefusedUnlessPriced(t *testing.T) {
	b := newBudgetRig(t, func(c *config.Config) {
		p := c.Providers["mock"]
		p.FixedCharges = map[string]int64{"POST /v1/images/*": 700}
		c.Providers["mock"] = p
	})
	// Paths "/*": account endpoints pass the token's scope; the budget
	// still refuses what it cannot meter.
	id, tok := b.budgetToken(1000, func(c *token.Claims) { c.Paths = []string{"/*"} })
	for _, path := range []string{"/v1/fine_tuning/jobs", "/v1/audio/speech", "/v1/embeddings/x"} {
		if r := b.do("POST", "/t/"+tok+path, `{"model":"dall-e-3","prompt":"a cat"}`, nil); r.code() != "endpoint_not_metered" {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	if r := b.do("GET", "/t/"+tok+"/v1/models", "", nil); r.status != 200 {
		t.Fatalf("listing models: %d %s", r.status, r.body)
	}
	// DALL·E reports no usage: priced by the operator, it passes.
	if r := b.do("POST", "/t/"+tok+"/v1/images/generations", `{"model":"dall-e-3","prompt":"a cat"}`, nil); r.status != 200 {
		t.Fatalf("a priced endpoint: %d %s", r.status, r.body)
	}
	if u := b.settledUsage(t, id); num(u["tokens_used"]) != 700 {
		t.Fatalf("charged %v, want the fixed 700", u["tokens_used"])
	}
}

// Ambiguous bodies cannot steer the cap past the clamp.
func TestCapsSpeltTwiceAreRefused(t *testing.T) {
	b := newBudgetRig(t, nil)
	_, tok := b.budgetToken(1000, nil)
	for _, body := range []string{
		chatOf("gpt-4o-mini", "hi", `,"max_tokens":50,"MAX_TOKENS":99999`),
		chatOf("gpt-4o-mini", "hi", `,"n":1,"N":8`),
	} {
		if r := b.do("POST", "/t/"+tok+"/v1/chat/completions", body, nil); r.status != 400 {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	_, tok = b.budgetToken(1000, func(c *token.Claims) { c.Provider = "mockgemini" })
	body := `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":5},"generation_config":{"max_output_tokens":99999}}`
	if r := b.do("POST", "/t/"+tok+"/v1beta/models/gemini-2.0-flash:generateContent", body, nil); r.status != 400 {
		t.Fatalf("gemini: %d %s", r.status, r.body)
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d ambiguous calls reached the provider", n)
	}
}

// Azure routes by deployment: the model in the path is checked and
// decides the limits, whatever the body says.
func TestAzureDeploymentsAreCheckedAndClamped(t *testing.T) {
	b := newBudgetRig(t, nil)
	_, tok := b.budgetToken(100000, func(c *token.Claims) { c.Provider, c.Models = "mockazure", []string{"gpt-4o-mini"} })
	path := "/t/" + tok + "/openai/deployments/%s/chat/completions?api-version=2024-10-21"
	if r := b.do("POST", fmt.Sprintf(path, "gpt-4o"), chatOf("gpt-4o-mini", "hi", ""), nil); r.code() != "model_not_allowed" {
		t.Fatalf("another deployment with a decoy body model: %d %s", r.status, r.body)
	}
	if r := b.do("POST", fmt.Sprintf(path, "gpt-4o-mini"), `{"messages":[{"role":"user","content":"hi"}]}`, nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if caps := b.mock.Requests()[0].Caps; caps["max_tokens"] == 0 || caps["max_tokens"] > 16384 {
		t.Fatalf("forwarded caps %v", caps)
	}
}

func httpPost(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
