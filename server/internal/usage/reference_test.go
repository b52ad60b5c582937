package usage

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// The meter's reading of stream events as it was with encoding/json, kept
// as the reference the jsonscan reading must agree with.

type openAIChunk struct {
	Type     string       `json:"type"`  // Responses API event type
	Delta    string       `json:"delta"` // Responses API text delta
	Usage    *tokenCounts `json:"usage"`
	Response struct {
		Usage *tokenCounts `json:"usage"`
	} `json:"response"`
	Choices []openAIChoiceRef `json:"choices"`
}

type openAIChoiceRef struct {
	Text  string `json:"text"` // legacy completions
	Delta struct {
		Content          string `json:"content"`
		ReasoningContent string `json:"reasoning_content"`
		Reasoning        string `json:"reasoning"`
		Refusal          string `json:"refusal"`
		ToolCalls        []struct {
			Function openAIArguments `json:"function"`
		} `json:"tool_calls"`
		FunctionCall openAIArguments `json:"function_call"`
	} `json:"delta"`
}

type openAIArguments struct {
	Arguments string `json:"arguments"`
}

type geminiChunkRef struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text         string `json:"text"`
				FunctionCall struct {
					Args json.RawMessage `json:"args"`
				} `json:"functionCall"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *tokenCounts `json:"usageMetadata"`
}

type anthropicEventRef struct {
	Type    string `json:"type"`
	Message struct {
		Usage *tokenCounts `json:"usage"`
	} `json:"message"`
	Usage *tokenCounts `json:"usage"`
	Delta struct {
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
	} `json:"delta"`
}

func (m *Meter) referenceObserveOpenAI(data []byte) {
	if bytes.Equal(bytes.TrimSpace(data), doneMarker) {
		m.done = true
		return
	}
	if !containsAny(data, openAIKeys) {
		return
	}
	var c openAIChunk
	_ = json.Unmarshal(data, &c)
	for _, t := range []*tokenCounts{c.Usage, c.Response.Usage} {
		if t != nil {
			m.openAIUsage(t)
		}
	}
	var n int
	if strings.HasSuffix(c.Type, ".delta") && !strings.Contains(c.Type, "audio") {
		n += len(c.Delta)
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		n += len(ch.Text) + len(ch.Delta.Content) + len(ch.Delta.ReasoningContent) +
			len(ch.Delta.Reasoning) + len(ch.Delta.Refusal) + len(ch.Delta.FunctionCall.Arguments)
		for _, tc := range ch.Delta.ToolCalls {
			n += len(tc.Function.Arguments)
		}
	}
	m.addContent(int64(n))
	switch c.Type {
	case "response.completed", "response.incomplete", "response.failed":
		m.done = true
	}
}

func (m *Meter) referenceObserveAnthropic(event, data []byte) {
	switch string(event) {
	case "ping", "content_block_start", "content_block_stop", "error":
		return
	case "message_stop":
		m.done = true
		return
	}
	var e anthropicEventRef
	_ = json.Unmarshal(data, &e)
	switch e.Type {
	case "message_start":
		if e.Message.Usage != nil {
			m.anthropicStart(e.Message.Usage)
		}
	case "message_delta":
		if e.Usage != nil {
			m.anthropicDelta(e.Usage)
		}
	case "content_block_delta":
		m.addContent(int64(len(e.Delta.Text) + len(e.Delta.PartialJSON) + len(e.Delta.Thinking)))
	case "message_stop":
		m.done = true
	}
}

func (m *Meter) referenceObserveGemini(data []byte) {
	var c geminiChunkRef
	_ = json.Unmarshal(data, &c) // not JSON: c stays empty
	var n int
	finished := false
	for _, cand := range c.Candidates {
		for _, part := range cand.Content.Parts {
			n += len(part.Text)
			if args := part.FunctionCall.Args; len(args) > 0 && args[0] == '{' {
				n += len(args)
			}
		}
		finished = finished || cand.FinishReason != ""
	}
	m.addContent(int64(n))
	if c.UsageMetadata != nil {
		if u, ok := c.UsageMetadata.geminiUsage(); ok {
			m.geminiUsage(u, finished)
		}
	}
	if finished {
		m.done = true
	}
}

// fieldNames are the keys of every struct above and of tokenCounts.
var fieldNames = []string{
	"type", "delta", "usage", "response", "choices", "text", "content",
	"reasoning_content", "reasoning", "refusal", "tool_calls", "function",
	"function_call", "arguments", "message", "partial_json", "thinking",
	"prompt_tokens", "completion_tokens", "total_tokens", "input_tokens",
	"output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
	"candidates", "parts", "functionCall", "args", "finishReason", "usageMetadata",
	"promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
	"toolUsePromptTokenCount", "cachedContentTokenCount", "totalTokenCount",
}

// outOfScope reports valid JSON on which the scan is defined to differ
// from encoding/json: an object with a duplicate key, or a key that only
// encoding/json's case-insensitive match takes for a field ("Usage", or
// "uſage": strings.EqualFold folds as encoding/json's foldName does).
func outOfScope(data []byte) bool {
	type frame struct {
		keys    map[string]bool // nil for an array
		keyNext bool
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].keyNext = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return true // not valid JSON after all
		}
		if n := len(stack); n > 0 && stack[n-1].keyNext {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			key := tok.(string)
			if stack[n-1].keys[key] {
				return true
			}
			stack[n-1].keys[key] = true
			for _, name := range fieldNames {
				if key != name && strings.EqualFold(key, name) {
					return true
				}
			}
			stack[n-1].keyNext = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, keyNext: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// meterState is everything an event may change.
type meterState struct {
	Prompt, Completion, Events, TextBytes int64
	Reported, Done                        bool
}

func stateOf(m *Meter) meterState {
	return meterState{m.prompt, m.completion, m.progress.Events, m.progress.TextBytes, m.reported, m.done}
}

// eventSeeds are the data of every event in the samples plus edge cases.
func eventSeeds(t testing.TB, format Format) [][]byte {
	var seeds [][]byte
	for _, c := range streamCases {
		if c.format != format {
			continue
		}
		for _, line := range bytes.Split(sample(t, c.file), []byte("\n")) {
			if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				seeds = append(seeds, data)
			}
		}
	}
	return seeds
}

func TestOutOfScopeFindsDuplicateAndFoldedKeys(t *testing.T) {
	for in, want := range map[string]bool{
		`{"usage":{"prompt_tokens":1}}`:                   false,
		`{"a":[{"b":1},{"b":2}],"c":{"b":{"b":3}},"b":4}`: false,
		`{"a":1,"a":2}`: true,
		`{"x":{"choices":[{"delta":{"a":1,"b":2,"a":3}}]}}`: true,
		`{"Usage":{}}`:              true,
		`{"u\u017fage":{}}`:         true,
		`{"x":[1,{"TEXT":2}]}`:      true,
		`{"Other":1,"X":[],"Y":{}}`: false,
		`[1e999,{"a":[]}]`:          false,
	} {
		if got := outOfScope([]byte(in)); got != want {
			t.Errorf("outOfScope(%s) = %v, want %v", in, got, want)
		}
	}
}

func FuzzOpenAIEventMatchesEncodingJSON(f *testing.F) {
	for _, s := range eventSeeds(f, OpenAI) {
		f.Add(s, false)
	}
	for _, s := range []string{
		`{"choices":[{"delta":{"content":"caf\u00e9 \ud83d\ude00 \ud800 \udc00x \n\t\"\\\/"}}]}`,
		"{\"choices\":[{\"text\":\"\xff\xfe\xe2\x82 ok \xed\xa0\x80\"}]}",
		`{"choices":[{"delta":{"content":null,"refusal":7,"reasoning":{},"tool_calls":[null,{"function":null},{"function":{"arguments":"{\"a\":1}"}},{"function":{"arguments":[]}}],"function_call":{"arguments":"xyz"}}},null,"x",{"delta":null}]}`,
		`{"type":"response.output_text.delta","delta":"\u00e9\u00e9\u00e9"}`,
		`{"type":"response.audio.delta","delta":"UklGRiQAAABXQVZF"}`,
		`{"type":"resp\u006fnse.completed","response":{"usage":{"input_tokens":3,"output_tokens":4}}}`,
		`{"type":5,"delta":"abc","usage":"many","response":[],"choices":{}}`,
		`{"usage":{"prompt_tokens":"1","completion_tokens":null,"total_tokens":1e999,"\u0070rompt_tokens":2.5}}`,
		` {"choices" : [ { "delta" : { "content" : "a b" } } ] , "usage" : null } `,
		`[{"choices":[{"text":"abcd"}]}]`,
		`{"choices":[{"delta":{"content":"x"}}]} trailing`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, reported bool) {
		if json.Valid(data) && outOfScope(data) {
			t.Skip()
		}
		got, want := NewMeter(OpenAI), NewMeter(OpenAI)
		for _, m := range []*Meter{got, want} {
			m.prompt, m.completion, m.reported = 7, 5, reported
		}
		for i := range 2 {
			got.observeOpenAI(data)
			want.referenceObserveOpenAI(data)
			if stateOf(got) != stateOf(want) {
				t.Fatalf("after %d: scan %+v, encoding/json %+v", i+1, stateOf(got), stateOf(want))
			}
		}
	})
}

func FuzzAnthropicEventMatchesEncodingJSON(f *testing.F) {
	for _, s := range eventSeeds(f, Anthropic) {
		f.Add([]byte(""), s, false)
	}
	for _, s := range []string{
		`{"type":"content_block_delta","delta":{"type":"text_delta","text":"caf\u00e9 \ud83d\ude00 \udc00\ud800"}}`,
		"{\"type\":\"content_block_delta\",\"delta\":{\"thinking\":\"\xc3\x28\xf0\x9f\x98\",\"partial_json\":\"{\\\"a\\\"\"}}",
		`{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5.5,"output_tokens":1}}}`,
		`{"type":"message_delta","usage":{"output_tokens":9,"input_tokens":12}}`,
		`{"type":"message_delta","usage":null}`,
		`{"type":"message_start","message":{"usage":"x"}}`,
		`{"type":"message_stop"}`,
		`{"type":"content_block_delta","delta":[{"text":"abcd"}]}`,
		`{"type":"content_block_delta","delta":{"text":5,"partial_json":null,"thinking":{"x":"abcd"}}}`,
		`{"type":"mess\u0061ge_delta","usage":{"output_tokens":3}}`,
	} {
		f.Add([]byte(""), []byte(s), true)
	}
	f.Add([]byte("message_stop"), []byte(`{}`), false)
	f.Add([]byte("ping"), []byte(`{"type":"message_delta","usage":{"output_tokens":3}}`), false)
	f.Fuzz(func(t *testing.T, event, data []byte, reported bool) {
		if json.Valid(data) && outOfScope(data) {
			t.Skip()
		}
		got, want := NewMeter(Anthropic), NewMeter(Anthropic)
		for _, m := range []*Meter{got, want} {
			m.prompt, m.completion, m.reported = 7, 5, reported
		}
		for i := range 2 {
			got.observeAnthropic(event, data)
			want.referenceObserveAnthropic(event, data)
			if stateOf(got) != stateOf(want) {
				t.Fatalf("after %d: scan %+v, encoding/json %+v", i+1, stateOf(got), stateOf(want))
			}
		}
	})
}

func FuzzGeminiEventMatchesEncodingJSON(f *testing.F) {
	for _, s := range eventSeeds(f, Gemini) {
		f.Add(s, false)
	}
	for _, s := range []string{
		`{"candidates":[{"content":{"parts":[{"text":"caf\u00e9 \ud83d\ude00 \udc00","thought":true},{"text":""},{"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"thoughtsTokenCount":5,"totalTokenCount":12}}`,
		`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"city":"Paris"}}},{"functionCall":{"args":null}},{"functionCall":{"args":"x"}},{"functionCall":null}]}}]}`,
		`{"candidates":[{"content":{"parts":[{"text":"abcd"}]},"finishReason":""},{"finishReason":"MAX_TOKENS"}],"usageMetadata":{"trafficType":"ON_DEMAND"}}`,
		`{"candidates":null,"usageMetadata":null}`,
		`{"candidates":{},"usageMetadata":"x"}`,
		`{"candidates":[null,"x",{"content":null},{"content":{"parts":null}},{"content":{"parts":[null,5,{"text":5}]}},{"finishReason":5}]}`,
		`{"usageMetadata":{"promptTokenCount":"1","totalTokenCount":1e999,"toolUsePromptTokenCount":2.5,"cachedContentTokenCount":-3}}`,
		`{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}`,
		`{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}`,
		`[{"candidates":[{"content":{"parts":[{"text":"abcd"}]}}]}]`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, reported bool) {
		if json.Valid(data) && outOfScope(data) {
			t.Skip()
		}
		got, want := NewMeter(Gemini), NewMeter(Gemini)
		for _, m := range []*Meter{got, want} {
			m.prompt, m.completion, m.reported = 7, 5, reported
		}
		for i := range 2 {
			got.observeGemini(data)
			want.referenceObserveGemini(data)
			if stateOf(got) != stateOf(want) {
				t.Fatalf("after %d: scan %+v, encoding/json %+v", i+1, stateOf(got), stateOf(want))
			}
		}
	})
}
