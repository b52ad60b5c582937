package mockprovider

import (
	"encoding/json"
	"net/http"
	"strings"
)

// messages answers POST /v1/messages in the Anthropic Messages API format.
func (c *call) messages() {
	if c.r.Header.Get("Anthropic-Version") == "" {
		c.fail(apiAnthropic, http.StatusBadRequest, "anthropic-version: header is required")
		return
	}
	var req struct {
		Model     string          `json:"model"`
		Messages  []message       `json:"messages"`
		System    json.RawMessage `json:"system"`
		MaxTokens *int            `json:"max_tokens"`
		Stream    bool            `json:"stream"`
	}
	if !c.decode(apiAnthropic, &req) {
		return
	}
	switch {
	case req.Model == "":
		c.fail(apiAnthropic, http.StatusBadRequest, "model: Field required")
		return
	case req.MaxTokens == nil:
		c.fail(apiAnthropic, http.StatusBadRequest, "max_tokens: Field required")
		return
	case *req.MaxTokens < 1:
		c.fail(apiAnthropic, http.StatusBadRequest, "max_tokens: Input should be greater than or equal to 1")
		return
	case len(req.Messages) == 0:
		c.fail(apiAnthropic, http.StatusBadRequest, "messages: at least one message is required")
		return
	}
	texts := []string{contentText(req.System)}
	for _, m := range req.Messages {
		texts = append(texts, contentText(m.Content))
	}
	input := PromptTokens(texts...)
	tokens, truncated := CompletionTokens(lastUser(req.Messages), c.chunks, *req.MaxTokens)
	stop := "end_turn"
	if truncated {
		stop = "max_tokens"
	}
	id := c.newID("msg_mock")

	if !req.Stream {
		writeJSON(c.w, http.StatusOK, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": req.Model,
			"content":       []any{map[string]any{"type": "text", "text": strings.Join(tokens, "")}},
			"stop_reason":   stop,
			"stop_sequence": nil,
			"usage": map[string]any{
				"input_tokens": input, "cache_creation_input_tokens": 0,
				"cache_read_input_tokens": 0, "output_tokens": len(tokens),
				"service_tier": "standard",
			},
		}, false)
		return
	}

	s := c.startSSE()
	defer s.done()
	if !s.event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens": input, "cache_creation_input_tokens": 0,
			"cache_read_input_tokens": 0, "output_tokens": 1, "service_tier": "standard",
		},
	}}) {
		return
	}
	if !s.event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}}) {
		return
	}
	if !s.event("ping", map[string]any{"type": "ping"}) {
		return
	}
	for i, t := range c.contentTokens(tokens) {
		if !s.beforeChunk(i) || !s.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": t}}) {
			return
		}
	}
	if !s.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}) {
		return
	}
	if !s.event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": len(tokens)}}) {
		return
	}
	s.event("message_stop", map[string]any{"type": "message_stop"})
}
