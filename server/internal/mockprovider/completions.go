package mockprovider

import (
	"encoding/json"
	"net/http"
)

// Legacy completions, POST /v1/completions
// (https://platform.openai.com/docs/api-reference/completions/create;
// CreateCompletionRequest in https://github.com/openai/openai-openapi):
// max_tokens defaults to 16, n is 1–128, best_of is 0–20 and "generates
// best_of completions server-side and returns the best … best_of must be
// greater than n … Results cannot be streamed". The mock bills all best_of
// candidates and returns n.
const (
	defaultCompletionMaxTokens = 16
	maxBestOf                  = 20
	// maxCompletionChoices bounds prompts × n, so one request cannot make
	// the mock build an unbounded answer.
	maxCompletionChoices = 2048
)

type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	MaxTokens     *int            `json:"max_tokens"`
	N             *int            `json:"n"`
	BestOf        *int            `json:"best_of"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// completionPlan is what one legacy completion request generates.
type completionPlan struct {
	prompt  int      // prompt tokens of all prompts
	choices []choice // n per prompt, in index order
	bestOf  int      // candidates billed per returned choice group
}

// billed is the completion tokens the request costs: best_of candidates
// per prompt, each as long as a returned choice.
func (pl completionPlan) billed(n int) int {
	total, _ := sumCompletion(pl.choices)
	return total / n * pl.bestOf
}

func (c *call) completions() {
	var req completionRequest
	if !c.decode(apiOpenAI, &req) || !c.needModel(&req.Model) {
		return
	}
	n, bestOf, maxTokens, ok := c.checkCompletion(req)
	if !ok {
		return
	}
	prompts, tokens, ok := embeddingInputs(req.Prompt)
	switch {
	case !ok:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "prompt", "",
			"'prompt' must be a string, an array of strings, an array of tokens, or an array of token arrays")
		return
	case len(prompts)*n > maxCompletionChoices:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "prompt", "",
			"mock limit: at most 2048 choices (prompts × n) per request")
		return
	}
	pl := completionPlan{prompt: tokens, bestOf: bestOf}
	for _, p := range prompts {
		pl.choices = append(pl.choices, repeat(c.generateUpTo(p, maxTokens), n)...)
	}
	c.openAIHeaders()
	base := map[string]any{"id": c.newID("cmpl-mock"), "object": "text_completion",
		"created": c.p.opts.Now().Unix(), "model": req.Model, "system_fingerprint": "fp_mock"}
	if req.Stream {
		c.completionStream(base, pl, n, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	c.bill(pl.prompt, pl.billed(n), 0)
	choices := make([]any, len(pl.choices))
	for i, ch := range pl.choices {
		choices[i] = map[string]any{"text": ch.text(), "index": i, "logprobs": nil, "finish_reason": finishReason(ch)}
	}
	base["choices"] = choices
	if !c.omitUsage {
		base["usage"] = completionUsage(pl.prompt, pl.billed(n))
	}
	writeJSON(c.w, http.StatusOK, base, true)
}

// generateUpTo is generate with a cap that may be 0 (no text at all).
func (c *call) generateUpTo(prompt string, maxTokens int) choice {
	if maxTokens == 0 && !c.ignoreCaps {
		return choice{truncated: true}
	}
	return c.generate(prompt, 0, maxTokens)
}

// checkCompletion reads n, best_of and max_tokens with their rules.
func (c *call) checkCompletion(req completionRequest) (n, bestOf, maxTokens int, ok bool) {
	if req.Prompt == nil {
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "prompt", "missing_required_parameter",
			"Missing required parameter: 'prompt'.")
		return 0, 0, 0, false
	}
	if n, ok = c.checkRange("n", req.N, 1, 1, maxChatN); !ok {
		return
	}
	if bestOf, ok = c.checkRange("best_of", req.BestOf, n, 0, maxBestOf); !ok {
		return
	}
	if maxTokens, ok = c.checkRange("max_tokens", req.MaxTokens, defaultCompletionMaxTokens, 0, 1<<20); !ok {
		return
	}
	switch {
	case bestOf < n:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "best_of", "invalid_value",
			"best_of must be greater than or equal to n.")
		return 0, 0, 0, false
	case req.Stream && bestOf > 1:
		c.openAIError(http.StatusBadRequest, "invalid_request_error", "best_of", "invalid_value",
			"Cannot stream results when best_of is greater than 1.")
		return 0, 0, 0, false
	case req.StreamOptions != nil && !req.Stream:
		c.fail(apiOpenAI, http.StatusBadRequest, "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
		return 0, 0, 0, false
	}
	return n, bestOf, maxTokens, true
}

func completionUsage(prompt, completion int) map[string]int {
	return map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

// completionStream sends text_completion chunks (the same object as the
// non-streamed answer), a final chunk per choice with its finish_reason,
// and with include_usage a usage chunk whose choices are empty, every other
// chunk carrying "usage": null as on chat.
func (c *call) completionStream(base map[string]any, pl completionPlan, n int, includeUsage bool) {
	withUsage := includeUsage && !c.omitUsage
	chunk := func(choices []any, usage any) map[string]any {
		m := make(map[string]any, len(base)+2)
		for k, v := range base {
			m[k] = v
		}
		m["choices"] = choices
		if withUsage {
			m["usage"] = usage
		}
		return m
	}
	one := func(i int, text string, finish any) []any {
		return []any{map[string]any{"text": text, "index": i, "logprobs": nil, "finish_reason": finish}}
	}
	c.startStream(pl.prompt, pl.choices)
	s := c.startSSE()
	defer s.done()
	for i, st := range c.steps(pl.choices) {
		if !s.beforeChunk(i) || !s.event("", chunk(one(st.choice, st.text, nil), nil)) {
			return
		}
		c.produce(st.tokens)
	}
	for i, ch := range pl.choices {
		if !s.event("", chunk(one(i, "", finishReason(ch)), nil)) {
			return
		}
	}
	if withUsage && !s.event("", chunk([]any{}, completionUsage(pl.prompt, pl.billed(n)))) {
		return
	}
	s.event("", "[DONE]")
}
