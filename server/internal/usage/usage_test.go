package usage

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestFromJSONReadsEachResponseKind(t *testing.T) {
	cases := []struct {
		name   string
		format Format
		body   string
		want   Usage
	}{
		{"chat completion", OpenAI, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}}`, Usage{12, 3, true}},
		{"legacy completion", OpenAI, `{"object":"text_completion","choices":[{"text":"x"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`, Usage{5, 7, true}},
		{"embeddings", OpenAI, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`, Usage{8, 0, true}},
		{"responses API", OpenAI, `{"id":"resp_1","object":"response","output":[],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}`, Usage{36, 87, true}},
		{"total above the split is charged", OpenAI, `{"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":40}}`, Usage{10, 30, true}},
		{"total alone is prompt", OpenAI, `{"usage":{"total_tokens":9}}`, Usage{9, 0, true}},
		{"floats round up, negatives are 0", OpenAI, `{"usage":{"prompt_tokens":10.2,"completion_tokens":-4}}`, Usage{11, 0, true}},
		{"images", OpenAI, `{"created":1713833628,"data":[{"b64_json":"iVBORw0KGgo="}],"usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50,"input_tokens_details":{"text_tokens":10,"image_tokens":40}}}`, Usage{50, 50, true}},
		{"audio transcription in tokens", OpenAI, `{"text":"Imagine the wildest idea.","usage":{"type":"tokens","input_tokens":14,"input_token_details":{"text_tokens":0,"audio_tokens":14},"output_tokens":45,"total_tokens":59}}`, Usage{14, 45, true}},
		{"audio transcription in seconds", OpenAI, `{"text":"Hi.","usage":{"type":"duration","seconds":9}}`, Usage{}},
		{"gemini generateContent", Gemini, `{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10},"modelVersion":"gemini-2.0-flash"}`, Usage{8, 2, true}},
		{"gemini streamGenerateContent as a JSON array", Gemini, "[{\n  \"candidates\": [],\n  \"usageMetadata\": {\"promptTokenCount\": 8, \"totalTokenCount\": 8}\n}\n,\r\n{\n  \"usageMetadata\": {\"promptTokenCount\": 8, \"candidatesTokenCount\": 3, \"totalTokenCount\": 11}\n}\n]", Usage{8, 3, true}},
		{"anthropic with cache", Anthropic, `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}],"usage":{"input_tokens":20,"cache_creation_input_tokens":1000,"cache_read_input_tokens":300,"output_tokens":9}}`, Usage{1320, 9, true}},
		{"anthropic error", Anthropic, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, Usage{}},
		{"openai error", OpenAI, `{"error":{"message":"bad","type":"invalid_request_error"}}`, Usage{}},
		{"usage null", OpenAI, `{"usage":null}`, Usage{}},
		{"usage empty", OpenAI, `{"usage":{}}`, Usage{}},
		{"usage of the wrong type", OpenAI, `{"usage":"lots"}`, Usage{}},
		{"mistyped sibling", OpenAI, `{"choices":"x","usage":{"prompt_tokens":1,"completion_tokens":2}}`, Usage{1, 2, true}},
		{"not JSON", OpenAI, `<html>502 Bad Gateway</html>`, Usage{}},
		{"array", OpenAI, `[{"usage":{"prompt_tokens":1}}]`, Usage{}},
		{"empty", Anthropic, ``, Usage{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := FromJSON(c.format, []byte(c.body)); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestFromJSONClampsHugeCounts(t *testing.T) {
	got := FromJSON(OpenAI, []byte(`{"usage":{"prompt_tokens":1e300,"completion_tokens":99999999999999999999}}`))
	if got.Prompt != maxCount || got.Completion != maxCount || got.Total() <= 0 {
		t.Errorf("got %+v, want both clamped to %d without overflow", got, maxCount)
	}
}

func TestFromJSONFindsOnlyTheTopLevelUsage(t *testing.T) {
	many := strings.Repeat(`{"usage":{"prompt_tokens":99}},`, 10)
	cases := map[string]struct {
		body string
		want Usage
	}{
		"usage in content text":       {`{"choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 9}"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`, Usage{1, 2, true}},
		"string ending in usage":      {`{"a":"x \"usage","usage":{"prompt_tokens":1}}`, Usage{1, 0, true}},
		"nested usage after the root": {`{"usage":{"prompt_tokens":1},"meta":{"usage":{"prompt_tokens":7}}}`, Usage{1, 0, true}},
		"only nested usage":           {`{"meta":{"usage":{"prompt_tokens":7}},"x":["usage"]}`, Usage{}},
		"last duplicate wins":         {`{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}`, Usage{2, 0, true}},
		"spaces around":               {" {\n \"usage\" :\t{\"prompt_tokens\": 3 } \n}\n", Usage{3, 0, true}},
		"many nested candidates":      {`{"data":[` + many + `{}],"usage":{"prompt_tokens":4}}`, Usage{4, 0, true}},
		"many nested, no top-level":   {`{"data":[` + many + `{}],"x":1}`, Usage{}},
		"key with another case":       {`{"USAGE":{"prompt_tokens":4}}`, Usage{}},
	}
	for name, c := range cases {
		if got := FromJSON(OpenAI, []byte(c.body)); got != c.want {
			t.Errorf("%s: got %+v, want %+v", name, got, c.want)
		}
	}
}

// FuzzCountMatchesParseFloat checks count's integer fast path against the
// ParseFloat reading it stands in for.
func FuzzCountMatchesParseFloat(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-3", "007", "999999999999999", "1000000000000000", "2.5", "1e3", "", "-", "+1", "1_0", "0x10", "inf", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want count
		_ = got.UnmarshalJSON([]byte(s))
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			want = count{N: int64(min(max(math.Ceil(v), 0), maxCount)), OK: true}
		}
		if got != want {
			t.Fatalf("%q: %+v, ParseFloat gives %+v", s, got, want)
		}
	})
}
