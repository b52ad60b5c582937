package usage

import (
	"bytes"
	"testing"
)

func TestGeminiUsageCountsThoughtsAsCompletion(t *testing.T) {
	cases := []struct {
		name string
		body string
		want Usage
	}{
		// Recorded from gemini-2.5-flash: 11 + 1 + 33 = 45.
		{"thoughts are output", `{"candidates":[{"content":{"parts":[{"text":"Paris"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":1,"totalTokenCount":45,"promptTokensDetails":[{"modality":"TEXT","tokenCount":11}],"thoughtsTokenCount":33},"modelVersion":"gemini-2.5-flash"}`, Usage{11, 34, true}},
		{"no thinking", `{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"totalTokenCount":12}}`, Usage{10, 2, true}},
		{"tool-use prompts are input", `{"usageMetadata":{"promptTokenCount":10,"toolUsePromptTokenCount":30,"candidatesTokenCount":2,"totalTokenCount":42}}`, Usage{40, 2, true}},
		{"cached content is inside the prompt", `{"usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":800,"candidatesTokenCount":5,"totalTokenCount":1005}}`, Usage{1000, 5, true}},
		{"a total above the split is charged", `{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"totalTokenCount":50}}`, Usage{10, 40, true}},
		{"a total below the split is not", `{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"thoughtsTokenCount":5,"totalTokenCount":3}}`, Usage{10, 7, true}},
		{"a total alone is charged as output", `{"usageMetadata":{"totalTokenCount":9}}`, Usage{0, 9, true}},
		{"a prompt alone (blocked prompt)", `{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}`, Usage{7, 0, true}},
		{"no count is no usage", `{"usageMetadata":{"trafficType":"ON_DEMAND","promptTokensDetails":[]}}`, Usage{}},
		{"OpenAI's keys are not Gemini's", `{"usageMetadata":{"prompt_tokens":7}}`, Usage{}},
		{"an error", `{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}`, Usage{}},
	}
	for _, c := range cases {
		if got := FromJSON(Gemini, []byte(c.body)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// geminiEvents are the events of the Gemini sample, each with its blank
// line.
func geminiEvents(t *testing.T) [][]byte {
	events := bytes.SplitAfter(sample(t, "gemini.sse"), []byte("\r\n\r\n"))
	return events[:len(events)-1] // after the last separator
}

func TestGeminiStreamIsReportedOnlyAtTheFinalChunk(t *testing.T) {
	events := geminiEvents(t)
	// The running usageMetadata of each chunk: thoughts, then candidates.
	running := []int64{114, 349, 30 + 349, 38 + 349}
	m := NewMeter(Gemini)
	for i, ev := range events {
		_, _ = m.Write(ev)
		u := m.Usage()
		last := i == len(events)-1
		if u.Reported != last || m.Done() != last {
			t.Fatalf("after chunk %d: %+v done %v, want reported and done only at the last", i+1, u, m.Done())
		}
		if u.Prompt != 51 {
			t.Errorf("after chunk %d: prompt %d, want promptTokenCount 51", i+1, u.Prompt)
		}
		if want := max(running[i], m.EstimatedCompletion()); !last && u.Completion != want {
			t.Errorf("after chunk %d: completion %d, want %d (the larger of the count so far and the estimate)", i+1, u.Completion, want)
		}
	}
	if got, want := m.Usage(), (Usage{51, 387, true}); got != want {
		t.Errorf("final usage %+v, want %+v", got, want)
	}
}

func TestGeminiStreamReportsOnlyAFinishReasonWithCounts(t *testing.T) {
	// Vertex AI sends usageMetadata without counts ({"trafficType"}) in
	// intermediate chunks.
	noCounts := "data: {\"candidates\": [{\"content\": {\"role\": \"model\",\"parts\": [{\"text\": \"Hello!\"}]}}],\"usageMetadata\": {\"trafficType\": \"ON_DEMAND\"}}\r\n\r\n"
	finalNoUsage := "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\",\"thoughtSignature\": \"AY89a18i\"}]},\"finishReason\": \"STOP\"}]}\r\n\r\n"
	m := meter(Gemini, []byte(noCounts+finalNoUsage))
	if u := m.Usage(); u.Reported || !m.Done() || u != (Usage{0, 2, false}) {
		t.Errorf("a finishReason without usageMetadata: %+v done %v, want unreported, estimated, done", u, m.Done())
	}
	final := "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}]},\"finishReason\": \"STOP\"}],\"usageMetadata\": {\"promptTokenCount\": 1,\"candidatesTokenCount\": 9,\"totalTokenCount\": 10,\"trafficType\": \"ON_DEMAND\"}}\r\n\r\n"
	m = meter(Gemini, []byte(noCounts+final))
	if u := m.Usage(); u != (Usage{1, 9, true}) || !m.Done() {
		t.Errorf("final chunk with counts: %+v done %v", u, m.Done())
	}
}

func TestGeminiStreamCutBeforeTheFinalChunkKeepsTheRunningCounts(t *testing.T) {
	events := geminiEvents(t)
	m := meter(Gemini, bytes.Join(events[:3], nil))
	if got, want := m.Usage(), (Usage{51, 30 + 349, false}); got != want || m.Done() {
		t.Errorf("Usage() = %+v done %v, want %+v not done", got, m.Done(), want)
	}
}

func TestGeminiStreamCountsThoughtsAndFunctionCallsAsProgress(t *testing.T) {
	stream := "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"abcd\",\"thought\":true}]}}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}]}}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]}}]}\r\n\r\n" +
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ab\"},{\"text\":\"cd\"}]}},{\"content\":{\"parts\":[{\"text\":\"efgh\"}]}}]}\r\n\r\n"
	want := Progress{Events: 3, TextBytes: int64(4 + len(`{"city":"Paris"}`) + 8)}
	if got := meter(Gemini, []byte(stream)).Progress(); got != want {
		t.Errorf("Progress() = %+v, want %+v (thought text, args, all candidates; no inline data)", got, want)
	}
}
