package mockprovider

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// CompletionPrefix starts every completion text.
const CompletionPrefix = "Hello from mock: "

// maxEcho bounds how much of the user message the completion echoes.
const maxEcho = 512

// message is an OpenAI or Anthropic chat message; content is a string or an
// array of parts.
type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// contentText returns the text of a content value: a string, or the "text"
// of every part of an array ({"type":"text","text":"…"}), concatenated.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// PromptTokens is the mock's deterministic token count for prompt texts:
// their total rune count divided by 4, at least 1.
func PromptTokens(texts ...string) int {
	n := 0
	for _, t := range texts {
		n += utf8.RuneCountInString(t)
	}
	if n/4 < 1 {
		return 1
	}
	return n / 4
}

// lastUser returns the text of the last message with role "user".
func lastUser(msgs []message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return contentText(msgs[i].Content)
		}
	}
	return ""
}

// CompletionTokens returns the completion the mock produces for the last
// user message: the text CompletionPrefix+user (user cut to 512 runes), split
// at spaces into tokens ("Hello", " from", " mock:", " …"), so that the tokens
// concatenate to the text. chunks > 0 sets the number of tokens: fewer cut
// the text, more append " tok5", " tok6"… (1-based token numbers).
// maxTokens > 0 caps the count; truncated reports whether the cap (not
// chunks) cut the completion.
func CompletionTokens(user string, chunks, maxTokens int) (tokens []string, truncated bool) {
	if utf8.RuneCountInString(user) > maxEcho {
		user = string([]rune(user)[:maxEcho])
	}
	words := strings.Split(CompletionPrefix+user, " ")
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		tokens = append(tokens, w)
	}
	if chunks > 0 {
		if chunks > maxChunks {
			chunks = maxChunks
		}
		for len(tokens) < chunks {
			tokens = append(tokens, fmt.Sprintf(" tok%d", len(tokens)+1))
		}
		tokens = tokens[:chunks]
	}
	if maxTokens > 0 && len(tokens) > maxTokens {
		return tokens[:maxTokens], true
	}
	return tokens, false
}

// ExpectedCompletion is the text CompletionTokens produces, for tests.
func ExpectedCompletion(user string, chunks, maxTokens int) string {
	t, _ := CompletionTokens(user, chunks, maxTokens)
	return strings.Join(t, "")
}
