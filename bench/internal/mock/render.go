package mock

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The shapes below follow OpenAI's chat.completion and chat.completion.chunk
// objects closely enough that a relay parses them as it would the real ones.

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func newUsage(completion int) *usage {
	return &usage{PromptTokens: promptTokens, CompletionTokens: completion, TotalTokens: promptTokens + completion}
}

type message struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

type completionChoice struct {
	Index        int     `json:"index"`
	Message      message `json:"message"`
	Logprobs     *string `json:"logprobs"`
	FinishReason string  `json:"finish_reason"`
}

type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *usage             `json:"usage"`
}

type delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type chunkChoice struct {
	Index        int     `json:"index"`
	Delta        delta   `json:"delta"`
	Logprobs     *string `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type chunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *usage        `json:"usage,omitempty"`
}

// filler is the answer text; plain ASCII so JSON needs no escaping and the
// body length is predictable.
const filler = "The quick brown fox jumps over the lazy dog while the relay forwards every byte. "

// renderCompletion builds a chat.completion of about size bytes by padding
// the message content.
func renderCompletion(created int64, size int) ([]byte, error) {
	c := completion{
		ID: completionID, Object: "chat.completion", Created: created,
		Model: model, SystemFingerprint: fingerprint,
		Choices: []completionChoice{{
			Message:      message{Role: "assistant", Content: "ok"},
			FinishReason: "stop",
		}},
		Usage: newUsage(1),
	}
	skeleton, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render completion: %w", err)
	}
	if pad := size - len(skeleton) + len("ok"); pad > len("ok") {
		text := strings.Repeat(filler, pad/len(filler)+1)[:pad]
		c.Choices[0].Message.Content = text
		// Roughly one token per word, as with English text.
		c.Usage = newUsage(max(1, len(strings.Fields(text))))
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render completion: %w", err)
	}
	return b, nil
}

func (h *Handler) renderEvent(first, last bool) ([]byte, error) {
	c := h.base
	d := delta{Content: " bench"}
	if first {
		d = delta{Role: "assistant", Content: "Hello"}
	}
	var finish *string
	if last {
		stop := "stop"
		finish = &stop
	}
	c.Choices = []chunkChoice{{Delta: d, FinishReason: finish}}
	return sseEvent(c)
}

// renderTail is the usage chunk OpenAI sends last (empty choices, as with
// stream_options.include_usage) followed by the [DONE] sentinel.
func (h *Handler) renderTail(n int) ([]byte, error) {
	c := h.base
	c.Choices = []chunkChoice{}
	c.Usage = newUsage(n)
	ev, err := sseEvent(c)
	if err != nil {
		return nil, err
	}
	return append(ev, "data: [DONE]\n\n"...), nil
}

func sseEvent(c chunk) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render chunk: %w", err)
	}
	ev := make([]byte, 0, len("data: ")+len(b)+2)
	ev = append(ev, "data: "...)
	ev = append(ev, b...)
	return append(ev, "\n\n"...), nil
}
