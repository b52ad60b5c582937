package headers

import (
	"net/http"
	"testing"
)

func TestRequestAllowlistKeepsWhatSDKsSendAndDropsAccountSwitches(t *testing.T) {
	h := http.Header{}
	for _, n := range []string{"Content-Type", "X-Stainless-Lang", "x-stainless-retry-count", "Anthropic-Version", "User-Agent",
		"OpenAI-Organization", "OpenAI-Project", "Anthropic-Beta", "X-HTTP-Method-Override", "X-Goog-User-Project", "Cookie", "X-Mock-Status"} {
		h.Set(n, "v")
	}
	Request.Filter(h)
	for _, n := range []string{"Content-Type", "X-Stainless-Lang", "X-Stainless-Retry-Count", "Anthropic-Version", "User-Agent"} {
		if h.Get(n) == "" {
			t.Errorf("%s was dropped", n)
		}
	}
	for _, n := range []string{"Openai-Organization", "Openai-Project", "Anthropic-Beta", "X-Http-Method-Override", "X-Goog-User-Project", "Cookie", "X-Mock-Status"} {
		if h.Get(n) != "" {
			t.Errorf("%s crossed", n)
		}
	}
}

func TestOperatorAdditionsAndPrefixes(t *testing.T) {
	a := Request.With([]string{"anthropic-beta", "x-mock-*"})
	for _, n := range []string{"Anthropic-Beta", "X-Mock-Status", "X-Mock-Chunk-Delay-Ms"} {
		if !a.Allows(n) {
			t.Errorf("%s not allowed", n)
		}
	}
	if Request.Allows("Anthropic-Beta") {
		t.Error("With changed the list it was called on")
	}
	if (Allowlist{}).Allows("Content-Type") {
		t.Error("the zero allowlist allowed a header")
	}
}

func TestResponseAllowlistDropsTheAccountsDetails(t *testing.T) {
	h := http.Header{}
	for _, n := range []string{"Content-Type", "X-Request-Id", "Retry-After", "Set-Cookie", "Openai-Organization",
		"X-Ratelimit-Remaining-Tokens", "Anthropic-Ratelimit-Requests-Remaining", "Cf-Ray", "Server", "Alt-Svc"} {
		h.Set(n, "v")
	}
	Response.Filter(h)
	if len(h) != 3 || h.Get("Content-Type") == "" || h.Get("X-Request-Id") == "" || h.Get("Retry-After") == "" {
		t.Errorf("kept %v", h)
	}
}
