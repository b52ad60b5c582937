package streamedit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// splitAll feeds s in chunks of n bytes and returns the pieces.
func splitAll(s string, n int) []Piece {
	var sp Splitter
	var out []Piece
	for len(s) > 0 {
		k := min(n, len(s))
		for _, p := range sp.Feed([]byte(s[:k]), nil) {
			out = append(out, Piece{Bytes: append([]byte{}, p.Bytes...), Raw: p.Raw})
		}
		s = s[k:]
	}
	if r := sp.Rest(); len(r.Bytes) > 0 {
		out = append(out, Piece{Bytes: append([]byte{}, r.Bytes...), Raw: true})
	}
	return out
}

func TestSplitterYieldsWholeEventsWhateverTheReads(t *testing.T) {
	stream := "data: a\n\nevent: x\r\ndata: b\r\n\r\n: keep-alive\r\rdata: c\n\ndata: tail"
	want := []string{"data: a\n\n", "event: x\r\ndata: b\r\n\r\n", ": keep-alive\r\r", "data: c\n\n", "data: tail"}
	for n := 1; n <= len(stream); n++ {
		var got []string
		for _, p := range splitAll(stream, n) {
			got = append(got, string(p.Bytes))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("reads of %d: %q", n, got)
		}
	}
}

func TestSplitterPassesAnOverlongEventThroughUnedited(t *testing.T) {
	big := "data: " + strings.Repeat("x", 2*MaxEvent) + "\n\n"
	stream := big + "data: next\n\n"
	var joined bytes.Buffer
	raw := 0
	for _, p := range splitAll(stream, 64<<10) {
		joined.Write(p.Bytes)
		if p.Raw {
			raw++
		}
	}
	if joined.String() != stream || raw == 0 {
		t.Fatalf("bytes kept: %v, raw pieces %d", joined.String() == stream, raw)
	}
	pieces := splitAll(stream, 64<<10)
	if last := pieces[len(pieces)-1]; last.Raw || string(last.Bytes) != "data: next\n\n" {
		t.Fatalf("the event after the overlong one: %q raw=%v", last.Bytes, last.Raw)
	}
}

const (
	chunk      = `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}` + "\n\n"
	usageChunk = `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}` + "\n\n"
)

func TestStripRemovesTheUsageTheRelayAskedFor(t *testing.T) {
	e := NewEditor(Chat, true, 1)
	got := e.Event([]byte(chunk))
	want := `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}` + "\n\n"
	if string(got) != want {
		t.Errorf("chunk:\n got %s\nwant %s", got, want)
	}
	if got := e.Event([]byte(usageChunk)); got != nil {
		t.Errorf("the usage chunk was kept: %s", got)
	}
	if got := e.Event([]byte("data: [DONE]\n\n")); string(got) != "data: [DONE]\n\n" {
		t.Errorf("[DONE]: %q", got)
	}
}

func TestWithoutStripEveryEventPassesAsIs(t *testing.T) {
	e := NewEditor(Chat, false, 1)
	for _, ev := range []string{chunk, usageChunk, "data: [DONE]\n\n", ": ping\n\n"} {
		if got := e.Event([]byte(ev)); string(got) != ev {
			t.Errorf("%q became %q", ev, got)
		}
	}
}

func TestStripLeavesWhatItCannotReadAlone(t *testing.T) {
	e := NewEditor(Chat, true, 1)
	for _, ev := range []string{`data: {"usage":null,` + "\n\n", "data: {\"usage\":\ndata: null}\n\n", `data: {"choices":[],"usage":null}` + "\n\n"} {
		got := e.Event([]byte(ev))
		if ev == `data: {"choices":[],"usage":null}`+"\n\n" {
			if string(got) != "data: {\"choices\":[]}\n\n" {
				t.Errorf("%q became %q", ev, got)
			}
			continue
		}
		if string(got) != ev {
			t.Errorf("%q became %q", ev, got)
		}
	}
}

// dataOf parses every data line of events as JSON (but [DONE]).
func dataOf(t *testing.T, events []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.ReplaceAll(string(events), "\r\n", "\n"), "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		out = append(out, v)
	}
	return out
}

func TestEndOfAChatStreamIsALengthStopUsageAndDone(t *testing.T) {
	e := NewEditor(Chat, false, 2)
	e.Event([]byte(chunk))
	out := e.End(Usage{Prompt: 3, Completion: 40}, true)
	if !bytes.HasSuffix(out, []byte("data: [DONE]\n\n")) {
		t.Fatalf("no [DONE]: %s", out)
	}
	d := dataOf(t, out)
	if len(d) != 3 {
		t.Fatalf("events: %s", out)
	}
	for i, c := range d[:2] {
		ch := c["choices"].([]any)[0].(map[string]any)
		if ch["finish_reason"] != "length" || ch["index"] != float64(i) || c["id"] != "c1" || c["model"] != "gpt-4o-mini" {
			t.Errorf("finish chunk %d: %v", i, c)
		}
	}
	u := d[2]["usage"].(map[string]any)
	if u["completion_tokens"] != float64(40) || u["total_tokens"] != float64(43) {
		t.Errorf("usage chunk %v", d[2])
	}
	if d := dataOf(t, NewEditor(Chat, false, 1).End(Usage{}, false)); len(d) != 1 || d[0]["usage"] != nil {
		t.Errorf("without include_usage: %v", d)
	}
}

func TestEndOfAnAnthropicStreamClosesTheOpenBlock(t *testing.T) {
	e := NewEditor(Messages, false, 1)
	e.Event([]byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"))
	out := string(e.End(Usage{Completion: 12}, false))
	for _, want := range []string{"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}", `"stop_reason":"max_tokens"`, `"output_tokens":12`, "event: message_stop"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
	dataOf(t, []byte(out))
}

func TestEndOfAResponsesStreamIsResponseIncomplete(t *testing.T) {
	e := NewEditor(Responses, false, 1)
	e.Event([]byte("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"created_at\":7,\"model\":\"gpt-4.1\"}}\n\n"))
	e.Event([]byte("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"delta\":\"x\"}\n\n"))
	d := dataOf(t, e.End(Usage{Prompt: 2, Completion: 9}, false))
	r := d[0]["response"].(map[string]any)
	if d[0]["type"] != "response.incomplete" || d[0]["sequence_number"] != float64(5) || r["id"] != "resp_1" ||
		r["incomplete_details"].(map[string]any)["reason"] != "max_output_tokens" || r["usage"].(map[string]any)["output_tokens"] != float64(9) {
		t.Errorf("got %v", d[0])
	}
}

func TestEndOfAGeminiStreamFinishesEveryCandidateWithMaxTokens(t *testing.T) {
	e := NewEditor(Gemini, false, 2)
	e.Event([]byte("data: {\"candidates\":[],\"modelVersion\":\"gemini-2.0-flash\",\"responseId\":\"r1\"}\r\n\r\n"))
	d := dataOf(t, e.End(Usage{Prompt: 1, Completion: 50}, false))
	c := d[0]["candidates"].([]any)
	if len(c) != 2 || c[1].(map[string]any)["finishReason"] != "MAX_TOKENS" || d[0]["responseId"] != "r1" ||
		d[0]["usageMetadata"].(map[string]any)["candidatesTokenCount"] != float64(50) {
		t.Errorf("got %v", d[0])
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte("data: a\n\ndata: b\r\n\r\n"), 3)
	f.Add([]byte("\r\r\n\n\r"), 1)
	f.Fuzz(func(t *testing.T, stream []byte, n int) {
		n = max(1, n%64+1)
		var joined bytes.Buffer
		e := NewEditor(Chat, true, 1)
		for _, p := range splitAll(string(stream), n) {
			joined.Write(p.Bytes)
			if !p.Raw {
				_ = e.Event(p.Bytes)
			}
		}
		if !bytes.Equal(joined.Bytes(), stream) {
			t.Fatalf("the pieces do not add up to the stream")
		}
	})
}
