package usage

import "testing"

func TestFormatForPathPicksAnthropicOnlyForMessagesAPI(t *testing.T) {
	cases := map[string]Format{
		"/v1/messages":                    Anthropic,
		"/v1/messages/":                   Anthropic,
		"/v1/messages?beta=true":          Anthropic,
		"/v1/messages/count_tokens":       Anthropic,
		"/t/TOKEN/v1/messages":            Anthropic,
		"/v1/chat/completions":            OpenAI,
		"/v1/responses":                   OpenAI,
		"/v1/embeddings":                  OpenAI,
		"/v1/threads/thread_abc/messages": OpenAI,
		"":                                OpenAI,
	}
	for path, want := range cases {
		if got := FormatForPath(path); got != want {
			t.Errorf("FormatForPath(%q) = %v, want %v", path, got, want)
		}
	}
}
