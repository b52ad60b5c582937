package rewrite

import "bytes"

// The prompt estimate reserves budget before a call, so a hard token cap
// is not overshot: it must rather over- than under-estimate. BPE tokens
// cover at least ~2 bytes of typical text — English runs ~4 bytes a token,
// CJK ~1.5–3 (3 UTF-8 bytes a character, often one token per character or
// less) — so text bytes / 2 errs high for both. Chat templates add a few
// tokens per message and per request. An image costs what its resolution
// says, which the body does not: a fixed imageTokens, above what one image
// costs on the models we know (OpenAI high detail ≤ ~1,100 for gpt-4o and
// ~2,500 for the gpt-4.1-mini patch models, Anthropic ≤ ~1,600, Gemini 258
// a 768-pixel tile); the settle from the provider's usage corrects it.
// Other binary parts (audio, files) are counted as text, which
// over-reserves: the safe side. Members the estimate does not know
// (tools, response_format and json schemas, tool_choice, metadata…) are
// counted at their raw size: the provider may well render them into the
// prompt.
const (
	bytesPerToken = 2
	messageTokens = 8
	requestTokens = 16
	imageTokens   = 2500
	numberBytes   = 2 // a token id in a pre-tokenised prompt: one token
	// Deeper values are counted by their raw size: real bodies nest ~7
	// deep, and each level rescans its value, so the bound keeps the
	// walk linear-ish on hostile nesting.
	maxWalkDepth = 16
)

// EstimatePromptTokens is a conservative estimate of the prompt tokens of
// a request body (see estimateObject). A body that is not a JSON object
// counts as all text. An empty body is 0; any other is at least 1.
func EstimatePromptTokens(body []byte) int64 {
	if len(bytes.TrimSpace(body)) == 0 {
		return 0
	}
	o, err := parseObject(body)
	if err != nil {
		return ceilDiv(int64(len(body)), bytesPerToken) + requestTokens
	}
	return estimateObject(o)
}

// estimateObject estimates the text of messages, contents, system,
// prompt, input and instructions at bytes/2, plus per-message and
// per-request overheads and a fixed cost per image, plus every other
// member at its raw size/2 — except the few that are never prompt text.
func estimateObject(o object) int64 {
	var s promptSize
	for _, m := range o {
		s.addMember(m)
	}
	return ceilDiv(s.text, bytesPerToken) + s.messages*messageTokens + s.images*imageTokens + requestTokens
}

// promptSize accumulates what the estimate counts.
type promptSize struct {
	text     int64 // bytes of text
	messages int64
	images   int64
}

// notPrompt are members that never reach the prompt.
var notPrompt = []string{"model", "stream", "stream_options", "n", "best_of", "max_tokens", "max_completion_tokens",
	"max_output_tokens", "temperature", "top_p", "top_k", "seed", "user", "store", "metadata", "logit_bias",
	"generationConfig", "generation_config", "safetySettings", "safety_settings"}

func (s *promptSize) addMember(m member) {
	switch {
	case keyIsAny(m.key, []string{"messages", "input", "contents"}):
		s.addItems(m.value) // chat messages, Responses input items, Gemini contents
	case keyIsAny(m.key, []string{"system", "prompt", "instructions", "systemInstruction", "system_instruction"}):
		s.add(measure(m.value, 0))
	case keyIsAny(m.key, notPrompt):
	default:
		s.text += int64(len(m.value))
	}
}

// addItems counts an array whose object elements are messages; strings
// (embeddings input, prompts) are just text.
func (s *promptSize) addItems(v []byte) {
	if len(v) == 0 || v[0] != '[' {
		s.add(measure(v, 0))
		return
	}
	for e := range arrayElements(v) {
		if e[0] == '{' {
			s.messages++
		}
		s.add(measure(e, 1))
	}
}

func (s *promptSize) add(text, images int64) {
	s.text += text
	s.images += images
}

// measure returns the text bytes and images inside a raw JSON value.
func measure(v []byte, depth int) (text, images int64) {
	if len(v) == 0 {
		return 0, 0
	}
	if depth > maxWalkDepth {
		return int64(len(v)), 0
	}
	switch v[0] {
	case '"':
		return stringLen(v), 0
	case '{':
		return measureObject(v, depth)
	case '[':
		return measureArray(v, depth)
	case 't', 'f', 'n':
		return 0, 0
	}
	return numberBytes, 0
}

// measureObject counts an image part ({"type":"image_url"|"image"|
// "input_image", …}, or Gemini's {"inlineData":{"mimeType":"image/…"}})
// as one image, ignoring its (base64 or URL) bytes.
func measureObject(v []byte, depth int) (text, images int64) {
	image := false
	for k, val := range objectMembers(v) {
		if (keyIs(k, "type") && isImageType(val)) || (keyIsAny(k, []string{"inlineData", "inline_data"}) && isInlineImage(val)) {
			image = true
		}
		t, i := measure(val, depth+1)
		text, images = text+t, images+i
	}
	if image {
		return 0, 1
	}
	return text, images
}

func measureArray(v []byte, depth int) (text, images int64) {
	for e := range arrayElements(v) {
		t, i := measure(e, depth+1)
		text, images = text+t, images+i
	}
	return text, images
}

// isInlineImage reports a Gemini Blob whose MIME type is an image.
func isInlineImage(raw []byte) bool {
	blob, err := parseObject(raw)
	if err != nil {
		return false
	}
	for _, k := range []string{"mimeType", "mime_type"} {
		if len(stringValue(blob.get(k))) > 6 && stringValue(blob.get(k))[:6] == "image/" {
			return true
		}
	}
	return false
}

func isImageType(raw []byte) bool {
	return stringIs(raw, "image_url") || stringIs(raw, "image") || stringIs(raw, "input_image")
}

// stringLen is the UTF-8 length of a raw JSON string once unescaped,
// without decoding it: ensure_ascii encoders write CJK as \uXXXX, six
// bytes for three.
func stringLen(raw []byte) int64 {
	if len(raw) < 2 {
		return 0
	}
	s := raw[1 : len(raw)-1]
	var n int64
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return n + int64(len(s))
		}
		n += int64(i)
		s = s[i:]
		size, width := escapeLen(s)
		n += size
		s = s[min(width, len(s)):]
	}
	return n
}

// escapeLen is the decoded size and raw width of the escape at s[0].
// A surrogate half counts 2, so a pair makes its 4 UTF-8 bytes.
func escapeLen(s []byte) (size int64, width int) {
	if len(s) < 6 || s[1] != 'u' {
		return 1, 2
	}
	r, ok := hex4(s[2:6])
	switch {
	case !ok, r < 0x80:
		return 1, 6
	case r < 0x800, r >= 0xD800 && r <= 0xDFFF:
		return 2, 6
	}
	return 3, 6
}

func hex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func ceilDiv(n, d int64) int64 { return (n + d - 1) / d }
