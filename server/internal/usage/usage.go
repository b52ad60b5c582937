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

// FromJSON reads the usage of a whole non-streamed response body, as a
// BodyMeter fed the body does (see BodyMeter for what it reads). Bodies
// without usage (errors, garbage, truncated JSON, other content types)
// give a zero, unreported Usage.
func FromJSON(f Format, body []byte) Usage {
	m := NewBodyMeter(f)
	_, _ = m.Write(body)
	return m.Usage()
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
	name := memberName(key, &buf)
	switch string(name) {
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
	return t.geminiField(name)
}

// geminiField is the count a usageMetadata key names, nil for any other.
func (t *tokenCounts) geminiField(name []byte) *count {
	switch string(name) {
	case "promptTokenCount":
		return &t.geminiCounts.Prompt
	case "candidatesTokenCount":
		return &t.geminiCounts.Candidates
	case "thoughtsTokenCount":
		return &t.geminiCounts.Thoughts
	case "toolUsePromptTokenCount":
		return &t.geminiCounts.ToolUsePrompt
	case "cachedContentTokenCount":
		return &t.geminiCounts.Cached
	case "totalTokenCount":
		return &t.geminiCounts.Total
	}
	return nil
}

// tokenCounts is a provider's usage object; one shape covers every format
// and the OpenAI Responses API. Each format reads only its own counts.
type tokenCounts struct {
	PromptTokens     count `json:"prompt_tokens"`
	CompletionTokens count `json:"completion_tokens"`
	TotalTokens      count `json:"total_tokens"`
	InputTokens      count `json:"input_tokens"`
	OutputTokens     count `json:"output_tokens"`
	CacheCreation    count `json:"cache_creation_input_tokens"`
	CacheRead        count `json:"cache_read_input_tokens"`
	geminiCounts           // embedded: encoding/json promotes its fields
}

// geminiCounts is Gemini's usageMetadata (GenerateContentResponse
// .UsageMetadata; googleapis/python-genai google/genai/types.py
// GenerateContentResponseUsageMetadata, googleapis/js-genai src/types.ts):
//   - promptTokenCount: the prompt, cached content included ("When
//     cached_content is set, this also includes the number of tokens in
//     the cached content"), so cachedContentTokenCount is not added again;
//   - candidatesTokenCount: the output of all candidates;
//   - thoughtsTokenCount: a thinking model's thoughts, output billed apart
//     from candidatesTokenCount;
//   - toolUsePromptTokenCount: tool results fed back to the model as input;
//   - totalTokenCount: "the sum of prompt_token_count,
//     candidates_token_count, tool_use_prompt_token_count, and
//     thoughts_token_count".
//
// A recorded gemini-2.5-flash answer (google/adk-go
// model/gemini/testdata/TestModel_GenerateStream_ok.httprr) has prompt 11,
// candidates 1, thoughts 33, total 45: thoughts are outside candidates.
type geminiCounts struct {
	Prompt        count `json:"promptTokenCount"`
	Candidates    count `json:"candidatesTokenCount"`
	Thoughts      count `json:"thoughtsTokenCount"`
	ToolUsePrompt count `json:"toolUsePromptTokenCount"`
	Cached        count `json:"cachedContentTokenCount"`
	Total         count `json:"totalTokenCount"`
}

// usage converts to a Usage; ok is false when no count was present.
func (t *tokenCounts) usage(f Format) (Usage, bool) {
	switch f {
	case Anthropic:
		return t.anthropic()
	case Gemini:
		return t.geminiUsage()
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

// geminiUsage maps usageMetadata: tool-use prompts are input, thoughts are
// output. A total above the split is charged (fail safe: a count Gemini
// adds one day and bills is not lost), as for OpenAI.
func (g *geminiCounts) geminiUsage() (Usage, bool) {
	if !g.Prompt.OK && !g.Candidates.OK && !g.Thoughts.OK && !g.ToolUsePrompt.OK && !g.Cached.OK && !g.Total.OK {
		return Usage{}, false
	}
	prompt := g.Prompt.N + g.ToolUsePrompt.N
	completion := g.Candidates.N + g.Thoughts.N
	if g.Total.N > prompt+completion {
		completion = g.Total.N - prompt
	}
	return Usage{Prompt: prompt, Completion: completion, Reported: true}, true
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
