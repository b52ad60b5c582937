package usage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func meter(f Format, chunks ...[]byte) *Meter {
	m := NewMeter(f)
	for _, c := range chunks {
		_, _ = m.Write(c)
	}
	_ = m.Close()
	return m
}

// byteByByte splits b into one-byte writes, the worst split there is.
func byteByByte(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

func crlf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
func cr(b []byte) []byte   { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r")) }

type streamCase struct {
	name     string
	format   Format
	file     string
	want     Usage
	progress Progress
}

var streamCases = []streamCase{
	// "Hello", "! How can I", " help you today?"
	{"openai with include_usage", OpenAI, "openai_include_usage.sse", Usage{19, 10, true}, Progress{3, 5 + 11 + 16}},
	// "Hello", "你好，世界", `{"city":"Paris"}`: ceil(36/4) = 9.
	{"openai without usage is estimated", OpenAI, "openai_no_usage.sse", Usage{0, 9, false}, Progress{3, 5 + 15 + 16}},
	// Thinking, two texts, two partial_json (the signature is no text).
	{"anthropic full sequence", Anthropic, "anthropic.sse", Usage{472 + 100 + 2000, 89, true}, Progress{5, 27 + 17 + 35 + 21 + 12}},
	// "Hi", " there!"
	{"responses API", OpenAI, "responses.sse", Usage{37, 11, true}, Progress{2, 2 + 7}},
	// Two thought parts, then two text parts; the last chunk (with the
	// finishReason) has the final counts: 38 candidates + 349 thoughts.
	{"gemini thinking model", Gemini, "gemini.sse", Usage{51, 38 + 349, true}, Progress{4, 188}},
}

func TestMeterReadsStreamsHoweverTheyAreSplitAndLineEnded(t *testing.T) {
	for _, c := range streamCases {
		raw := sample(t, c.file)
		variants := map[string][][]byte{
			"one write":         {raw},
			"byte by byte":      byteByByte(raw),
			"crlf":              {crlf(raw)},
			"crlf byte by byte": byteByByte(crlf(raw)),
			"cr":                byteByByte(cr(raw)),
		}
		for v, chunks := range variants {
			t.Run(c.name+"/"+v, func(t *testing.T) {
				m := meter(c.format, chunks...)
				if got := m.Usage(); got != c.want {
					t.Errorf("Usage() = %+v, want %+v", got, c.want)
				}
				if got := m.Progress(); got != c.progress {
					t.Errorf("Progress() = %+v, want %+v", got, c.progress)
				}
				if !m.Done() {
					t.Error("Done() = false at the end of a complete stream")
				}
			})
		}
	}
}

func TestMeterIsNotDoneBeforeTheEndMarker(t *testing.T) {
	for _, c := range streamCases {
		raw := sample(t, c.file)
		cut := raw[:bytes.LastIndex(raw, []byte("data:"))]
		if meter(c.format, cut).Done() {
			t.Errorf("%s: Done() before the last event", c.name)
		}
	}
}

func TestMeterAnthropicCutBeforeMessageDeltaKeepsPromptAndEstimates(t *testing.T) {
	raw := sample(t, "anthropic.sse")
	cut := raw[:bytes.Index(raw, []byte("event: message_delta"))]
	got := meter(Anthropic, cut).Usage()
	want := Usage{Prompt: 2572, Completion: 28} // ceil(112 bytes / 4)
	if got != want {
		t.Errorf("Usage() = %+v, want %+v", got, want)
	}
}

func TestMeterKeepsTheLatestCumulativeOutputTokens(t *testing.T) {
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":12,\"output_tokens\":9}}\n\n"
	got := meter(Anthropic, []byte(stream)).Usage()
	if want := (Usage{12, 9, true}); got != want {
		t.Errorf("Usage() = %+v, want %+v", got, want)
	}
}

func TestMeterUsesEventTypeFromDataWhenEventLineIsMissing(t *testing.T) {
	stream := "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n" +
		"data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"abcdefgh\"}}\n\n" +
		"data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\n" +
		"data: {\"type\":\"message_stop\"}\n\n"
	m := meter(Anthropic, []byte(stream))
	if got, want := m.Usage(), (Usage{3, 2, true}); got != want || !m.Done() || m.EstimatedCompletion() != 2 {
		t.Errorf("Usage() = %+v (done %v, estimate %d), want %+v done with estimate 2", got, m.Done(), m.EstimatedCompletion(), want)
	}
}

func TestMeterJoinsMultiLineDataAndAcceptsDataWithoutSpace(t *testing.T) {
	stream := "event: x\nid: 7\nretry: 100\ndata:{\"choices\":[],\n" +
		"data:\"usage\":{\"prompt_tokens\":4,\n" +
		"data: \"completion_tokens\":6}}\n\n" +
		"data:[DONE]\n\n"
	m := meter(OpenAI, []byte(stream))
	if got, want := m.Usage(), (Usage{4, 6, true}); got != want || !m.Done() {
		t.Errorf("Usage() = %+v done %v, want %+v done", got, m.Done(), want)
	}
}

func TestMeterCloseHandlesAFinalEventWithoutBlankLine(t *testing.T) {
	stream := "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\ndata: [DONE]"
	m := NewMeter(OpenAI)
	_, _ = m.Write([]byte(stream))
	if m.Done() {
		t.Fatal("Done() before the [DONE] line ended")
	}
	_ = m.Close()
	if !m.Done() || m.Usage() != (Usage{1, 2, true}) {
		t.Errorf("after Close: done %v usage %+v", m.Done(), m.Usage())
	}
}

func TestMeterSkipsOverlongLinesWithoutBufferingThem(t *testing.T) {
	long := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("a", maxLine) + "\"}}]}\n\n"
	stream := long + "data: {\"choices\":[{\"delta\":{\"content\":\"abcd\"}}]}\n\n"
	m := NewMeter(OpenAI)
	for _, chunk := range [][]byte{[]byte(stream[:100]), []byte(stream[100 : maxLine/2]), []byte(stream[maxLine/2:])} {
		_, _ = m.Write(chunk)
		if cap(m.lines.partial) > maxLine {
			t.Fatalf("buffered %d bytes for one line", cap(m.lines.partial))
		}
	}
	if got := m.EstimatedCompletion(); got != 1 {
		t.Errorf("EstimatedCompletion() = %d, want 1 (only the short event)", got)
	}
}

func TestMeterDropsAnEventWhoseDataIsTooLarge(t *testing.T) {
	line := "data: " + strings.Repeat("x", maxLine/2) + "\n"
	stream := "data: {\"usage\":{\"prompt_tokens\":1},\n" + line + line + line + "\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":\"abcd\"}}]}\n\n"
	m := meter(OpenAI, []byte(stream))
	if m.Usage().Reported || m.EstimatedCompletion() != 1 {
		t.Errorf("Usage() = %+v estimate %d, want the big event ignored and the next one read", m.Usage(), m.EstimatedCompletion())
	}
}

func TestMeterIgnoresGarbageEvents(t *testing.T) {
	stream := "data: {not json \"usage\"\n\ndata: {\"usage\":\"many\"}\n\n:comment\n\nfoo: bar\n\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":null}}],\"usage\":null}\n\n"
	m := meter(OpenAI, []byte(stream))
	if got := m.Usage(); got != (Usage{}) || m.Done() {
		t.Errorf("Usage() = %+v done %v, want nothing", got, m.Done())
	}
}

func TestMeterReportsUsageFromEveryChunkProviders(t *testing.T) {
	// Some OpenAI-compatible providers send a running usage in each chunk.
	stream := "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
	if got := meter(OpenAI, []byte(stream)).Usage(); got != (Usage{5, 2, true}) {
		t.Errorf("Usage() = %+v, want the latest", got)
	}
}

func TestMeterCountsLegacyCompletionsReasoningAndResponsesDeltas(t *testing.T) {
	stream := "data: {\"choices\":[{\"text\":\"abcde\"}]}\n\n" + // 5
		"data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"abcd\",\"reasoning\":\"x\"}}]}\n\n" + // 4 + 1
		"data: {\"choices\":[{\"delta\":{\"function_call\":{\"arguments\":\"{}\"}}}]}\n\n" + // 2
		"data: {\"type\":\"response.function_call_arguments.delta\",\"delta\":\"{\\\"a\\\":1}\"}\n\n" + // 7
		"data: {\"type\":\"response.audio.delta\",\"delta\":\"UklGRiQAAABXQVZF\"}\n\n" // not text
	m := meter(OpenAI, []byte(stream))
	if got, want := m.Progress(), (Progress{Events: 4, TextBytes: 19}); got != want {
		t.Errorf("Progress() = %+v, want %+v", got, want)
	}
	if got := m.EstimatedCompletion(); got != 5 {
		t.Errorf("EstimatedCompletion() = %d, want ceil(19/4) = 5", got)
	}
}

func TestProgressCountsContentEventsNotBytes(t *testing.T) {
	chunk := func(content string) string {
		return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}],\"usage\":null}\n\n"
	}
	cases := []struct {
		name     string
		stream   string
		progress Progress
		estimate int64
	}{
		// One-byte tokens: each event is at least a token.
		{"ten one-byte events", strings.Repeat(chunk("a"), 10), Progress{10, 10}, 10},
		// Five-byte tokens: rounding each delta up made this 20.
		{"ten five-byte events", strings.Repeat(chunk("Hello"), 10), Progress{10, 50}, 13},
		{"one long event", chunk(strings.Repeat("abcd", 10)), Progress{1, 40}, 10},
		// Role-only, empty and usage chunks carry no content.
		{"no content events", "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
			"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
			"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n", Progress{}, 0},
		// Content in several choices of one event is one event.
		{"n choices in one event", "data: {\"choices\":[{\"delta\":{\"content\":\"ab\"}},{\"delta\":{\"content\":\"cd\"}}]}\n\n", Progress{1, 4}, 1},
	}
	for _, c := range cases {
		m := meter(OpenAI, []byte(c.stream))
		if got := m.Progress(); got != c.progress {
			t.Errorf("%s: Progress() = %+v, want %+v", c.name, got, c.progress)
		}
		if got := m.EstimatedCompletion(); got != c.estimate {
			t.Errorf("%s: EstimatedCompletion() = %d, want %d", c.name, got, c.estimate)
		}
	}
}
