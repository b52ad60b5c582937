package mockprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestLookupModelPicksLongestPrefixAtDash(t *testing.T) {
	for model, want := range map[string]int{
		"gpt-4o":                     16384,
		"gpt-4o-2024-08-06":          16384,
		"gpt-4o-2024-05-13":          4096,
		"gpt-4o-mini-2024-07-18":     16384,
		"gpt-4.1-nano-2025-04-14":    32768,
		"o3-mini-2025-01-31":         100000,
		"gpt-5-2025-08-07":           128000,
		"gpt-5-chat-latest":          16384,
		"claude-sonnet-4-20250514":   64000,
		"claude-opus-4-1-20250805":   32000,
		"claude-opus-4-20250514":     32000,
		"claude-3-5-haiku-latest":    8192,
		"claude-3-haiku-20240307":    4096,
		"claude-haiku-4-5-20251001":  64000,
		"claude-sonnet-4-5-20250929": 64000,
	} {
		table := openAIOutputLimits
		if strings.HasPrefix(model, "claude") {
			table = anthropicOutputLimits
		}
		if got, ok := lookupModel(table, model); !ok || got != want {
			t.Errorf("lookupModel(%q) = %d, %v; want %d", model, got, ok, want)
		}
	}
	for _, model := range []string{"m", "gpt-4o2", "gpt-5.5", "claude-mock-1", "o1x"} {
		if v, ok := lookupModel(openAIOutputLimits, model); ok {
			t.Errorf("lookupModel(%q) = %d, want no limit", model, v)
		}
	}
}

func TestOpenAICapAboveModelLimitIsRefusedInOpenAIShape(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, field := range []string{"max_tokens", "max_completion_tokens"} {
		resp, raw := send(t, http.DefaultClient, srv.URL+"/v1/chat/completions", chatBody(`,"`+field+`":99973`))
		want := fmt.Sprintf(`{"error":{"message":"%s is too large: 99973. This model supports at most 16384 completion tokens, whereas you provided 99973.","type":"invalid_request_error","param":"%s","code":"invalid_value"}}`, field, field)
		if resp.StatusCode != 400 || !sameJSON(t, raw, want) {
			t.Errorf("%s: %d %s\nwant %s", field, resp.StatusCode, raw, want)
		}
	}
	// At the limit is fine; an unknown model has no limit.
	for _, body := range []string{
		`{"model":"gpt-4o","max_tokens":16384,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"gpt-4.1-mini","max_completion_tokens":32768,"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"m","max_tokens":1000000,"messages":[{"role":"user","content":"x"}]}`,
	} {
		if resp, raw := send(t, http.DefaultClient, srv.URL+"/v1/chat/completions", body); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", body, resp.StatusCode, raw)
		}
	}
}

func TestReasoningModelRefusesMaxTokens(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, model := range []string{"o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano-2025-08-07"} {
		resp, raw := send(t, http.DefaultClient, srv.URL+"/v1/chat/completions",
			`{"model":"`+model+`","max_tokens":100,"messages":[{"role":"user","content":"x"}]}`)
		want := `{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`
		if resp.StatusCode != 400 || !sameJSON(t, raw, want) {
			t.Errorf("%s: %d %s", model, resp.StatusCode, raw)
		}
	}
}

// Reasoning tokens are spent first, billed in completion_tokens and
// reasoning_tokens, never streamed, and bounded by the cap.
func TestReasoningTokensCountInCompletionButAreNotStreamed(t *testing.T) {
	_, srv := newServer(t, Options{})
	visible := len(strings.Split(ExpectedCompletion("hi", 0, 0), " "))
	body := `{"model":"o4-mini","max_completion_tokens":%d,"messages":[{"role":"user","content":"hi"}]%s}`
	for _, tc := range []struct {
		cap, reasoning, visible int
		finish                  string
	}{
		{1000, reasoningTokens, visible, "stop"},
		{reasoningTokens + 2, reasoningTokens, 2, "length"},
		{50, 50, 0, "length"},
	} {
		_, m := postJSON(t, srv.URL+"/v1/chat/completions", fmt.Sprintf(body, tc.cap, ""))
		if got := num(t, m, "usage", "completion_tokens"); got != tc.reasoning+tc.visible {
			t.Errorf("cap %d: completion_tokens %d, want %d", tc.cap, got, tc.reasoning+tc.visible)
		}
		if got := num(t, m, "usage", "completion_tokens_details", "reasoning_tokens"); got != tc.reasoning {
			t.Errorf("cap %d: reasoning_tokens %d", tc.cap, got)
		}
		if got := str(t, m, "choices", 0, "finish_reason"); got != tc.finish {
			t.Errorf("cap %d: finish %q", tc.cap, got)
		}
		_, raw := send(t, http.DefaultClient, srv.URL+"/v1/chat/completions",
			fmt.Sprintf(body, tc.cap, `,"stream":true,"stream_options":{"include_usage":true}`))
		evs := dataEvents(t, string(raw))
		content := 0
		for _, ev := range evs[1 : len(evs)-2] {
			if c, ok := at(t, ev, "choices", 0, "delta").(map[string]any)["content"]; ok && c != "" {
				content++
			}
		}
		if content != tc.visible || num(t, evs[len(evs)-1], "usage", "completion_tokens") != tc.reasoning+tc.visible {
			t.Errorf("cap %d stream: %d content chunks, usage %v", tc.cap, content, evs[len(evs)-1]["usage"])
		}
	}
}

func TestAnthropicMaxTokensAboveModelLimitIsRefused(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, tc := range []struct {
		model  string
		max    int
		status int
		msg    string
	}{
		{"claude-sonnet-4-20250514", 100000, 400,
			"max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-20250514"},
		{"claude-opus-4-1-20250805", 32001, 400,
			"max_tokens: 32001 > 32000, which is the maximum allowed number of output tokens for claude-opus-4-1-20250805"},
		{"claude-3-5-haiku-latest", 8193, 400,
			"max_tokens: 8193 > 8192, which is the maximum allowed number of output tokens for claude-3-5-haiku-latest"},
		{"claude-opus-4-1-20250805", 32000, 200, ""},
		{"claude-mock-1", 1000000, 200, ""},
	} {
		body := fmt.Sprintf(`{"model":"%s","max_tokens":%d,"messages":[{"role":"user","content":"x"}]}`, tc.model, tc.max)
		code, m := postJSON(t, srv.URL+"/v1/messages", body, "anthropic-version", "2023-06-01")
		if code != tc.status {
			t.Errorf("%s %d: status %d %v", tc.model, tc.max, code, m)
			continue
		}
		if tc.status == 400 && (str(t, m, "error", "type") != "invalid_request_error" || str(t, m, "error", "message") != tc.msg) {
			t.Errorf("%s: %v", tc.model, m)
		}
	}
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%v in %q", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%v in %q", err, want)
	}
	return reflect.DeepEqual(g, w)
}
