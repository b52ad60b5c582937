package rewrite

import (
	"math"
	"strconv"
	"strings"

	"github.com/relayapi/relayapi/server/internal/usage"
)

// capKeys are the members that bound the completion in each format:
// chat's legacy max_tokens and newer max_completion_tokens, and the
// Responses API's max_output_tokens. Anthropic has max_tokens only.
func capKeys(f usage.Format) []string {
	if f == usage.Anthropic {
		return []string{"max_tokens"}
	}
	return []string{"max_tokens", "max_completion_tokens", "max_output_tokens"}
}

func isCapKey(f usage.Format, rawKey []byte) bool {
	for _, k := range capKeys(f) {
		if keyIs(rawKey, k) {
			return true
		}
	}
	return false
}

// capTokens clamps every cap member above limit down to it; one that is
// no number (a string, say) is replaced too, in case a lenient provider
// reads it. A null cap
// means "no cap" and is set only when no other cap is given. With none at
// all, one is added where the endpoint takes it.
func (o object) capTokens(f usage.Format, kind endpoint, limit int64, model string) (object, bool) {
	if limit <= 0 {
		return o, false
	}
	changed, capped, firstNull := false, false, -1
	for i := range o {
		if !isCapKey(f, o[i].key) {
			continue
		}
		if string(o[i].value) == "null" {
			if firstNull < 0 {
				firstNull = i
			}
			continue
		}
		capped = true
		if n, ok := number(o[i].value); !ok || n > float64(limit) {
			o[i].value, changed = strconv.AppendInt(nil, limit, 10), true
		}
	}
	switch {
	case capped:
		return o, changed
	case firstNull >= 0:
		o[firstNull].value = strconv.AppendInt(nil, limit, 10)
		return o, true
	}
	key := capKeyToAdd(kind, model)
	if key == "" {
		return o, false
	}
	return o.add(key, strconv.AppendInt(nil, limit, 10)), true
}

// capKeyToAdd names the member that caps a request which has none. Chat
// gets max_tokens, not max_completion_tokens: many OpenAI-compatible
// providers (vLLM, Ollama, older gateways) do not know the newer name and
// would ignore it, leaving the call uncapped. OpenAI's reasoning models
// are the exception: they refuse max_tokens with a 400.
func capKeyToAdd(kind endpoint, model string) string {
	switch kind {
	case chatEndpoint:
		if refusesMaxTokens(model) {
			return "max_completion_tokens"
		}
		return "max_tokens"
	case completionsEndpoint, messagesEndpoint:
		return "max_tokens"
	case responsesEndpoint:
		return "max_output_tokens"
	}
	return "" // embeddings, images, audio…: no completion to cap
}

// refusesMaxTokens matches OpenAI's o-series (o1, o3-mini, o4-mini…) and
// gpt-5 family by name.
func refusesMaxTokens(model string) bool {
	if strings.HasPrefix(model, "gpt-5") {
		return true
	}
	return len(model) >= 2 && model[0] == 'o' && model[1] >= '1' && model[1] <= '9' &&
		(len(model) == 2 || model[2] == '-')
}

// number reads a raw JSON number without losing it to a type: only
// compared, never written back.
func number(raw []byte) (float64, bool) {
	n, err := strconv.ParseFloat(string(raw), 64)
	return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
}

// RequestedMaxTokens is the completion cap the body asks for: the largest
// cap member present, rounded up, or 0 when there is none (or the body
// cannot be read).
func RequestedMaxTokens(f usage.Format, body []byte) int64 {
	o, err := parseObject(body)
	if err != nil {
		return 0
	}
	var most int64
	for _, m := range o {
		if !isCapKey(f, m.key) {
			continue
		}
		if n, ok := number(m.value); ok && n > 0 {
			most = max(most, int64(min(math.Ceil(n), math.MaxInt64/2)))
		}
	}
	return most
}
