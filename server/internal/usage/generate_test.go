package usage

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Random bytes seldom form the nested events the meter reads, so these
// tests also generate them: the shapes of both formats, with each field
// present or not, of the right type or another, strings full of escapes,
// surrogates and invalid UTF-8, unknown members nested deep, and a key
// now and then escaped or in another case (out of scope, skipped).

// choices drives the generator: the fuzzer's bytes, then a PRNG.
type choices struct {
	b   []byte
	rng *rand.Rand
}

func (c *choices) intn(n int) int {
	if len(c.b) > 0 {
		v := int(c.b[0])
		c.b = c.b[1:]
		return v % n
	}
	return c.rng.IntN(n)
}

func (c *choices) chance(percent int) bool { return c.intn(100) < percent }

// shape is the schema of a value the meter reads.
type shape struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'n' count, 't' type
	members map[string]*shape
	elem    *shape
}

var (
	countShape = &shape{kind: 'n'}
	usageShape = &shape{kind: 'o', members: map[string]*shape{
		"prompt_tokens": countShape, "completion_tokens": countShape, "total_tokens": countShape,
		"input_tokens": countShape, "output_tokens": countShape,
		"cache_creation_input_tokens": countShape, "cache_read_input_tokens": countShape,
	}}
	stringShape = &shape{kind: 's'}
	argsShape   = &shape{kind: 'o', members: map[string]*shape{"arguments": stringShape}}
	openAIShape = &shape{kind: 'o', members: map[string]*shape{
		"type":     {kind: 't'},
		"delta":    stringShape,
		"usage":    usageShape,
		"response": {kind: 'o', members: map[string]*shape{"usage": usageShape}},
		"choices": {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{
			"text": stringShape,
			"delta": {kind: 'o', members: map[string]*shape{
				"content": stringShape, "reasoning_content": stringShape, "reasoning": stringShape,
				"refusal":       stringShape,
				"tool_calls":    {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{"function": argsShape}}},
				"function_call": argsShape,
			}},
		}}},
	}}
	anthropicShape = &shape{kind: 'o', members: map[string]*shape{
		"type":    {kind: 't'},
		"message": {kind: 'o', members: map[string]*shape{"usage": usageShape}},
		"usage":   usageShape,
		"delta": {kind: 'o', members: map[string]*shape{
			"text": stringShape, "partial_json": stringShape, "thinking": stringShape,
		}},
	}}
)

var (
	geminiUsageShape = &shape{kind: 'o', members: map[string]*shape{
		"promptTokenCount": countShape, "candidatesTokenCount": countShape, "thoughtsTokenCount": countShape,
		"toolUsePromptTokenCount": countShape, "cachedContentTokenCount": countShape, "totalTokenCount": countShape,
	}}
	geminiShape = &shape{kind: 'o', members: map[string]*shape{
		"usageMetadata": geminiUsageShape,
		"candidates": {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{
			"finishReason": {kind: 't'},
			"content": {kind: 'o', members: map[string]*shape{
				"parts": {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{
					"text":         stringShape,
					"functionCall": {kind: 'o', members: map[string]*shape{"args": {kind: 'o', members: map[string]*shape{"a": stringShape}}}},
				}}},
			}},
		}}},
	}}
)

var eventTypes = []string{
	"response.output_text.delta", "response.function_call_arguments.delta", "response.audio.delta",
	"response.audio_transcript.delta", "response.completed", "response.incomplete", "response.failed",
	"response.created", "message_start", "message_delta", "content_block_delta", "message_stop",
	"ping", ".delta", "delta", "", "Response.Completed", "STOP", "MAX_TOKENS",
}

type generator struct {
	c  *choices
	sb strings.Builder
}

func (g *generator) space() {
	for g.c.chance(15) {
		g.sb.WriteByte(" \t\n\r"[g.c.intn(4)])
	}
}

func (g *generator) value(s *shape, depth int) {
	g.space()
	if s == nil || g.c.chance(12) {
		g.random(depth)
	} else {
		switch s.kind {
		case 'o':
			g.object(s, depth)
		case 'a':
			g.sb.WriteByte('[')
			for i := range g.c.intn(4) {
				if i > 0 {
					g.sb.WriteByte(',')
				}
				g.value(s.elem, depth+1)
			}
			g.sb.WriteByte(']')
		case 's':
			g.str()
		case 'n':
			g.number()
		case 't':
			g.quoted(eventTypes[g.c.intn(len(eventTypes))])
		}
	}
	g.space()
}

func (g *generator) object(s *shape, depth int) {
	g.sb.WriteByte('{')
	n := 0
	member := func(key string, v *shape) {
		if n > 0 {
			g.sb.WriteByte(',')
		}
		n++
		g.space()
		g.quoted(key)
		g.space()
		g.sb.WriteByte(':')
		g.value(v, depth+1)
	}
	for _, key := range slices.Sorted(maps.Keys(s.members)) { // the bytes alone choose
		if g.c.chance(40) {
			continue
		}
		if g.c.chance(20) {
			member(fmt.Sprintf("x%d", g.c.intn(1000)), nil) // unknown
		}
		member(key, s.members[key])
		if g.c.chance(1) {
			member(key, s.members[key]) // a duplicate: out of scope
		}
	}
	if g.c.chance(20) {
		member("id", nil)
	}
	g.sb.WriteByte('}')
}

// quoted writes a known string (a key or a type), now and then escaped
// or case-changed.
func (g *generator) quoted(s string) {
	if len(s) > 0 && g.c.chance(1) {
		i := g.c.intn(len(s))
		s = s[:i] + strings.ToUpper(s[i:i+1]) + s[i+1:]
	}
	g.sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if g.c.chance(3) {
			fmt.Fprintf(&g.sb, `\u%04x`, s[i])
		} else {
			g.sb.WriteByte(s[i])
		}
	}
	g.sb.WriteByte('"')
}

var stringPieces = []string{
	"a", "Hello", " ", "é", "€", "😀", `\n`, `\"`, `\\`, `\/`, `\b`, `\f`, `\r`, `\t`,
	`\u00e9`, `\u00E9`, `\u0000`, `\u20ac`, `\ud83d\ude00`, `\uD83D\uDE00`, `\ud83d`, `\ude00`,
	`\ud800\ud800`, `\ud83d\u0041`, `\uffff`, `\ufffd`, "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80",
	"\xf0\x9f\x98", "\xef\xbf\xbd", "\x7f", `{\"a\":1}`,
}

func (g *generator) str() {
	g.sb.WriteByte('"')
	for range g.c.intn(8) {
		g.sb.WriteString(stringPieces[g.c.intn(len(stringPieces))])
	}
	g.sb.WriteByte('"')
}

var numbers = []string{"0", "1", "12", "-3", "2.5", "1e3", "1E-2", "-0", "99999999999999999999", "1e300", "1e999", "-1e999", "0.1e-400", "7.0000000001"}

func (g *generator) number() { g.sb.WriteString(numbers[g.c.intn(len(numbers))]) }

// random writes a value of any type, nested at most a few levels more.
func (g *generator) random(depth int) {
	switch k := g.c.intn(8); {
	case k == 0:
		g.sb.WriteString("null")
	case k == 1:
		g.sb.WriteString([]string{"true", "false"}[g.c.intn(2)])
	case k == 2:
		g.number()
	case k == 3:
		g.str()
	case k < 6 && depth < 12:
		g.sb.WriteByte('[')
		for i := range g.c.intn(3) {
			if i > 0 {
				g.sb.WriteByte(',')
			}
			g.random(depth + 1)
		}
		g.sb.WriteByte(']')
	case depth < 12:
		keys := []string{"content", "usage", "delta", "text", "a"}
		g.sb.WriteByte('{')
		for i := range g.c.intn(3) {
			if i > 0 {
				g.sb.WriteByte(',')
			}
			fmt.Fprintf(&g.sb, `"%s%d":`, keys[g.c.intn(len(keys))], i)
			g.random(depth + 1)
		}
		g.sb.WriteByte('}')
	default:
		g.sb.WriteString("{}")
	}
}

// generate returns one event of format f, drawn from b then from seed.
func generate(f Format, b []byte, seed uint64) []byte {
	g := generator{c: &choices{b: b, rng: rand.New(rand.NewPCG(seed, 1))}}
	switch f {
	case Anthropic:
		g.value(anthropicShape, 0)
	case Gemini:
		g.value(geminiShape, 0)
	default:
		g.value(openAIShape, 0)
	}
	return []byte(g.sb.String())
}

// The shapes of response bodies: the usage member at the root, and
// usage members nested where FromJSON must not look.
var (
	openAIBodyShape = &shape{kind: 'o', members: map[string]*shape{
		"usage": usageShape,
		"choices": {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{
			"usage": usageShape, "message": {kind: 'o', members: map[string]*shape{"content": stringShape}},
		}}},
		"data": nil,
	}}
	anthropicBodyShape = &shape{kind: 'o', members: map[string]*shape{
		"usage":   usageShape,
		"content": {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{"usage": usageShape, "text": stringShape}}},
	}}
	geminiBodyShape = &shape{kind: 'o', members: map[string]*shape{
		"usageMetadata": geminiUsageShape,
		"candidates":    {kind: 'a', elem: &shape{kind: 'o', members: map[string]*shape{"usageMetadata": geminiUsageShape, "content": nil}}},
	}}
	geminiArrayShape = &shape{kind: 'a', elem: geminiBodyShape}
)

// generateBody returns one response body of format f, drawn from b then
// from seed.
func generateBody(f Format, b []byte, seed uint64) []byte {
	g := generator{c: &choices{b: b, rng: rand.New(rand.NewPCG(seed, 2))}}
	switch {
	case f == Anthropic:
		g.value(anthropicBodyShape, 0)
	case f == Gemini && g.c.chance(50):
		g.value(geminiArrayShape, 0)
	case f == Gemini:
		g.value(geminiBodyShape, 0)
	default:
		g.value(openAIBodyShape, 0)
	}
	return []byte(g.sb.String())
}

// checkAgainstReference observes data with the scan and with encoding/json
// twice, from the given start, and compares. It reports whether data was
// compared (in scope).
func checkAgainstReference(t *testing.T, f Format, event, data []byte, reported bool) bool {
	t.Helper()
	if json.Valid(data) && outOfScope(data) {
		return false
	}
	got, want := NewMeter(f), NewMeter(f)
	for _, m := range []*Meter{got, want} {
		m.prompt, m.completion, m.reported = 7, 5, reported
	}
	for i := range 2 {
		switch f {
		case Anthropic:
			got.observeAnthropic(event, data)
			want.referenceObserveAnthropic(event, data)
		case Gemini:
			got.observeGemini(data)
			want.referenceObserveGemini(data)
		default:
			got.observeOpenAI(data)
			want.referenceObserveOpenAI(data)
		}
		if stateOf(got) != stateOf(want) {
			t.Fatalf("%s %q after %d: scan %+v, encoding/json %+v", f, data, i+1, stateOf(got), stateOf(want))
		}
	}
	return true
}

func TestScanMatchesEncodingJSONOnGeneratedEvents(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, f := range allFormats {
		compared, valid := 0, 0
		for i := range n {
			data := generate(f, nil, uint64(i))
			if json.Valid(data) {
				valid++
			}
			if checkAgainstReference(t, f, nil, data, i%3 == 0) {
				compared++
			}
		}
		t.Logf("%s: %d of %d in scope", f, compared, n)
		// The generator must mostly produce what it is for.
		if valid != n || compared < n*2/3 {
			t.Errorf("%s: %d of %d generated events valid, %d in scope", f, valid, n, compared)
		}
	}
}

// FuzzGeneratedEventsMatchEncodingJSON lets the fuzzer steer the generator.
func FuzzGeneratedEventsMatchEncodingJSON(f *testing.F) {
	f.Add([]byte{}, uint64(0), uint8(OpenAI))
	f.Add([]byte{99, 99, 99, 0, 0, 0, 50, 50}, uint64(1), uint8(Anthropic))
	f.Add([]byte{99, 0, 0, 0, 50, 50, 0, 0, 0}, uint64(2), uint8(Gemini))
	f.Fuzz(func(t *testing.T, b []byte, seed uint64, format uint8) {
		fm := formatOf(format)
		checkAgainstReference(t, fm, nil, generate(fm, b, seed), seed%2 == 0)
	})
}
