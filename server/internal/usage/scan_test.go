package usage

import (
	"strings"
	"testing"
)

func TestMeterCountsDecodedText(t *testing.T) {
	cases := []struct {
		name, content string // content as written in the JSON
		decoded       int    // decoded length
	}{
		{"plain", `abcdefgh`, 8},
		{"newlines", `\n\n\n\n\n`, 5},
		{"every short escape", `\"\\\/\b\f\n\r\t`, 8},
		{"\\u00e9 is 2 bytes", `\u00e9\u00e9\u00e9\u00e9`, 8},
		{"\\u20ac is 3 bytes", `\u20ac\u20AC`, 6},
		{"\\u0000 is 1 byte", `\u0000`, 1},
		{"raw UTF-8 as is", `é€😀`, 9},
		{"a surrogate pair is 4 bytes", `\ud83d\ude00\ud83d\ude00`, 8},
		{"lone surrogates are U+FFFD", `\udc00\ud800\ud83d`, 9},
		{"a high surrogate then no low one", `\ud83dx\ud83d\u0041`, 8},
		{"invalid UTF-8 bytes are U+FFFD each", "\xff\xfe\xe2\x82\xed\xa0\x80", 21},
		{"a raw U+FFFD stays 3 bytes", "\xef\xbf\xbd", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := "data: {\"choices\":[{\"delta\":{\"content\":\"" + c.content + "\"}}]}\n\n" +
				"data: {\"type\":\"response.output_text.delta\",\"delta\":\"" + c.content + "\"}\n\n"
			want := Progress{Events: 2, TextBytes: 2 * int64(c.decoded)}
			if got := meter(OpenAI, []byte(stream)).Progress(); got != want {
				t.Errorf("OpenAI progress %+v, want %+v", got, want)
			}
			one := Progress{Events: 1, TextBytes: int64(c.decoded)}
			anth := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"" + c.content + "\"}}\n\n"
			if got := meter(Anthropic, []byte(anth)).Progress(); got != one {
				t.Errorf("Anthropic progress %+v, want %+v", got, one)
			}
			gem := "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + c.content + "\"}]}}]}\r\n\r\n"
			if got := meter(Gemini, []byte(gem)).Progress(); got != one {
				t.Errorf("Gemini progress %+v, want %+v", got, one)
			}
			ref := NewMeter(OpenAI)
			for _, data := range strings.Split(strings.TrimSpace(stream), "\n\n") {
				ref.referenceObserveOpenAI([]byte(strings.TrimPrefix(data, "data: ")))
			}
			if ref.Progress() != want {
				t.Errorf("encoding/json progress %+v, want %+v", ref.Progress(), want)
			}
		})
	}
}

func TestMeterMatchesKeysExactlyAfterUnescaping(t *testing.T) {
	cases := []struct {
		name     string
		data     string
		estimate int64
		usage    Usage
	}{
		// (The event must hold one key as written to pass the fast path.)
		{"escaped keys match", `{"ch\u006fices":[{"delta":{"cont\u0065nt":"abcd"}}],"\u0075sage":{"prompt_t\u006fkens":2}}`, 1, Usage{2, 0, true}},
		{"escaped type matches", `{"type":"response.output_text.d\u0065lta","delta":"abcd"}`, 1, Usage{0, 1, false}},
		// encoding/json's struct fields also took these; providers send
		// lowercase keys, and FromJSON never took them.
		{"another case is another key", `{"Choices":[{"delta":{"content":"abcd"}}],"USAGE":{"prompt_tokens":2},"usage":{"Prompt_Tokens":3}}`, 0, Usage{}},
		{"a folded rune is another key", `{"choices":[{"delta":{"content":"abcd"}}],"u\u017fage":{"prompt_tokens":2}}`, 1, Usage{0, 1, false}},
	}
	for _, c := range cases {
		m := meter(OpenAI, []byte("data: "+c.data+"\n\n"))
		if m.EstimatedCompletion() != c.estimate || m.Usage() != c.usage {
			t.Errorf("%s: estimate %d usage %+v, want %d %+v", c.name, m.EstimatedCompletion(), m.Usage(), c.estimate, c.usage)
		}
	}
}

func TestMeterReadsDuplicateKeysAsDocumented(t *testing.T) {
	cases := []struct {
		name      string
		anthropic bool
		data      string
		want      meterState
		// encoding/json agrees (it merges a duplicate array into the
		// first, element by element; the scan takes the last one).
		agrees bool
	}{
		{"last string wins", false, `{"choices":[{"delta":{"content":"abcdefgh","content":"abcd"}}]}`, meterState{Events: 1, TextBytes: 4}, true},
		{"a mistyped duplicate is skipped", false, `{"choices":[{"delta":{"content":"abcdefgh","content":null,"content":5}}]}`, meterState{Events: 1, TextBytes: 8}, true},
		{"last type wins", false, `{"type":"response.completed","type":"response.created"}`, meterState{}, true},
		{"last type wins, terminal", false, `{"type":"response.output_text.delta","delta":"abcd","type":"response.completed"}`, meterState{Done: true}, true},
		{"usage objects merge", false, `{"usage":{"prompt_tokens":3},"usage":{"completion_tokens":4},"usage":"x"}`, meterState{Prompt: 3, Completion: 4, Reported: true}, true},
		{"null clears usage", false, `{"usage":{"prompt_tokens":3},"usage":null}`, meterState{}, true},
		{"delta objects merge", false, `{"choices":[{"delta":{"content":"abcd"},"delta":{"refusal":"abcd"},"delta":null}]}`, meterState{Events: 1, TextBytes: 8}, true},
		{"null clears choices", false, `{"choices":[{"text":"abcd"}],"choices":null}`, meterState{}, true},
		{"a mistyped choices is skipped", false, `{"choices":[{"text":"abcd"}],"choices":{}}`, meterState{Events: 1, TextBytes: 4}, true},
		{"null clears tool calls", false, `{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"abcd"}}],"tool_calls":null}}]}`, meterState{}, true},
		{"function objects merge", false, `{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"abcdefgh"},"function":{"name":"f"}}]}}]}`, meterState{Events: 1, TextBytes: 8}, true},
		{"the last choices array wins", false, `{"choices":[{"text":"abcd"},{"text":"abcdefghijkl"}],"choices":[{"delta":{"content":"abcdefgh"}}]}`, meterState{Events: 1, TextBytes: 8}, false},
		{"the last tool_calls array wins", false, `{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"abcd"}}],"tool_calls":[{"index":0}]}}]}`, meterState{}, false},
		{"anthropic: last type wins", true, `{"type":"content_block_delta","delta":{"text":"abcd"},"type":"ping"}`, meterState{}, true},
		{"anthropic: deltas merge", true, `{"type":"content_block_delta","delta":{"text":"abcd"},"delta":{"thinking":"abcd","text":null}}`, meterState{Events: 1, TextBytes: 8}, true},
		{"anthropic: message usage merges", true, `{"type":"message_start","message":{"usage":{"input_tokens":3}},"message":{"usage":{"cache_read_input_tokens":4}}}`, meterState{Prompt: 7}, true},
	}
	for _, c := range cases {
		got, ref := NewMeter(OpenAI), NewMeter(OpenAI)
		if c.anthropic {
			got, ref = NewMeter(Anthropic), NewMeter(Anthropic)
			got.observeAnthropic(nil, []byte(c.data))
			ref.referenceObserveAnthropic(nil, []byte(c.data))
		} else {
			got.observeOpenAI([]byte(c.data))
			ref.referenceObserveOpenAI([]byte(c.data))
		}
		if stateOf(got) != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, stateOf(got), c.want)
		}
		if agrees := stateOf(ref) == c.want; agrees != c.agrees {
			t.Errorf("%s: encoding/json gives %+v: agreeing is %v, not %v", c.name, stateOf(ref), agrees, c.agrees)
		}
	}
}
