package mockprovider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestChatNChoicesSumCompletionTokens(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, m := postJSON(t, srv.URL+"/v1/chat/completions", chatBody(`,"n":3`))
	want := CompletionPrefix + userMsg
	tokens := len(strings.Split(want, " "))
	choices := at(t, m, "choices").([]any)
	if len(choices) != 3 {
		t.Fatalf("%d choices", len(choices))
	}
	for i := range choices {
		if num(t, m, "choices", i, "index") != i || str(t, m, "choices", i, "message", "content") != want {
			t.Errorf("choice %d: %v", i, choices[i])
		}
	}
	if got := num(t, m, "usage", "completion_tokens"); got != 3*tokens {
		t.Errorf("completion_tokens %d, want %d", got, 3*tokens)
	}
}

// Streamed, each choice's chunks carry its index, each choice is capped
// on its own, and every choice gets a finish chunk.
func TestChatNChoicesStreamPerIndexEachCapped(t *testing.T) {
	_, srv := newServer(t, Options{})
	_, raw := send(t, http.DefaultClient, srv.URL+"/v1/chat/completions",
		chatBody(`,"n":2,"max_tokens":2,"stream":true,"stream_options":{"include_usage":true}`), "x-mock-chunks", "5")
	content := map[int]string{}
	finish := map[int]string{}
	evs := dataEvents(t, string(raw))
	for _, ev := range evs[:len(evs)-1] {
		i := num(t, ev, "choices", 0, "index")
		if c, ok := at(t, ev, "choices", 0, "delta").(map[string]any)["content"].(string); ok {
			content[i] += c
		}
		if f, ok := at(t, ev, "choices", 0, "finish_reason").(string); ok {
			finish[i] = f
		}
	}
	for i := 0; i < 2; i++ {
		if content[i] != "Hello from" || finish[i] != "length" {
			t.Errorf("choice %d: content %q finish %q", i, content[i], finish[i])
		}
	}
	if got := num(t, evs[len(evs)-1], "usage", "completion_tokens"); got != 4 {
		t.Errorf("usage completion_tokens %d, want 4 (2 choices × 2)", got)
	}
}

func TestChatNOutOfRangeIsRefused(t *testing.T) {
	_, srv := newServer(t, Options{})
	for n, msg := range map[int]string{
		0:   "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
		129: "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead.",
	} {
		code, m := postJSON(t, srv.URL+"/v1/chat/completions", chatBody(fmt.Sprintf(`,"n":%d`, n)))
		if code != 400 || str(t, m, "error", "message") != msg || str(t, m, "error", "param") != "n" {
			t.Errorf("n=%d: %d %v", n, code, m)
		}
	}
}
