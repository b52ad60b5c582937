package mockprovider

import (
	"encoding/json"
	"net/http"
)

type anthropicRequest struct {
	Model     string          `json:"model"`
	Messages  []message       `json:"messages"`
	System    json.RawMessage `json:"system"`
	MaxTokens *int            `json:"max_tokens"`
	Stream    bool            `json:"stream"`
}

// messages answers POST /v1/messages in the Anthropic Messages API format
// (https://docs.anthropic.com/en/api/messages).
func (c *call) messages() {
	if c.r.Header.Get("Anthropic-Version") == "" {
		c.fail(apiAnthropic, http.StatusBadRequest, "anthropic-version: header is required")
		return
	}
	var req anthropicRequest
	if !c.decode(apiAnthropic, &req) || !c.checkAnthropic(req) {
		return
	}
	texts := []string{contentText(req.System)}
	for _, m := range req.Messages {
		texts = append(texts, contentText(m.Content))
	}
	input := PromptTokens(texts...)
	ch := c.generate(lastUser(req.Messages), 0, *req.MaxTokens)
	id := c.newID("msg_mock")
	if req.Stream {
		c.messagesStream(id, req.Model, input, ch)
		return
	}
	c.bill(input, ch.completion(), 0)
	resp := map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model,
		"content":       []any{map[string]any{"type": "text", "text": ch.text()}},
		"stop_reason":   stopReason(ch),
		"stop_sequence": nil,
	}
	if !c.omitUsage {
		resp["usage"] = anthropicUsage(input, ch.completion())
	}
	writeJSON(c.w, http.StatusOK, resp, false)
}

// checkAnthropic applies the Messages API's parameter rules.
func (c *call) checkAnthropic(req anthropicRequest) bool {
	switch {
	case req.Model == "":
		c.fail(apiAnthropic, http.StatusBadRequest, "model: Field required")
	case req.MaxTokens == nil:
		c.fail(apiAnthropic, http.StatusBadRequest, "max_tokens: Field required")
	case *req.MaxTokens < 1:
		c.fail(apiAnthropic, http.StatusBadRequest, "max_tokens: Input should be greater than or equal to 1")
	case len(req.Messages) == 0:
		c.fail(apiAnthropic, http.StatusBadRequest, "messages: at least one message is required")
	default:
		return c.checkAnthropicMaxTokens(req.Model, *req.MaxTokens)
	}
	return false
}

// stopReason: a length stop is "max_tokens"
// (https://docs.anthropic.com/en/api/handling-stop-reasons).
func stopReason(ch choice) string {
	if ch.truncated {
		return "max_tokens"
	}
	return "end_turn"
}

func anthropicUsage(input, output int) map[string]any {
	return map[string]any{
		"input_tokens": input, "cache_creation_input_tokens": 0,
		"cache_read_input_tokens": 0, "output_tokens": output, "service_tier": "standard",
	}
}

// messagesStream sends the event flow of
// https://docs.anthropic.com/en/docs/build-with-claude/streaming:
// message_start (usage.input_tokens), content_block_start, ping,
// content_block_delta…, content_block_stop, message_delta (cumulative
// usage.output_tokens), message_stop.
func (c *call) messagesStream(id, model string, input int, ch choice) {
	start := map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
	}
	delta := map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stopReason(ch), "stop_sequence": nil}}
	if !c.omitUsage {
		start["usage"] = anthropicUsage(input, 1)
		delta["usage"] = map[string]any{"output_tokens": ch.completion()}
	}
	c.startStream(input, []choice{ch})
	s := c.startSSE()
	defer s.done()
	if !s.event("message_start", map[string]any{"type": "message_start", "message": start}) ||
		!s.event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}}) ||
		!s.event("ping", map[string]any{"type": "ping"}) {
		return
	}
	for i, st := range c.steps([]choice{ch}) {
		if !s.beforeChunk(i) || !s.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": st.text}}) {
			return
		}
		c.produce(st.tokens)
	}
	if !s.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}) ||
		!s.event("message_delta", delta) {
		return
	}
	s.event("message_stop", map[string]any{"type": "message_stop"})
}
