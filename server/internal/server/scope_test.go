package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
)

// A token reaches only what it names (issue 15): the model wherever the
// request names it, the provider's inference endpoints unless `paths`
// says more, the headers the official SDKs need each way.

func TestAModelInThePathIsCheckedWhateverTheBodySays(t *testing.T) {
	b := newBudgetRig(t, nil)
	gem := b.token(func(c *token.Claims) { c.Provider, c.Models = "mockgemini", []string{"gemini-2.0-flash"} })
	body := `{"model":"gemini-2.0-flash","contents":[{"parts":[{"text":"hi"}]}]}`
	if r := b.do("POST", "/t/"+gem+"/v1beta/models/gemini-2.5-pro:generateContent", body, nil); r.code() != "model_not_allowed" {
		t.Fatalf("Gemini path model with a decoy body: %d %s", r.status, r.body)
	}
	az := b.token(func(c *token.Claims) { c.Provider, c.Models = "mockazure", []string{"gpt-4o-mini"} })
	if r := b.do("POST", "/t/"+az+"/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", chatOf("gpt-4o-mini", "hi", ""), nil); r.code() != "model_not_allowed" {
		t.Fatalf("Azure deployment with a decoy body: %d %s", r.status, r.body)
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d refused calls reached the provider", n)
	}
}

func TestModelMapRewritesTheModelInThePath(t *testing.T) {
	b := newBudgetRig(t, nil)
	tok := b.token(func(c *token.Claims) {
		c.Provider, c.Models, c.ModelMap = "mockgemini", []string{"fast"}, map[string]string{"fast": "gemini-2.0-flash"}
	})
	r := b.do("POST", "/t/"+tok+"/v1beta/models/fast:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := b.mock.Requests()[0].Path; got != "/v1beta/models/gemini-2.0-flash:generateContent" {
		t.Fatalf("forwarded %s", got)
	}
}

func TestAmbiguousBodiesAreRefused(t *testing.T) {
	b := newBudgetRig(t, nil)
	mapped := b.token(func(c *token.Claims) {
		c.Models, c.ModelMap = []string{"fast"}, map[string]string{"fast": "gpt-4o-mini"}
	})
	for _, tc := range []struct{ body, contentType string }{
		{`{"model":"fast","Model":"gpt-4.1","messages":[]}`, "application/json"},
		{`{"model":"fast","stream":false,"STREAM":true,"messages":[]}`, "application/json"},
		{"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nfast\r\n--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4.1\r\n--b--\r\n",
			"multipart/form-data; boundary=b"},
	} {
		r := b.do("POST", "/t/"+mapped+"/v1/chat/completions", tc.body, map[string]string{"Content-Type": tc.contentType})
		if r.status != 400 || r.code() != "ambiguous_request" {
			t.Fatalf("%q: %d %s", tc.body, r.status, r.body)
		}
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d ambiguous calls reached the provider", n)
	}
}

func TestATokenWithoutPathsReachesInferenceOnly(t *testing.T) {
	b := newBudgetRig(t, nil)
	tok := b.token(func(c *token.Claims) { c.Models = []string{"gpt-4o-mini"} })
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/files/file-abc/content", ""},
		{"GET", "/v1/chat/completions", ""},
		{"GET", "/v1/chat/completions/chatcmpl-1", ""},
		{"GET", "/v1/responses/resp_1", ""},
		{"GET", "/v1/batches", ""},
		{"DELETE", "/v1/files/file-abc", `{"model":"gpt-4o-mini"}`},
		{"DELETE", "/v1/models/ft:gpt-4o-mini:org::abc", `{"model":"gpt-4o-mini"}`},
		{"POST", "/v1/fine_tuning/jobs", `{"model":"gpt-4o-mini","training_file":"file-abc"}`},
	} {
		r := b.do(tc.method, "/t/"+tok+tc.path, tc.body, nil)
		if r.status != 403 || r.code() != "path_not_allowed" {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d account requests reached the provider", n)
	}
	if r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), nil); r.status != 200 {
		t.Fatalf("inference: %d %s", r.status, r.body)
	}
	files := b.token(func(c *token.Claims) { c.Paths = []string{"/v1/responses/*"} })
	if r := b.do("GET", "/t/"+files+"/v1/responses/resp_x", "", nil); r.code() == "path_not_allowed" {
		t.Fatalf("a path the token lists was refused: %s", r.body)
	}
}

func TestModelListingsShowOnlyTheTokensModels(t *testing.T) {
	b := newBudgetRig(t, nil)
	tok := b.token(func(c *token.Claims) { c.Models = []string{"gpt-4o-mini", "o3-*"} })
	r := b.do("GET", "/t/"+tok+"/v1/models", "", map[string]string{"Accept-Encoding": "gzip"})
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	if r.status != 200 || json.Unmarshal(gunzipped(t, r), &list) != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "gpt-4o-mini,o3-mini" {
		t.Fatalf("listed %v", ids)
	}
	if r := b.do("GET", "/t/"+tok+"/v1/models/gpt-4o", "", nil); r.code() != "model_not_allowed" {
		t.Fatalf("another model's page: %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/t/"+tok+"/v1/models/gpt-4o-mini", "", nil); r.status != 200 {
		t.Fatalf("its own model's page: %d %s", r.status, r.body)
	}
}

func TestClientHeadersCannotSteerTheOperatorsAccount(t *testing.T) {
	b := newBudgetRig(t, func(c *config.Config) {
		p := c.Providers["mock"]
		p.Headers = map[string]string{"OpenAI-Project": "proj_operator"}
		c.Providers["mock"] = p
		a := c.Providers["mockazure"]
		a.AllowRequestHeaders = append(a.AllowRequestHeaders, "anthropic-beta")
		c.Providers["mockazure"] = a
	})
	tok := b.token(nil)
	steer := map[string]string{
		"OpenAI-Organization": "org_evil", "OpenAI-Project": "proj_evil", "Anthropic-Beta": "context-1m-2025-08-07",
		"X-HTTP-Method-Override": "DELETE", "X-Goog-User-Project": "evil", "X-Stainless-Lang": "python", "User-Agent": "OpenAI/Python 2.0",
	}
	if r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), steer); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h := b.mock.Requests()[0].Headers
	for _, name := range []string{"Openai-Organization", "Anthropic-Beta", "X-Http-Method-Override", "X-Goog-User-Project"} {
		if v := h.Get(name); v != "" {
			t.Errorf("%s: %q reached the provider", name, v)
		}
	}
	if got := h.Values("Openai-Project"); len(got) != 1 || got[0] != "proj_operator" {
		t.Errorf("OpenAI-Project %q: the operator's pinned value must win", got)
	}
	if h.Get("X-Stainless-Lang") != "python" || h.Get("User-Agent") != "OpenAI/Python 2.0" {
		t.Errorf("the SDK's own headers were dropped: %v", h)
	}
	b.mock.Reset()
	az := b.token(func(c *token.Claims) { c.Provider = "mockazure" })
	b.do("POST", "/t/"+az+"/openai/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), steer)
	if got := b.mock.Requests()[0].Headers.Get("Anthropic-Beta"); got == "" {
		t.Error("a header the operator allows for the provider was dropped")
	}
}

func TestProviderHeadersThatDescribeTheAccountStayAtTheRelay(t *testing.T) {
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Set-Cookie", "__cf_bm=abc; path=/")
		h.Set("Openai-Organization", "org-operator")
		h.Set("Openai-Project", "proj_operator")
		h.Set("X-Ratelimit-Remaining-Tokens", "29999000")
		h.Set("Anthropic-Ratelimit-Requests-Remaining", "4000")
		h.Set("Openai-Processing-Ms", "12")
		h.Set("X-Request-Id", "req_provider")
		if strings.HasSuffix(r.URL.Path, "/fail") {
			// A gateway that echoes the request in its errors.
			h.Set("X-Echo-Auth", r.Header.Get("Authorization"))
			h.Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"bad key %s (sent as %q)"}}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("Authorization"))
			return
		}
		h.Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	})
	s := newStack(t, up, func(c *config.Config) {
		p := c.Providers["mock"]
		p.AllowResponseHeaders = []string{"x-echo-*"}
		c.Providers["mock"] = p
	})
	tok := s.token(func(c *token.Claims) { c.Paths = []string{"/*"} })
	r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), nil)
	for _, name := range []string{"Set-Cookie", "Openai-Organization", "Openai-Project", "X-Ratelimit-Remaining-Tokens", "Anthropic-Ratelimit-Requests-Remaining"} {
		if v := r.header.Get(name); v != "" {
			t.Errorf("%s: %q reached the client", name, v)
		}
	}
	if r.header.Get("Openai-Processing-Ms") != "12" || r.header.Get("X-Request-Id") != "req_provider" {
		t.Errorf("headers clients read were dropped: %v", r.header)
	}
	r = s.do("POST", "/t/"+tok+"/v1/fail", `{}`, nil)
	if r.status != 401 || strings.Contains(string(r.body), realKey) || strings.Contains(fmt.Sprint(r.header), realKey) {
		t.Fatalf("the real key came back: %d %v %s", r.status, r.header, r.body)
	}
	if !strings.Contains(string(r.body), "[redacted]") {
		t.Fatalf("the provider's error lost its shape: %s", r.body)
	}
}

func TestPermanentRefusalsAreNotRetriedAndCarryARequestID(t *testing.T) {
	b := newBudgetRig(t, nil)
	tok := b.token(func(c *token.Claims) { c.Models = []string{"gpt-4o-mini"} })
	r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o", "hi", ""), nil)
	if r.code() != "model_not_allowed" || r.header.Get("X-Should-Retry") != "false" || r.header.Get("Request-Id") == "" ||
		r.header.Get("Request-Id") != r.header.Get("X-Request-Id") {
		t.Fatalf("%d %v", r.status, r.header)
	}
}

// A token whose provider keeps failing cannot make it see more than a
// bounded number of requests: refunds stop at max_calls.
func TestAFailingProviderSeesABoundedNumberOfRequestsPerToken(t *testing.T) {
	b := newBudgetRig(t, func(c *config.Config) { c.Upstream.RetryBase = config.Duration(time.Millisecond) })
	tok := b.token(func(c *token.Claims) { c.MaxCalls = 1 })
	statuses := map[int]int{}
	for range 10 {
		r := b.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), map[string]string{"x-mock-status": "500"})
		statuses[r.status]++
	}
	// max_calls 1, one refund, three attempts each (upstream.max_retries 2).
	if n := b.mock.Stats().Requests; n != 2*1*3 {
		t.Fatalf("the provider saw %d requests (answers %v), want 2 × max_calls × (1 + retries) = 6", n, statuses)
	}
	if statuses[429] != 8 {
		t.Fatalf("answers %v, want the rest refused with call_limit_exceeded", statuses)
	}
}
