package mock

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func TestJSONAnswer(t *testing.T) {
	for _, size := range []int{600, 5000, 50} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			srv := newServer(t, Config{Chunks: 3, Size: size})
			resp := post(t, srv.URL+"/v1/chat/completions", `{"model":"m","stream":false}`, nil)
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
			}
			var c struct {
				Object  string `json:"object"`
				Choices []struct {
					Message      struct{ Role, Content string } `json:"message"`
					FinishReason string                         `json:"finish_reason"`
				} `json:"choices"`
				Usage *usageJSON `json:"usage"`
			}
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, body)
			}
			if c.Object != "chat.completion" || len(c.Choices) != 1 || c.Choices[0].Message.Role != "assistant" ||
				c.Choices[0].FinishReason != "stop" {
				t.Errorf("unexpected completion: %s", body)
			}
			if u := c.Usage; u == nil || u.CompletionTokens < 1 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Errorf("bad usage: %+v", u)
			}
			// Below the skeleton's own size the answer is as small as it gets.
			if size >= 400 && (len(body) < size-size/20 || len(body) > size+size/20) {
				t.Errorf("body is %d bytes, want about %d", len(body), size)
			}
		})
	}
}

type event struct {
	Object  string `json:"object"`
	Choices []struct {
		Delta        struct{ Role, Content string } `json:"delta"`
		FinishReason *string                        `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageJSON `json:"usage"`
}

// readEvents parses a whole SSE body into chunk events, checking that it
// ends with exactly one [DONE].
func readEvents(t *testing.T, r io.Reader) []event {
	t.Helper()
	var evs []event
	done := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || done {
			t.Fatalf("unexpected line %q (after [DONE]: %v)", line, done)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("invalid event %q: %v", data, err)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatal("no [DONE]")
	}
	return evs
}

// checkStream asserts n content chunks then the usage chunk.
func checkStream(t *testing.T, evs []event, n int) {
	t.Helper()
	if len(evs) != n+1 {
		t.Fatalf("%d events, want %d chunks + usage", len(evs), n)
	}
	for i, ev := range evs[:n] {
		if ev.Object != "chat.completion.chunk" || len(ev.Choices) != 1 || ev.Choices[0].Delta.Content == "" || ev.Usage != nil {
			t.Errorf("chunk %d: %+v", i, ev)
		}
		if (ev.Choices[0].Delta.Role == "assistant") != (i == 0) {
			t.Errorf("chunk %d: role %q", i, ev.Choices[0].Delta.Role)
		}
		if (ev.Choices[0].FinishReason != nil) != (i == n-1) {
			t.Errorf("chunk %d: finish_reason %v", i, ev.Choices[0].FinishReason)
		}
	}
	last := evs[n]
	if len(last.Choices) != 0 || last.Usage == nil || last.Usage.CompletionTokens != n ||
		last.Usage.TotalTokens != last.Usage.PromptTokens+n {
		t.Errorf("usage chunk: %+v", last)
	}
}

func TestSSEAnswer(t *testing.T) {
	srv := newServer(t, Config{Chunks: 5, Size: 600})
	for _, body := range []string{`{"model":"m","stream":true}`, `{"model": "m", "stream": true}`} {
		resp := post(t, srv.URL+"/v1/chat/completions", body, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" ||
			resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
		}
		checkStream(t, readEvents(t, resp.Body), 5)
	}
}

func TestHeaderOverrides(t *testing.T) {
	srv := newServer(t, Config{Chunks: 5, Delay: time.Hour})
	url := srv.URL + "/chat/completions"
	for _, n := range []int{0, 1, 3, 40} {
		resp := post(t, url, `{"stream":true}`, map[string]string{
			HeaderChunks: strconv.Itoa(n), HeaderDelayMs: "0",
		})
		checkStream(t, readEvents(t, resp.Body), n)
	}
	for _, hdr := range []map[string]string{{HeaderChunks: "x"}, {HeaderChunks: "-1"}, {HeaderDelayMs: "1.5"}} {
		resp := post(t, url, `{"stream":true}`, hdr)
		var e struct{ Error struct{ Message string } }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 400 || e.Error.Message == "" {
			t.Errorf("%v: status %d, error %q (%v)", hdr, resp.StatusCode, e.Error.Message, err)
		}
	}
}

// TestStreamFlushesEachChunk proves chunks leave one by one: with an hour
// between chunks, the first can only arrive if it was flushed alone. It
// also checks that the handler stops once the client goes away.
func TestStreamFlushesEachChunk(t *testing.T) {
	h, err := New(Config{Chunks: 3, Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `data: {"id"`) {
		t.Fatalf("first line %q, %v", line, err)
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("handler still streaming after the client left")
	}
}

func TestOtherRoutes(t *testing.T) {
	srv := newServer(t, Config{Chunks: 1})
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/v1/chat/completions"},
		{http.MethodPost, "/v1/embeddings"},
		{http.MethodGet, "/"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error struct{ Message string } }
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 404 || err != nil || e.Error.Message == "" {
			t.Errorf("%s %s: %d, %v", tc.method, tc.path, resp.StatusCode, err)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Chunks: -1}, {Delay: -time.Second}, {Size: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
