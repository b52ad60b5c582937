package mockprovider

import (
	"fmt"
	"net/http"
)

// maxChatN bounds `n` as OpenAI does ("minimum: 1, maximum: 128" for
// CreateChatCompletionRequest.n and CreateCompletionRequest.n in
// https://github.com/openai/openai-openapi openapi.yaml).
const maxChatN = 128

type chatRequest struct {
	Model         string    `json:"model"`
	Messages      []message `json:"messages"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	N                   *int `json:"n"`
}

// chatCompletions answers POST /v1/chat/completions
// (https://platform.openai.com/docs/api-reference/chat/create).
func (c *call) chatCompletions() {
	var req chatRequest
	if !c.decode(apiOpenAI, &req) || !c.needModel(&req.Model) {
		return
	}
	switch {
	case len(req.Messages) == 0:
		c.fail(apiOpenAI, http.StatusBadRequest, "[] is too short - 'messages'")
		return
	case req.StreamOptions != nil && !req.Stream:
		c.fail(apiOpenAI, http.StatusBadRequest, "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
		return
	}
	n, ok := c.checkRange("n", req.N, 1, 1, maxChatN)
	if !ok {
		return
	}
	limit, ok := c.checkOpenAICaps(req.Model,
		openAICapParam{"max_tokens", req.MaxTokens}, openAICapParam{"max_completion_tokens", req.MaxCompletionTokens})
	if !ok {
		return
	}
	texts := make([]string, 0, len(req.Messages))
	for _, m := range req.Messages {
		texts = append(texts, contentText(m.Content))
	}
	prompt := PromptTokens(texts...)
	chs := repeat(c.generate(lastUser(req.Messages), openAIReasoningTokens(req.Model), limit), n)
	base := chatBase{ID: c.newID("chatcmpl-mock"), Created: c.p.opts.Now().Unix(), Model: req.Model,
		ServiceTier: "default", SystemFingerprint: "fp_mock"}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	c.openAIHeaders()
	switch {
	case c.hugeBytes > 0:
		c.hugeChat(base, req.Stream, includeUsage, prompt)
	case req.Stream:
		c.chatStream(base, prompt, chs, includeUsage)
	default:
		c.chatJSON(base, prompt, chs)
	}
}

// openAIReasoningTokens is what model spends reasoning before it answers.
func openAIReasoningTokens(model string) int {
	if isReasoningModel(model) {
		return reasoningTokens
	}
	return 0
}

// checkRange reads an optional integer parameter (def when absent) and
// answers OpenAI's 400 when it is out of [lo, hi].
func (c *call) checkRange(name string, v *int, def, lo, hi int) (int, bool) {
	switch {
	case v == nil:
		return def, true
	case *v < lo:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", name, "integer_below_min_value",
			fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= %d, but got %d instead.", name, lo, *v))
		return 0, false
	case *v > hi:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", name, "integer_above_max_value",
			fmt.Sprintf("Invalid '%s': integer above maximum value. Expected a value <= %d, but got %d instead.", name, hi, *v))
		return 0, false
	}
	return *v, true
}

// finishReason is OpenAI's finish_reason for a choice.
func finishReason(ch choice) string {
	if ch.truncated {
		return "length"
	}
	return "stop"
}

func (c *call) chatJSON(base chatBase, prompt int, chs []choice) {
	completion, reasoning := sumCompletion(chs)
	c.bill(prompt, completion, reasoning)
	base.Object = "chat.completion"
	resp := chatCompletion{chatBase: base, Choices: make([]chatChoice, len(chs))}
	for i, ch := range chs {
		resp.Choices[i] = chatChoice{Index: i, FinishReason: finishReason(ch),
			Message: &chatMessage{Role: "assistant", Content: ch.text(), Annotations: []any{}}}
	}
	if !c.omitUsage {
		u := newUsage(prompt, completion, reasoning)
		resp.Usage = &u
	}
	writeJSON(c.w, http.StatusOK, resp, true)
}

// chatStream streams the choices: a role chunk per choice, the content
// chunks round-robin, a finish chunk per choice, then (with include_usage)
// the usage chunk and [DONE] — the order of
// https://platform.openai.com/docs/api-reference/chat-streaming.
func (c *call) chatStream(base chatBase, prompt int, chs []choice, includeUsage bool) {
	base.Object = "chat.completion.chunk"
	withUsage := includeUsage && !c.omitUsage
	chunk := func(i int, delta map[string]any, finish any) chatChunk {
		return chatChunk{chatBase: base, withUsage: withUsage,
			Choices: []chatChoice{{Index: i, Delta: delta, FinishReason: finish}}}
	}
	c.startStream(prompt, chs)
	s := c.startSSE()
	defer s.done()
	for i := range chs {
		if !s.event("", chunk(i, map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
			return
		}
	}
	for n, st := range c.steps(chs) {
		if !s.beforeChunk(n) || !s.event("", chunk(st.choice, map[string]any{"content": st.text}, nil)) {
			return
		}
		c.produce(st.tokens)
	}
	for i, ch := range chs {
		if !s.event("", chunk(i, map[string]any{}, finishReason(ch))) {
			return
		}
	}
	if withUsage {
		completion, reasoning := sumCompletion(chs)
		u := newUsage(prompt, completion, reasoning)
		if !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{}, Usage: &u, withUsage: true}) {
			return
		}
	}
	s.event("", "[DONE]")
}
