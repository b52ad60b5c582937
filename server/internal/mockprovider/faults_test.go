package mockprovider

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRetryAfterAndFailFirst(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-status", "503", "x-mock-retry-after", "7")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("%d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	heal := []string{"x-mock-status", "429", "x-mock-fail-first", "2", "x-mock-fault-id", "f1"}
	for i, want := range []int{429, 429, 200, 200} {
		if got := post(t, srv.URL+"/v1/chat/completions", chatBody(""), heal...).StatusCode; got != want {
			t.Fatalf("request %d: %d, want %d", i, got, want)
		}
	}
	// Another id counts on its own.
	if got := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-status", "429", "x-mock-fail-first", "1", "x-mock-fault-id", "f2").StatusCode; got != 429 {
		t.Fatalf("a fresh fault id: %d", got)
	}
	for _, bad := range [][]string{
		{"x-mock-fail-first", "1"}, // no fault id
		{"x-mock-retry-after", "-1"},
		{"x-mock-stall-after", "x"},
		{"x-mock-stream-forever", "2"},
		{"x-mock-huge-bytes", "0"},
	} {
		if got := post(t, srv.URL+"/v1/chat/completions", chatBody(""), bad...).StatusCode; got != 400 {
			t.Fatalf("%v: %d, want 400", bad, got)
		}
	}
}

// streamUntil reads content chunks of a stream until n arrived, then
// cancels the request and waits (bounded) for the mock to count the cancel.
func streamUntil(t *testing.T, p *Provider, url string, n int, headers ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(chatBody(`,"stream":true`)))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for seen := 0; seen < n; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d chunks: %v", seen, err)
		}
		if strings.Contains(line, `"content":"`) && !strings.Contains(line, `"role"`) {
			seen++
		}
		if strings.Contains(line, "[DONE]") {
			t.Fatalf("the stream ended after %d chunks", seen)
		}
	}
	if st := p.Stats(); st.InFlight != 1 || st.Canceled != 0 {
		t.Fatalf("while streaming: %+v", st)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Canceled != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the cancel was not seen: %+v", p.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStreamForeverAndStall(t *testing.T) {
	p, srv := newServer(t, Options{})
	// Far more chunks than the natural completion (9 tokens).
	streamUntil(t, p, srv.URL+"/v1/chat/completions", 100, "x-mock-stream-forever", "1")
	p.Reset()
	// The stalled stream holds its request open (InFlight 1) after 2 chunks.
	streamUntil(t, p, srv.URL+"/v1/chat/completions", 2, "x-mock-stall-after", "2")
}

func TestHugeBytes(t *testing.T) {
	const size = 1<<20 + 5
	_, srv := newServer(t, Options{})
	// identity: a plain body keeps its Content-Length (gzip drops it, see
	// TestHugeBytesCompressedOnTheFly).
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-huge-bytes", strconv.Itoa(size),
		"Accept-Encoding", "identity")
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || resp.ContentLength != int64(len(raw)) {
		t.Fatalf("%d, %d bytes of %d, %v", resp.StatusCode, len(raw), resp.ContentLength, err)
	}
	var got struct {
		Choices []struct{ Message struct{ Content string } }
		Usage   struct {
			Completion int `json:"completion_tokens"`
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil || len(got.Choices) != 1 || len(got.Choices[0].Message.Content) != size ||
		got.Usage.Completion != (size+3)/4 {
		t.Fatalf("huge JSON: %v, usage %+v", err, got.Usage)
	}

	resp = post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true,"stream_options":{"include_usage":true}`), "x-mock-huge-bytes", strconv.Itoa(size))
	evs, err := readSSE(t, resp.Body)
	if err != nil || len(evs) < 3 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("huge stream: %d events, %v", len(evs), err)
	}
	content, completion := 0, 0
	for _, ev := range evs[:len(evs)-1] {
		var chunk struct {
			Choices []struct{ Delta struct{ Content string } }
			Usage   *struct {
				Completion int `json:"completion_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(ev.data), &chunk); err != nil {
			t.Fatal(err)
		}
		for _, c := range chunk.Choices {
			content += len(c.Delta.Content)
		}
		if chunk.Usage != nil {
			completion = chunk.Usage.Completion
		}
	}
	if content != size || completion != (size+3)/4 {
		t.Fatalf("streamed %d content bytes, usage %d", content, completion)
	}
}

// x-mock-ignore-max-tokens: the natural length whatever the cap, on every API.
func TestIgnoreMaxTokensProducesNaturalLength(t *testing.T) {
	_, srv := newServer(t, Options{})
	natural := len(strings.Split(CompletionPrefix+userMsg, " "))
	ignore := []string{"x-mock-ignore-max-tokens", "1"}
	_, m := postJSON(t, srv.URL+"/v1/chat/completions", chatBody(`,"max_tokens":2`), ignore...)
	if num(t, m, "usage", "completion_tokens") != natural || str(t, m, "choices", 0, "finish_reason") != "stop" {
		t.Errorf("chat: %v", m)
	}
	_, m = postJSON(t, srv.URL+"/v1/messages", `{"model":"claude-x","max_tokens":2,"messages":[{"role":"user","content":"`+userMsg+`"}]}`,
		append(ignore, "anthropic-version", "2023-06-01")...)
	if num(t, m, "usage", "output_tokens") != natural || str(t, m, "stop_reason") != "end_turn" {
		t.Errorf("anthropic: %v", m)
	}
	_, m = postJSON(t, srv.URL+"/v1beta/models/gemini-2.0-flash:generateContent", geminiBody(`,"generationConfig":{"maxOutputTokens":2}`),
		append(ignore, "x-goog-api-key", "k")...)
	if num(t, m, "usageMetadata", "candidatesTokenCount") != natural {
		t.Errorf("gemini: %v", m)
	}
	_, m = postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","input":"x","max_output_tokens":16}`,
		append(ignore, "x-mock-chunks", "40")...)
	if num(t, m, "usage", "output_tokens") != 40 || str(t, m, "status") != "completed" {
		t.Errorf("responses: %v", m)
	}
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true,"max_tokens":2`), append(ignore, "x-mock-chunks", "6")...)
	evs, _ := readSSE(t, resp.Body)
	if len(evs) != 9 { // role, 6 content, finish, [DONE]
		t.Errorf("stream: %d events", len(evs))
	}
}

// x-mock-omit-usage: a 2xx answer without any usage, in every format.
func TestOmitUsageLeavesOutEveryUsage(t *testing.T) {
	_, srv := newServer(t, Options{})
	omit := []string{"x-mock-omit-usage", "1"}
	anth := append([]string{"anthropic-version", "2023-06-01"}, omit...)
	for _, tc := range []struct {
		name, path, body string
		headers          []string
	}{
		{"chat", "/v1/chat/completions", chatBody(""), omit},
		{"chat stream", "/v1/chat/completions", chatBody(`,"stream":true,"stream_options":{"include_usage":true}`), omit},
		{"completions stream", "/v1/completions", `{"model":"i","prompt":"hi","stream":true,"stream_options":{"include_usage":true}}`, omit},
		{"embeddings", "/v1/embeddings", `{"model":"e","input":"x"}`, omit},
		{"anthropic", "/v1/messages", `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`, anth},
		{"anthropic stream", "/v1/messages", `{"model":"c","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, anth},
		{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", geminiBody(""), append([]string{"x-goog-api-key", "k"}, omit...)},
		{"gemini stream", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", geminiBody(""), append([]string{"x-goog-api-key", "k"}, omit...)},
	} {
		resp, raw := send(t, http.DefaultClient, srv.URL+tc.path, tc.body, tc.headers...)
		if resp.StatusCode != 200 || strings.Contains(string(raw), `"usage`) || strings.Contains(string(raw), `_tokens"`) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, raw)
		}
	}
	_, m := postJSON(t, srv.URL+"/v1/responses", `{"model":"gpt-4.1","input":"x"}`, omit...)
	if u, ok := m["usage"]; !ok || u != nil {
		t.Errorf("responses: usage %v, want null", u)
	}
}

// x-mock-chunk-tokens: K word tokens per streamed content chunk.
func TestChunkTokensGroupsTokensPerChunk(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true,"stream_options":{"include_usage":true}`),
		"x-mock-chunks", "7", "x-mock-chunk-tokens", "3")
	evs, err := readSSE(t, resp.Body)
	if err != nil || len(evs) != 7 { // role, 3 content (3+3+1 tokens), finish, usage, [DONE]
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if !strings.Contains(evs[1].data, `"content":"Hello from mock:"`) || !strings.Contains(evs[5].data, `"completion_tokens":7`) {
		t.Errorf("events %+v", evs)
	}
	resp = post(t, srv.URL+"/v1/messages", `{"model":"c","max_tokens":99,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		"anthropic-version", "2023-06-01", "x-mock-chunks", "8", "x-mock-chunk-tokens", "4")
	evs, _ = readSSE(t, resp.Body)
	deltas := 0
	for _, ev := range evs {
		if ev.name == "content_block_delta" {
			deltas++
		}
	}
	if deltas != 2 {
		t.Errorf("anthropic: %d deltas for 8 tokens by 4", deltas)
	}
	if got := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-chunk-tokens", "0").StatusCode; got != 400 {
		t.Errorf("x-mock-chunk-tokens 0: %d", got)
	}
}
