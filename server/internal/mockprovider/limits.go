package mockprovider

import (
	"fmt"
	"net/http"
	"strings"
)

// The mock's own table of model output limits, taken from the providers'
// model pages. It is NOT shared with the relay: the relay must learn limits
// from its own configuration, and these tables only make the mock refuse
// what the real API refuses. Models not in a table (tests use names like
// "m") have no limit. A dated snapshot ("claude-sonnet-4-20250514",
// "gpt-4o-2024-08-06") resolves to the longest entry that is a prefix of
// it followed by "-" or nothing.

// openAIOutputLimits: "Max output tokens" on https://platform.openai.com/docs/models/{model}
// (gpt-4o, gpt-4o-mini: 16,384; gpt-4.1 family: 32,768; o1, o3, o3-mini,
// o4-mini: 100,000; gpt-5 family: 128,000), cross-checked against the
// gateway mirrors of those pages (e.g.
// https://vercel.com/ai-gateway/models/gpt-4o-mini-fast.md,
// https://vercel.com/ai-gateway/models/gpt-4.1-nano-fast.md,
// https://vercel.com/ai-gateway/models/gpt-5-fast.md). The first gpt-4o
// snapshot and the gpt-4 turbo / 3.5 models return at most 4,096.
var openAIOutputLimits = map[string]int{
	"gpt-3.5-turbo":     4096,
	"gpt-4-turbo":       4096,
	"gpt-4o":            16384,
	"gpt-4o-2024-05-13": 4096,
	"gpt-4o-mini":       16384,
	"gpt-4.1":           32768,
	"gpt-4.1-mini":      32768,
	"gpt-4.1-nano":      32768,
	"o1":                100000,
	"o1-mini":           65536,
	"o3":                100000,
	"o3-mini":           100000,
	"o4-mini":           100000,
	"gpt-5":             128000,
	"gpt-5-mini":        128000,
	"gpt-5-nano":        128000,
	"gpt-5-chat":        16384,
	"gpt-5.1":           128000,
	"gpt-5.2":           128000,
}

// openAIReasoning lists the reasoning models: they refuse `max_tokens`
// ("Unsupported parameter: 'max_tokens' is not supported with this model.
// Use 'max_completion_tokens' instead.", code unsupported_parameter —
// https://platform.openai.com/docs/guides/reasoning, error text as reported in
// https://github.com/griptape-ai/ComfyUI-Griptape/issues/312) and spend
// reasoning tokens that count as completion tokens. gpt-5-chat is the
// non-reasoning chat model of the gpt-5 family.
var openAIReasoning = map[string]bool{
	"o1": true, "o1-mini": true, "o3": true, "o3-mini": true, "o4-mini": true,
	"gpt-5": true, "gpt-5-mini": true, "gpt-5-nano": true, "gpt-5.1": true, "gpt-5.2": true,
	"gpt-5-chat": false,
}

// anthropicOutputLimits: "Max output" on
// https://docs.anthropic.com/en/docs/about-claude/models/overview (Claude 3
// Haiku and Opus 4,096; 3.5 Haiku and 3.5 Sonnet 8,192; 3.7 Sonnet, Sonnet 4,
// Sonnet 4.5, Haiku 4.5 and Opus 4.5 64,000; Opus 4 and 4.1 32,000;
// Sonnet 4.6 and Opus 4.6 128,000 — the last as quoted in
// https://github.com/Effect-TS/effect/pull/7129).
var anthropicOutputLimits = map[string]int{
	"claude-3-haiku":    4096,
	"claude-3-opus":     4096,
	"claude-3-5-haiku":  8192,
	"claude-3-5-sonnet": 8192,
	"claude-3-7-sonnet": 64000,
	"claude-sonnet-4":   64000,
	"claude-sonnet-4-5": 64000,
	"claude-sonnet-4-6": 128000,
	"claude-haiku-4-5":  64000,
	"claude-opus-4":     32000,
	"claude-opus-4-1":   32000,
	"claude-opus-4-5":   64000,
	"claude-opus-4-6":   128000,
}

// geminiOutputLimits: "Output token limit" on
// https://ai.google.dev/gemini-api/docs/models (2.5 Pro / Flash / Flash-Lite
// 65,536; 2.0 Flash and Flash-Lite, 1.5 Pro and Flash 8,192).
var geminiOutputLimits = map[string]int{
	"gemini-1.5-flash":      8192,
	"gemini-1.5-pro":        8192,
	"gemini-2.0-flash":      8192,
	"gemini-2.0-flash-lite": 8192,
	"gemini-2.5-flash":      65536,
	"gemini-2.5-flash-lite": 65536,
	"gemini-2.5-pro":        65536,
}

// lookupModel returns the value of the longest key of table that model
// starts with, followed by "-" or the end of the name.
func lookupModel[V any](table map[string]V, model string) (v V, ok bool) {
	best := -1
	for k, kv := range table {
		rest, found := strings.CutPrefix(model, k)
		if !found || (rest != "" && rest[0] != '-') || len(k) <= best {
			continue
		}
		v, ok, best = kv, true, len(k)
	}
	return v, ok
}

// isReasoningModel reports whether an OpenAI model is a reasoning model.
func isReasoningModel(model string) bool {
	r, _ := lookupModel(openAIReasoning, model)
	return r
}

// isThinkingModel reports whether a Gemini model thinks by default: the
// 2.5 and later models ("Gemini 2.5 series models use an internal thinking
// process", https://ai.google.dev/gemini-api/docs/thinking).
func isThinkingModel(model string) bool {
	return strings.HasPrefix(model, "gemini-2.5") || strings.HasPrefix(model, "gemini-3")
}

// openAICapParam is one of the chat cap parameters as the request gave it.
type openAICapParam struct {
	name  string
	value *int
}

// checkOpenAICaps applies OpenAI's rules to chat caps and answers 400 for
// a broken one: below 1, max_tokens on a reasoning model, or above the
// model's output limit ("max_tokens is too large: 99973. This model
// supports at most 16384 completion tokens, whereas you provided 99973.",
// param and code invalid_value — text as returned by the API, e.g.
// https://github.com/enoch3712/ExtractThinker/issues/346,
// https://github.com/ChatGPTNextWeb/NextChat/issues/3195). It returns the
// effective cap (0: none).
func (c *call) checkOpenAICaps(model string, caps ...openAICapParam) (int, bool) {
	limit, hasLimit := lookupModel(openAIOutputLimits, model)
	eff := 0
	for _, p := range caps {
		if p.value == nil {
			continue
		}
		v := *p.value
		switch {
		case v < 1:
			c.openAIError(http.StatusBadRequest, "invalid_request_error", p.name, "integer_below_min_value",
				fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.", p.name, v))
			return 0, false
		case p.name == "max_tokens" && isReasoningModel(model):
			c.openAIError(http.StatusBadRequest, "invalid_request_error", "max_tokens", "unsupported_parameter",
				"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
			return 0, false
		case hasLimit && v > limit:
			c.openAIError(http.StatusBadRequest, "invalid_request_error", p.name, "invalid_value",
				fmt.Sprintf("%s is too large: %d. This model supports at most %d completion tokens, whereas you provided %d.", p.name, v, limit, v))
			return 0, false
		}
		if eff == 0 || v < eff {
			eff = v
		}
	}
	return eff, true
}

// checkAnthropicMaxTokens answers 400 when max_tokens exceeds the model's
// output limit, with Anthropic's text ("max_tokens: 100000 > 64000, which
// is the maximum allowed number of output tokens for
// claude-sonnet-4-20250514", as quoted from the API in
// https://github.com/Effect-TS/effect/pull/7129).
func (c *call) checkAnthropicMaxTokens(model string, maxTokens int) bool {
	limit, ok := lookupModel(anthropicOutputLimits, model)
	if !ok || maxTokens <= limit {
		return true
	}
	c.fail(apiAnthropic, http.StatusBadRequest, fmt.Sprintf(
		"max_tokens: %d > %d, which is the maximum allowed number of output tokens for %s", maxTokens, limit, model))
	return false
}

// checkGeminiMaxOutput answers 400 INVALID_ARGUMENT when maxOutputTokens
// is outside the model's range, with Google's text ("Unable to submit
// request because it has a maxOutputTokens value of 655360 but the
// supported range is from 1 (inclusive) to 8193 (exclusive). Update the
// value and try again." — https://github.com/stackblitz-labs/bolt.diy/issues/955,
// https://github.com/BerriAI/litellm/pull/10548).
func (c *call) checkGeminiMaxOutput(model string, v int) bool {
	limit, ok := lookupModel(geminiOutputLimits, model)
	if v >= 1 && (!ok || v <= limit) {
		return true
	}
	if !ok {
		limit = 65536
	}
	c.geminiError(http.StatusBadRequest, fmt.Sprintf(
		"Unable to submit request because it has a maxOutputTokens value of %d but the supported range is from 1 (inclusive) to %d (exclusive). Update the value and try again.",
		v, limit+1))
	return false
}
