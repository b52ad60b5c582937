package usage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// FuzzMeter feeds the same bytes in one write and in writes cut at the
// points cuts gives: neither may panic and both must agree.
func FuzzMeter(f *testing.F) {
	for _, c := range streamCases {
		raw := sample(f, c.file)
		f.Add(raw, []byte{1, 7, 200, 3}, c.format == Anthropic)
		f.Add(crlf(raw), []byte{13}, c.format == Anthropic)
	}
	f.Add([]byte("data: [DONE]\r"), []byte{12}, false)
	f.Add([]byte("data:{\"usage\":{\"prompt_tokens\":1}}\r\n\r\n"), []byte{5, 30}, false)
	f.Fuzz(func(t *testing.T, data, cuts []byte, anthropic bool) {
		format := OpenAI
		if anthropic {
			format = Anthropic
		}
		whole := meter(format, data)
		split := meter(format, splitAt(data, cuts)...)
		if whole.Usage() != split.Usage() || whole.Done() != split.Done() || whole.EstimatedCompletion() != split.EstimatedCompletion() {
			t.Errorf("one write: %+v done %v est %d; split: %+v done %v est %d",
				whole.Usage(), whole.Done(), whole.EstimatedCompletion(), split.Usage(), split.Done(), split.EstimatedCompletion())
		}
		if u := whole.Usage(); u.Prompt < 0 || u.Completion < 0 {
			t.Errorf("negative usage %+v", u)
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

func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`), false)
	f.Add([]byte(`{"usage":{"input_tokens":36,"output_tokens":87,"total_tokens":123}}`), false)
	f.Add([]byte(`{"usage":{"prompt_tokens":8,"total_tokens":8}}`), false)
	f.Add([]byte(`{"usage":{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":300,"output_tokens":9}}`), true)
	f.Add([]byte(`{"usage":{"prompt_tokens":-1e309}}`), false)
	f.Add([]byte(`{"a":"x \"usage","usage":{"prompt_tokens":1},"b":{"usage":{"output_tokens":2}}}`), true)
	f.Add([]byte(`[{"usage":{"input_tokens":1}},{"usage":null}]`), true)
	f.Fuzz(func(t *testing.T, body []byte, anthropic bool) {
		format := OpenAI
		if anthropic {
			format = Anthropic
		}
		u := FromJSON(format, body)
		if u.Prompt < 0 || u.Completion < 0 || u.Total() < 0 {
			t.Errorf("FromJSON gave %+v", u)
		}
		if !u.Reported && (u.Prompt != 0 || u.Completion != 0) {
			t.Errorf("unreported usage with counts: %+v", u)
		}
		// Keys are matched as written: \u-escaped ones are out of scope.
		if json.Valid(body) && !bytes.Contains(body, []byte(`\u`)) {
			if want := referenceUsage(format, decodeUsage(body)); u != want {
				t.Errorf("fast path %+v, full decode %+v", u, want)
			}
		}
	})
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
