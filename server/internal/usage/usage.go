package usage

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// Usage is what one call consumed, in tokens.
type Usage struct {
	Prompt, Completion int64
	// Reported is false when the provider gave no final usage. Completion
	// is then an estimate and Prompt whatever the provider did say (an
	// Anthropic message_start), possibly 0.
	Reported bool
}

// Total is Prompt plus Completion.
func (u Usage) Total() int64 { return u.Prompt + u.Completion }

// FromJSON reads the top-level "usage" of a non-streamed response body.
// Bodies without one (errors, garbage, other content types) give a zero,
// unreported Usage.
func FromJSON(f Format, body []byte) Usage {
	raw, decided := topLevelUsage(body)
	if !decided {
		raw = decodeUsage(body)
	}
	return usageOf(f, raw)
}

// usageOf converts a raw usage object.
func usageOf(f Format, raw []byte) Usage {
	if len(raw) == 0 || raw[0] != '{' {
		return Usage{}
	}
	if !json.Valid(raw) {
		return Usage{}
	}
	var t tokenCounts
	t.addMembers(raw)
	u, _ := t.usage(f)
	return u
}

// addMembers reads the counts of a well-formed usage object (anything
// else has none). Keys match exactly; a mistyped value is skipped, the
// others count, and a duplicate count's last number wins.
func (t *tokenCounts) addMembers(raw []byte) {
	for members := jsonscan.Object(raw); ; {
		key, value, ok := members.Member()
		if !ok {
			return
		}
		if c := t.field(key); c != nil {
			_ = c.UnmarshalJSON(value)
		}
	}
}

// field is the count a usage key names, nil for any other key.
func (t *tokenCounts) field(key []byte) *count {
	var buf keyBuf
	switch string(memberName(key, &buf)) {
	case "prompt_tokens":
		return &t.PromptTokens
	case "completion_tokens":
		return &t.CompletionTokens
	case "total_tokens":
		return &t.TotalTokens
	case "input_tokens":
		return &t.InputTokens
	case "output_tokens":
		return &t.OutputTokens
	case "cache_creation_input_tokens":
		return &t.CacheCreation
	case "cache_read_input_tokens":
		return &t.CacheRead
	}
	return nil
}

// decodeUsage is the slow path: decode the whole body. A map, not a
// struct, so the key matches exactly as on the fast path.
func decodeUsage(body []byte) []byte {
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(body, &doc)
	return doc["usage"]
}

// tokenCounts is a provider's usage object; one shape covers both formats
// and the OpenAI Responses API.
type tokenCounts struct {
	PromptTokens     count `json:"prompt_tokens"`
	CompletionTokens count `json:"completion_tokens"`
	TotalTokens      count `json:"total_tokens"`
	InputTokens      count `json:"input_tokens"`
	OutputTokens     count `json:"output_tokens"`
	CacheCreation    count `json:"cache_creation_input_tokens"`
	CacheRead        count `json:"cache_read_input_tokens"`
}

// usage converts to a Usage; ok is false when no count was present.
func (t *tokenCounts) usage(f Format) (Usage, bool) {
	if f == Anthropic {
		return t.anthropic()
	}
	return t.openAI()
}

// openAI maps chat/completions (prompt_/completion_tokens), the Responses
// API (input_/output_tokens) and embeddings (prompt_ and total_tokens).
// Cached tokens are already inside prompt_tokens/input_tokens there.
func (t *tokenCounts) openAI() (Usage, bool) {
	prompt := max(t.PromptTokens.N, t.InputTokens.N)
	completion := max(t.CompletionTokens.N, t.OutputTokens.N)
	split := t.PromptTokens.OK || t.InputTokens.OK || t.CompletionTokens.OK || t.OutputTokens.OK
	total := t.TotalTokens.N
	switch {
	case !split && !t.TotalTokens.OK:
		return Usage{}, false
	case !split:
		prompt = total
	case total > prompt+completion:
		// Some providers leave reasoning tokens out of completion_tokens
		// but bill them in total_tokens: charge the total.
		completion = total - prompt
	}
	return Usage{Prompt: prompt, Completion: completion, Reported: true}, true
}

// anthropic counts cache writes and reads as prompt: Anthropic reports
// them apart from input_tokens, and they are billed.
func (t *tokenCounts) anthropic() (Usage, bool) {
	if !t.InputTokens.OK && !t.OutputTokens.OK {
		return Usage{}, false
	}
	return Usage{Prompt: t.anthropicPrompt(), Completion: t.OutputTokens.N, Reported: true}, true
}

func (t *tokenCounts) anthropicPrompt() int64 {
	return t.InputTokens.N + t.CacheCreation.N + t.CacheRead.N
}

// maxCount bounds one count: far above any real call, far below overflow
// when a few counts are summed.
const maxCount = 1 << 50

// count is a token count tolerant of loose providers: floats round up,
// negatives become 0, null and strings are absent.
type count struct {
	N  int64
	OK bool
}

func (c *count) UnmarshalJSON(b []byte) error {
	if n, ok := smallInt(b); ok {
		*c = count{N: n, OK: true}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil
	}
	*c = count{N: int64(min(max(math.Ceil(f), 0), maxCount)), OK: true}
	return nil
}

// smallInt reads an integer of at most 15 digits (below maxCount) the way
// UnmarshalJSON's ParseFloat would, exactly, without its cost: ParseFloat
// takes over 1 KiB of stack, at the deepest point of a stream event's scan.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return 0, true // negatives count 0
	}
	return n, true
}
