package usage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// allFormats are the formats the fuzz targets pick from with a byte.
var allFormats = []Format{OpenAI, Anthropic, Gemini}

func formatOf(b uint8) Format { return allFormats[int(b)%len(allFormats)] }

// FuzzMeter feeds the same bytes in one write and in writes cut at the
// points cuts gives: neither may panic and both must agree.
func FuzzMeter(f *testing.F) {
	for _, c := range streamCases {
		raw := sample(f, c.file)
		f.Add(raw, []byte{1, 7, 200, 3}, uint8(c.format))
		f.Add(crlf(raw), []byte{13}, uint8(c.format))
	}
	f.Add([]byte("data: [DONE]\r"), []byte{12}, uint8(OpenAI))
	f.Add([]byte("data:{\"usage\":{\"prompt_tokens\":1}}\r\n\r\n"), []byte{5, 30}, uint8(OpenAI))
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1,\"thoughtsTokenCount\":4}}\r\n\r\n"), []byte{9, 2}, uint8(Gemini))
	f.Fuzz(func(t *testing.T, data, cuts []byte, format uint8) {
		fm := formatOf(format)
		whole := meter(fm, data)
		split := meter(fm, splitAt(data, cuts)...)
		if whole.Usage() != split.Usage() || whole.Done() != split.Done() || whole.Progress() != split.Progress() {
			t.Errorf("one write: %+v done %v %+v; split: %+v done %v %+v",
				whole.Usage(), whole.Done(), whole.Progress(), split.Usage(), split.Done(), split.Progress())
		}
		if u := whole.Usage(); u.Prompt < 0 || u.Completion < 0 {
			t.Errorf("negative usage %+v", u)
		}
		if p := whole.Progress(); p.Events < 0 || p.TextBytes < p.Events {
			t.Errorf("progress %+v: each event has at least a byte", p)
		}
	})
}

// splitAt cuts data into pieces whose lengths cycle through cuts.
func splitAt(data, cuts []byte) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(cuts) > 0 {
			n = max(int(cuts[i%len(cuts)]), 1)
		}
		n = min(n, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// bodySeeds are bodies of every kind FromJSON and BodyMeter read.
var bodySeeds = []struct {
	body   string
	format Format
}{
	{`{"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`, OpenAI},
	{`{"usage":{"input_tokens":36,"output_tokens":87,"total_tokens":123}}`, OpenAI},
	{`{"usage":{"prompt_tokens":8,"total_tokens":8}}`, OpenAI},
	{`{"usage":{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":300,"output_tokens":9}}`, Anthropic},
	{`{"usage":{"prompt_tokens":-1e309}}`, OpenAI},
	{`{"a":"x \"usage","usage":{"prompt_tokens":1},"b":{"usage":{"output_tokens":2}}}`, Anthropic},
	{`[{"usage":{"input_tokens":1}},{"usage":null}]`, Anthropic},
	{`{"\u0075sage":{"prompt_tokens":1},"usage":{"prompt_tokens":2},"Usage":{"prompt_tokens":3}}`, OpenAI},
	{`{"candidates":[{"content":{"parts":[{"text":"Paris"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":1,"totalTokenCount":45,"thoughtsTokenCount":33},"modelVersion":"gemini-2.5-flash"}`, Gemini},
	{"[{\n  \"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\"}]}}],\n  \"usageMetadata\": {\"promptTokenCount\": 8, \"totalTokenCount\": 8}\n}\n,\r\n{\n  \"candidates\": [{\"content\": {\"parts\": [{\"text\": \"!\"}]}, \"finishReason\": \"STOP\"}],\n  \"usageMetadata\": {\"promptTokenCount\": 8, \"candidatesTokenCount\": 2, \"toolUsePromptTokenCount\": 5, \"cachedContentTokenCount\": 4, \"totalTokenCount\": 15}\n}\n]", Gemini},
	{`[1,null,{"usageMetadata":{"promptTokenCount":1}},[{"usageMetadata":{"promptTokenCount":9}}],{"x":{"usageMetadata":{"promptTokenCount":9}}}]`, Gemini},
	{`{"data":[{"embedding":[0.0023,-0.0093,1e-3,-0,5E+2 , 7]}],"usage":{"prompt_tokens":8,"total_tokens":8,"x":[1,2.5]}}`, OpenAI},
	{`{"usage":{"prompt_tokens":1}} x`, OpenAI},
	{`{"usage":{"prompt_tokens":1}`, OpenAI},
	{`{"usage":{"prompt_tokens":01}}`, OpenAI},
	{"{\"usage\":{\"prompt_tokens\":1,\"x\":\"\t\"}}", OpenAI},
	{`{"usage":{"prompt_tokens":1,"x":"\x"}}`, OpenAI},
}

// FuzzFromJSON holds FromJSON on the whole body, and a BodyMeter fed the
// body in writes cut where cuts says, to the answer of decoding the whole
// body with encoding/json into a map with exact keys; a BodyMeter must
// also judge the body valid exactly as encoding/json does.
func FuzzFromJSON(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s.body), uint8(s.format), []byte{3, 1, 17})
	}
	f.Fuzz(func(t *testing.T, body []byte, format uint8, cuts []byte) {
		fm := formatOf(format)
		u := FromJSON(fm, body)
		if u.Prompt < 0 || u.Completion < 0 || u.Total() < 0 {
			t.Errorf("FromJSON gave %+v", u)
		}
		if !u.Reported && (u.Prompt != 0 || u.Completion != 0) {
			t.Errorf("unreported usage with counts: %+v", u)
		}
		if want := referenceBodyUsage(fm, body); u != want {
			t.Errorf("FromJSON %+v, encoding/json %+v", u, want)
		}
		m := NewBodyMeter(fm)
		for _, piece := range splitAt(body, cuts) {
			_, _ = m.Write(piece)
		}
		if got := m.Usage(); got != u {
			t.Errorf("BodyMeter in pieces %+v, in one write %+v", got, u)
		}
		if m.complete() != json.Valid(body) {
			t.Errorf("BodyMeter judges the body complete: %v, json.Valid: %v", m.complete(), json.Valid(body))
		}
	})
}

// complete reports whether the body written so far is one whole JSON
// value. (A number at the root ends only with the body; Usage need not
// know, as such a body has no usage.)
func (m *BodyMeter) complete() bool {
	switch m.state {
	case sAfter:
		return m.depth == 0
	case sZero, sInt, sFrac, sExpDigits:
		return m.depth == 0
	}
	return false
}

// referenceBodyUsage is the usage of a body as encoding/json reads it:
// the whole body decoded into a map with exact keys (or, for Gemini, an
// array of such maps, the last usageMetadata winning).
func referenceBodyUsage(f Format, body []byte) Usage {
	name := "usage"
	if f == Gemini {
		name = "usageMetadata"
	}
	var raw json.RawMessage
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err == nil {
		raw = doc[name]
	} else if f == Gemini {
		var chunks []json.RawMessage
		_ = json.Unmarshal(body, &chunks)
		for _, chunk := range chunks {
			var obj map[string]json.RawMessage
			if json.Unmarshal(chunk, &obj) == nil && obj[name] != nil {
				raw = obj[name]
			}
		}
	}
	if len(raw) > maxUsageValue {
		return Usage{} // unreadable
	}
	return referenceUsage(f, raw)
}

// referenceUsage is the plain encoding/json reading of a usage object,
// member by member in order with exact keys, that usageOf's scan must
// agree with.
func referenceUsage(f Format, raw []byte) Usage {
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return Usage{}
	}
	var t tokenCounts
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // {
	for dec.More() {
		key, _ := dec.Token()
		var value json.RawMessage
		if dec.Decode(&value) != nil {
			return Usage{}
		}
		if c := t.field([]byte(strconv.Quote(key.(string)))); c != nil {
			_ = c.UnmarshalJSON(value)
		}
	}
	u, _ := t.usage(f)
	return u
}
