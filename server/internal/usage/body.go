package usage

import "github.com/relayapi/relayapi/server/internal/jsonscan"

// maxUsageValue bounds the usage value a BodyMeter keeps. Real ones are a
// few hundred bytes; a larger one counts as unreadable (unreported)
// rather than be buffered without end.
const maxUsageValue = 64 << 10

// BodyMeter reads the usage of a non-streamed JSON response as it is
// relayed, in O(1) memory whatever the body's size (the relay cannot keep
// a body of gigabytes: logprobs, n choices, base64 images). Feed it the
// exact body bytes, split anywhere, then call Usage. It is not safe for
// concurrent use.
//
// It reads:
//   - OpenAI (chat, completions, embeddings, Responses API, images,
//     audio transcriptions) and Anthropic: the root object's "usage";
//   - Gemini: the root object's "usageMetadata" (generateContent); and,
//     when the root is an array (streamGenerateContent without alt=sse
//     streams a JSON array of GenerateContentResponse), the
//     "usageMetadata" of its object elements, the last one seen winning:
//     Gemini repeats a running usageMetadata in every chunk (prompt and
//     the counts so far; Vertex AI sometimes only {"trafficType": …}) and
//     puts the final counts in the last chunk, the one with a
//     finishReason (see geminiUsage).
//
// The body must be valid JSON as encoding/json.Valid judges it: garbage
// or a truncated body gives an unreported Usage. The result is then the
// one decoding the whole body into a map[string]json.RawMessage gives:
// keys match exactly after unescaping (never case-insensitively), and of
// duplicate keys the last value wins. A usage value over 64 KiB counts as
// unreadable.
type BodyMeter struct {
	format Format
	name   string // the member read: "usage" or "usageMetadata"

	// The scanner (bodyscan.go).
	state  scanState
	inKey  bool   // the string being read is a key
	hex    int8   // \u digits left
	lit    string // the rest of the literal being read
	depth  int    // open containers
	object bool   // the innermost one is an object
	// Whether the container at depth d+1 is an object.
	objects nesting

	// A candidate key being read, quotes included.
	keying bool
	keySeg int // where its bytes start in the current write
	key    [keyCap]byte
	keyLen int // len(key) used; keyCap+1 once too long to match
	armed  bool

	// The value of the last matching member.
	capturing bool
	capDepth  int // the depth its member sits at
	seg       int // where its bytes start in the current write
	value     []byte
	got       bool // value holds a complete, readable value
}

// keyCap bounds a candidate key: "usageMetadata" with every byte written
// \uXXXX is 80 bytes with its quotes; a longer key cannot match.
const keyCap = 80

// NewBodyMeter returns a BodyMeter for a body in format f.
func NewBodyMeter(f Format) *BodyMeter {
	m := &BodyMeter{format: f, name: "usage"}
	if f == Gemini {
		m.name = "usageMetadata"
	}
	return m
}

// Write observes the next bytes of the body. It never fails.
func (m *BodyMeter) Write(p []byte) (int, error) {
	for i := 0; i < len(p) && m.state != sError; {
		i = m.step(p, i)
	}
	m.keepTail(p)
	return len(p), nil
}

// Usage is the body's usage, once its last byte was written; before
// that, or without usage, it is zero and unreported.
func (m *BodyMeter) Usage() Usage {
	if m.state != sAfter || m.depth != 0 || !m.got {
		return Usage{}
	}
	return usageOf(m.format, m.value)
}

// keepTail keeps the bytes of a key or value that goes on in the next
// write.
func (m *BodyMeter) keepTail(p []byte) {
	if m.state == sError {
		return
	}
	if m.keying {
		m.appendKey(p[m.keySeg:])
		m.keySeg = 0
	}
	if m.capturing {
		m.appendValue(p[m.seg:])
		m.seg = 0
	}
}

// keyStart is called on the opening quote of every key.
func (m *BodyMeter) keyStart(i int) {
	root := m.objects.get(0)
	if m.depth == 1 && root || m.depth == 2 && !root && m.format == Gemini {
		m.keying, m.keySeg, m.keyLen = true, i, 0
	}
}

// keyEnd is called past the closing quote of every key.
func (m *BodyMeter) keyEnd(p []byte, end int) {
	if !m.keying {
		return
	}
	m.appendKey(p[m.keySeg:end])
	m.keying = false
	m.armed = m.keyLen <= keyCap && jsonscan.KeyIs(m.key[:m.keyLen], m.name)
}

func (m *BodyMeter) appendKey(b []byte) {
	if m.keyLen+len(b) > keyCap {
		m.keyLen = keyCap + 1
		return
	}
	m.keyLen += copy(m.key[m.keyLen:], b)
}

// valueStart is called on the first byte of every value: the one after a
// matching key is captured.
func (m *BodyMeter) valueStart(i int) {
	if !m.armed {
		return
	}
	m.armed = false
	m.capturing, m.capDepth, m.seg = true, m.depth, i
	m.value, m.got = m.value[:0], false
}

// valueEnd is called past the last byte of every value.
func (m *BodyMeter) valueEnd(p []byte, end int) {
	m.state = sAfter
	if !m.capturing || m.depth != m.capDepth {
		return
	}
	m.appendValue(p[m.seg:end])
	if m.capturing {
		m.capturing, m.got = false, true
	}
}

func (m *BodyMeter) appendValue(b []byte) {
	if len(m.value)+len(b) > maxUsageValue {
		m.capturing, m.value = false, m.value[:0] // unreadable
		return
	}
	m.value = append(m.value, b...)
}
