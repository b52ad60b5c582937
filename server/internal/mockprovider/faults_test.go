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
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-huge-bytes", strconv.Itoa(size))
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
