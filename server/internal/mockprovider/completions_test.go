package mockprovider

import (
	"net/http"
	"strings"
	"testing"
)

func TestLegacyCompletionDefaultsToSixteenTokens(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, m := postJSON(t, srv.URL+"/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test"}`,
		"x-mock-chunks", "40")
	if str(t, m, "object") != "text_completion" || str(t, m, "choices", 0, "finish_reason") != "length" ||
		num(t, m, "usage", "completion_tokens") != defaultCompletionMaxTokens ||
		str(t, m, "choices", 0, "text") != ExpectedCompletion("Say this is a test", 40, 16) {
		t.Errorf("completion = %v", m)
	}
	if num(t, m, "usage", "prompt_tokens") != PromptTokens("Say this is a test") {
		t.Errorf("usage = %v", m["usage"])
	}
}

// best_of candidates are all billed; n of them are returned.
func TestLegacyCompletionBestOfBillsEveryCandidate(t *testing.T) {
	p, srv := newServer(t, Options{})
	_, m := postJSON(t, srv.URL+"/v1/completions",
		`{"model":"gpt-3.5-turbo-instruct","prompt":"hi","max_tokens":5,"n":2,"best_of":3}`, "x-mock-chunks", "9")
	if len(at(t, m, "choices").([]any)) != 2 || num(t, m, "usage", "completion_tokens") != 15 {
		t.Errorf("completion = %v", m)
	}
	r := lastRequest(t, p)
	if r.ProducedCompletionTokens != 15 || r.N != 2 || r.BestOf != 3 || r.Caps["max_tokens"] != 5 {
		t.Errorf("recorded %+v", r)
	}
}

func TestLegacyCompletionRules(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, body := range []string{
		`{"model":"i","prompt":"hi","n":3,"best_of":2}`,
		`{"model":"i","prompt":"hi","best_of":2,"stream":true}`,
		`{"model":"i","prompt":"hi","best_of":21}`,
		`{"model":"i"}`,
		`{"model":"i","prompt":"hi","max_tokens":-1}`,
	} {
		if code, m := postJSON(t, srv.URL+"/v1/completions", body); code != 400 || str(t, m, "error", "message") == "" {
			t.Errorf("%s: %d %v", body, code, m)
		}
	}
}

func TestLegacyCompletionStreamIncludeUsage(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, raw := send(t, http.DefaultClient, srv.URL+"/v1/completions",
		`{"model":"i","prompt":"hi","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`)
	if !strings.HasSuffix(string(raw), "data: [DONE]\n\n") {
		t.Fatalf("stream does not end with [DONE]: %q", raw)
	}
	evs := dataEvents(t, string(raw))
	var text strings.Builder
	for _, ev := range evs[:len(evs)-1] {
		if ev["usage"] != nil || !strings.Contains(string(raw), `"usage":null`) {
			t.Errorf("chunk before the last has usage %v", ev["usage"])
		}
		text.WriteString(str(t, ev, "choices", 0, "text"))
	}
	last := evs[len(evs)-1]
	if text.String() != "Hello from mock:" || len(at(t, last, "choices").([]any)) != 0 || num(t, last, "usage", "completion_tokens") != 3 {
		t.Errorf("text %q, last chunk %v", text.String(), last)
	}
	if got := str(t, evs[len(evs)-2], "choices", 0, "finish_reason"); got != "length" {
		t.Errorf("finish %q", got)
	}
}
