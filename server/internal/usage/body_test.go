package usage

import (
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// bodyOf feeds body to a new BodyMeter in pieces of at most n bytes.
func bodyOf(f Format, body []byte, n int) *BodyMeter {
	m := NewBodyMeter(f)
	for len(body) > 0 {
		k := min(n, len(body))
		_, _ = m.Write(body[:k])
		body = body[k:]
	}
	return m
}

// embeddingChunk is about 64 KiB of embedding objects, each followed by
// a comma.
var embeddingChunk = func() []byte {
	one := `{"object":"embedding","index":0,"embedding":[` + strings.Repeat(`-0.0023064255,1.5e-3,0,`, 100) + `0.1]},`
	return []byte(strings.Repeat(one, (64<<10)/len(one)))
}()

func TestBodyMeterReadsUsageAtTheEndOfA100MBBody(t *testing.T) {
	const size = 100 << 20
	m := NewBodyMeter(OpenAI)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = m.Write([]byte(`{"object":"list","data":[`))
	for written := 0; written < size; written += len(embeddingChunk) {
		_, _ = m.Write(embeddingChunk)
	}
	_, _ = m.Write([]byte(`{}],"model":"text-embedding-3-small","usage":{"prompt_tokens":800,"total_tokens":800}}` + "\n"))
	runtime.ReadMemStats(&after)
	if got, want := m.Usage(), (Usage{800, 0, true}); got != want {
		t.Errorf("Usage() = %+v, want %+v", got, want)
	}
	// O(1): nothing of the body is kept, only the usage value.
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("reading 100 MB allocated %d bytes", n)
	}
}

func TestBodyMeterWriteDoesNotAllocate(t *testing.T) {
	m := NewBodyMeter(OpenAI)
	_, _ = m.Write([]byte(`{"data":[`))
	if n := testing.AllocsPerRun(100, func() { _, _ = m.Write(embeddingChunk) }); n != 0 {
		t.Errorf("Write allocates %v times a call", n)
	}
}

func TestBodyMeterReadsTheLastUsageMetadataOfAGeminiArrayStream(t *testing.T) {
	// streamGenerateContent without alt=sse: one JSON array, each element
	// a GenerateContentResponse with the usage so far.
	var b strings.Builder
	b.WriteString("[")
	for i := range 3000 {
		if i > 0 {
			b.WriteString("\n,\r\n")
		}
		b.WriteString(`{"candidates": [{"content": {"parts": [{"text": "chunk"}],"role": "model"},"index": 0}],` +
			`"usageMetadata": {"promptTokenCount": 51,"candidatesTokenCount": ` + strconv.Itoa(i) + `,"totalTokenCount": ` + strconv.Itoa(51+i) + `}}`)
	}
	b.WriteString("\n,\r\n" + `{"candidates": [{"content": {"parts": [{"text": "."}],"role": "model"},"finishReason": "STOP","index": 0}],` +
		`"usageMetadata": {"promptTokenCount": 51,"candidatesTokenCount": 3000,"thoughtsTokenCount": 700,"totalTokenCount": 3751},"modelVersion": "gemini-2.5-flash"}` + "\n]")
	body := []byte(b.String())
	for _, n := range []int{1, 7, 4096, len(body)} {
		if got, want := bodyOf(Gemini, body, n).Usage(), (Usage{51, 3700, true}); got != want {
			t.Errorf("in writes of %d: Usage() = %+v, want %+v", n, got, want)
		}
	}
	if got := bodyOf(Gemini, body[:len(body)-1], 4096).Usage(); got.Reported {
		t.Errorf("an array stream cut before its ']' gave %+v", got)
	}
}

func TestBodyMeterIgnoresNestedUsage(t *testing.T) {
	cases := []struct {
		name   string
		format Format
		body   string
		want   Usage
	}{
		{"usage in a choice", OpenAI, `{"choices":[{"message":{"content":"x"},"usage":{"prompt_tokens":9}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`, Usage{1, 2, true}},
		{"only nested usage", OpenAI, `{"data":[{"usage":{"prompt_tokens":9}}],"meta":{"usage":{"prompt_tokens":9}}}`, Usage{}},
		{"usage in a string", OpenAI, `{"content":"{\"usage\":{\"prompt_tokens\":9}}","x":"\"usage\":"}`, Usage{}},
		{"usage as a string value", OpenAI, `{"a":"usage","b":["usage",{"prompt_tokens":9}]}`, Usage{}},
		{"nested after the root's", Anthropic, `{"usage":{"input_tokens":1},"content":[{"usage":{"input_tokens":9}}]}`, Usage{1, 0, true}},
		{"array root is not read for openai", OpenAI, `[{"usage":{"prompt_tokens":1}}]`, Usage{}},
		{"array root is not read for anthropic", Anthropic, `[{"usage":{"input_tokens":1}}]`, Usage{}},
		{"gemini: usageMetadata in a candidate", Gemini, `{"candidates":[{"usageMetadata":{"promptTokenCount":9}}],"usageMetadata":{"promptTokenCount":2}}`, Usage{2, 0, true}},
		{"gemini: only nested usageMetadata", Gemini, `{"candidates":[{"usageMetadata":{"promptTokenCount":9}}]}`, Usage{}},
		{"gemini: an array in the array", Gemini, `[[{"usageMetadata":{"promptTokenCount":9}}],{"x":1}]`, Usage{}},
		{"gemini: nested in an element", Gemini, `[{"x":{"usageMetadata":{"promptTokenCount":9}}}]`, Usage{}},
		{"gemini: not usage", Gemini, `{"usage":{"prompt_tokens":9}}`, Usage{}},
	}
	for _, c := range cases {
		for _, n := range []int{1, 3, len(c.body)} {
			if got := bodyOf(c.format, []byte(c.body), n).Usage(); got != c.want {
				t.Errorf("%s, writes of %d: %+v, want %+v", c.name, n, got, c.want)
			}
		}
	}
}

func TestBodyMeterTakesTheLastDuplicateWhole(t *testing.T) {
	cases := []struct {
		format Format
		body   string
		want   Usage
	}{
		// The whole value is replaced, not merged (a map's last value).
		{OpenAI, `{"usage":{"prompt_tokens":1,"completion_tokens":5},"usage":{"prompt_tokens":2}}`, Usage{2, 0, true}},
		{OpenAI, `{"usage":{"prompt_tokens":1},"usage":null}`, Usage{}},
		{OpenAI, `{"usage":null,"usage":{"prompt_tokens":3}}`, Usage{3, 0, true}},
		{Gemini, `[{"usageMetadata":{"promptTokenCount":1}},{"usageMetadata":{"promptTokenCount":2}},{"x":1}]`, Usage{2, 0, true}},
		{Gemini, `[{"usageMetadata":{"promptTokenCount":1}},{"usageMetadata":null}]`, Usage{}},
	}
	for _, c := range cases {
		if got := FromJSON(c.format, []byte(c.body)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.body, got, c.want)
		}
		if want := referenceBodyUsage(c.format, []byte(c.body)); want != c.want {
			t.Errorf("%s: encoding/json gives %+v", c.body, want)
		}
	}
}

func TestBodyMeterMatchesKeysExactlyAfterUnescaping(t *testing.T) {
	escaped := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			b.WriteString(`\u00` + "0123456789abcdef"[c>>4:c>>4+1] + "0123456789abcdef"[c&15:c&15+1])
		}
		return b.String()
	}
	cases := []struct {
		format Format
		body   string
		want   Usage
	}{
		{OpenAI, `{"\u0075sage":{"prompt_tokens":1}}`, Usage{1, 0, true}},
		{OpenAI, `{"` + escaped("usage") + `":{"prompt_tokens":1}}`, Usage{1, 0, true}},
		{Gemini, `{"` + escaped("usageMetadata") + `":{"promptTokenCount":1}}`, Usage{1, 0, true}},
		{Gemini, `[{"usage\u004detadata":{"promptTokenCount":1}}]`, Usage{1, 0, true}},
		{OpenAI, `{"Usage":{"prompt_tokens":1}}`, Usage{}},
		{OpenAI, `{"USAGE":{"prompt_tokens":1}}`, Usage{}},
		{OpenAI, `{"u\u017fage":{"prompt_tokens":1}}`, Usage{}}, // ſ folds to s
		{OpenAI, `{"usage ":{"prompt_tokens":1}}`, Usage{}},
		{OpenAI, `{"usage\u0000":{"prompt_tokens":1}}`, Usage{}},
		{Gemini, `{"usagemetadata":{"promptTokenCount":1}}`, Usage{}},
		{Gemini, `{"` + escaped("usageMetadata") + `x":{"promptTokenCount":1}}`, Usage{}},
	}
	for _, c := range cases {
		if got := bodyOf(c.format, []byte(c.body), 5).Usage(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.body, got, c.want)
		}
		if want := referenceBodyUsage(c.format, []byte(c.body)); want != c.want {
			t.Errorf("%s: encoding/json gives %+v", c.body, want)
		}
	}
}

func TestBodyMeterTreatsAnOversizedUsageAsUnreadable(t *testing.T) {
	usage := func(pad int) string {
		v := `{"prompt_tokens":1,"x":"` + strings.Repeat("a", pad) + `"}`
		return v
	}
	fits := usage(maxUsageValue - len(usage(0)))
	over := usage(maxUsageValue - len(usage(0)) + 1)
	cases := []struct {
		body string
		want Usage
	}{
		{`{"usage":` + fits + `}`, Usage{1, 0, true}},
		{`{"usage":` + over + `}`, Usage{}},
		{`{"usage":` + fits + `,"usage":` + over + `}`, Usage{}},
		{`{"usage":` + over + `,"usage":{"prompt_tokens":2}}`, Usage{2, 0, true}},
	}
	for i, c := range cases {
		if got := bodyOf(OpenAI, []byte(c.body), 1000).Usage(); got != c.want {
			t.Errorf("case %d: %+v, want %+v", i, got, c.want)
		}
	}
}

func TestBodyMeterGivesNothingForGarbageOrATruncatedBody(t *testing.T) {
	body := []byte(`{"id":"chatcmpl-1","choices":[{"message":{"content":"a \"b\" \u00e9"},"logprobs":null,"x":[true,false,-1.5e+3]}],"usage":{"prompt_tokens":12,"completion_tokens":3}}`)
	if got := FromJSON(OpenAI, body); got != (Usage{12, 3, true}) {
		t.Fatalf("whole body: %+v", got)
	}
	for i := range len(body) {
		if got := FromJSON(OpenAI, body[:i]); got != (Usage{}) {
			t.Errorf("cut at %d: %+v", i, got)
		}
	}
	for _, garbage := range []string{
		"<html>502 Bad Gateway</html>", "", " ", "\xef\xbb\xbf" + string(body), string(body) + "}", string(body) + ",",
		string(body) + string(body), `{"usage":{"prompt_tokens":1},}`, `{"usage":{"prompt_tokens":1}]`,
		`{"usage":{"prompt_tokens":1},"x":"` + "\x01" + `"}`, `{"usage":{"prompt_tokens":1},"x":tru}`,
		`{"usage":{"prompt_tokens":1},"x":"\u12g4"}`, `{"usage":{"prompt_tokens":1},"x":+1}`,
		`{"usage":{"prompt_tokens":1},"x":.5}`, `{"usage":{"prompt_tokens":1},"x":1.}`, `{"usage":{"prompt_tokens":1},'x':1}`,
	} {
		if got := FromJSON(OpenAI, []byte(garbage)); got != (Usage{}) {
			t.Errorf("%q: %+v", garbage, got)
		}
	}
}

func TestBodyMeterValidatesLikeEncodingJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, s := range []string{
		`0`, `-0`, `01`, `-`, `1.5`, `1.`, `.5`, `1e5`, `1E+5`, `1e-05`, `1e`, `1e+`, `-01`, `2.5e3x`,
		`true`, `tru`, `truex`, `null`, `nul`, `false`, `"a"`, `"\ud800"`, `"\x"`, `"\u00e"`, "\"\x7f\xff\"", "\"\t\"",
		`[]`, `[,]`, `[1,]`, `[1 2]`, `{}`, `{,}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a" : 1 , "b" : [ ] }`,
		`{1:2}`, `{"a":1}}`, `[}`, `{]`, " \r\n\t{} \r\n\t", "\f{}", `[] []`, `"a" "b"`,
		`[1,-0.5e+3, 2 ,3]`, `[1,]`, `[01]`, `[1.]`, `[-]`, `[1e]`, `[1e+]`, `[1 2]`, `[ 1 , 2 ]`, `[1,"a",-0]`, `[1,,2]`, `[0.1e-2,1E2]`, `[-01]`,
		deep(maxNesting), deep(maxNesting + 1), `{"a":` + deep(maxNesting-1) + `}`, `{"a":` + deep(maxNesting) + `}`,
	} {
		m := bodyOf(Gemini, []byte(s), 2)
		if got, want := m.complete(), json.Valid([]byte(s)); got != want {
			t.Errorf("%.40q: BodyMeter %v, json.Valid %v", s, got, want)
		}
	}
}

func TestBodyMeterAgreesHoweverTheBodyIsSplit(t *testing.T) {
	for _, s := range bodySeeds {
		body := []byte(s.body)
		whole := bodyOf(s.format, body, len(body)+1).Usage()
		for n := 1; n <= 9; n++ {
			if got := bodyOf(s.format, body, n).Usage(); got != whole {
				t.Errorf("%s in writes of %d: %+v, in one write %+v", s.body, n, got, whole)
			}
		}
		if want := referenceBodyUsage(s.format, body); whole != want {
			t.Errorf("%s: %+v, encoding/json %+v", s.body, whole, want)
		}
	}
}

// Random bodies seldom hold a usage member; these are generated with one,
// nested usage and other members, in every shape FromJSON reads.
func TestBodyMeterMatchesEncodingJSONOnGeneratedBodies(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	for _, f := range allFormats {
		reported := 0
		for i := range n {
			body := generateBody(f, nil, uint64(i))
			want := referenceBodyUsage(f, body)
			if got := bodyOf(f, body, 1+i%13).Usage(); got != want {
				t.Fatalf("%s %s: %+v, encoding/json %+v", f, body, got, want)
			}
			if want.Reported {
				reported++
			}
		}
		t.Logf("%s: %d of %d report usage", f, reported, n)
		if reported < n/4 {
			t.Errorf("%s: only %d of %d generated bodies report usage", f, reported, n)
		}
	}
}
