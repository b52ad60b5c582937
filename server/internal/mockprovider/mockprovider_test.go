package mockprovider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func newServer(t *testing.T, opts Options) (*Provider, *httptest.Server) {
	t.Helper()
	p := New(opts)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

func post(t *testing.T, url, body string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeJSON(t *testing.T, r io.Reader, v any) {
	t.Helper()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// sseEvent is one parsed SSE frame and when it arrived.
type sseEvent struct {
	name string
	data string
	at   time.Time
}

// readSSE parses frames from r as they arrive.
func readSSE(t *testing.T, r io.Reader) ([]sseEvent, error) {
	t.Helper()
	br := bufio.NewReader(r)
	var evs []sseEvent
	var cur sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" {
				return evs, nil
			}
			return evs, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			cur.at = time.Now()
			evs = append(evs, cur)
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
}

const userMsg = "What is the capital of France?"

func chatBody(extra string) string {
	return `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"` + userMsg + `"}]` + extra + `}`
}

func TestChatCompletion(t *testing.T) {
	_, srv := newServer(t, Options{})
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "Authorization", "Bearer sk-real")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") == "" {
		t.Error("missing x-request-id / rate-limit headers")
	}
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) < 400 || len(raw) > 1200 {
		t.Errorf("body is %d bytes, want a realistic ~600–800", len(raw))
	}
	var got struct {
		ID, Object, Model string
		Created           int64
		Choices           []struct {
			Index   int
			Message struct{ Role, Content string }
			Finish  string `json:"finish_reason"`
		}
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
			Total      int `json:"total_tokens"`
		}
	}
	decodeJSON(t, bytes.NewReader(raw), &got)
	want := CompletionPrefix + userMsg
	if got.Object != "chat.completion" || got.Model != "gpt-4o" || !strings.HasPrefix(got.ID, "chatcmpl-") || got.Created == 0 {
		t.Errorf("bad envelope: %+v", got)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Content != want || got.Choices[0].Message.Role != "assistant" || got.Choices[0].Finish != "stop" {
		t.Fatalf("choices = %+v, want content %q", got.Choices, want)
	}
	wantPrompt := (len("Be brief.") + len(userMsg)) / 4
	wantCompletion := len(strings.Split(want, " "))
	if got.Usage.Prompt != wantPrompt || got.Usage.Completion != wantCompletion || got.Usage.Total != wantPrompt+wantCompletion {
		t.Errorf("usage = %+v, want prompt %d completion %d", got.Usage, wantPrompt, wantCompletion)
	}
}

func TestChatMaxTokens(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, field := range []string{"max_tokens", "max_completion_tokens"} {
		resp := post(t, srv.URL+"/v1/chat/completions", chatBody(`,"`+field+`":3`))
		var got struct {
			Choices []struct {
				Message struct{ Content string }
				Finish  string `json:"finish_reason"`
			}
			Usage struct {
				Completion int `json:"completion_tokens"`
			}
		}
		decodeJSON(t, resp.Body, &got)
		if got.Usage.Completion != 3 || got.Choices[0].Message.Content != "Hello from mock:" || got.Choices[0].Finish != "length" {
			t.Errorf("%s=3: got %+v", field, got)
		}
	}
}

func TestChatStreamChunksFlushedIndividually(t *testing.T) {
	_, srv := newServer(t, Options{})
	const delay = 150 * time.Millisecond
	start := time.Now()
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true,"stream_options":{"include_usage":true}`),
		"x-mock-chunks", "4", "x-mock-chunk-delay-ms", fmt.Sprint(delay.Milliseconds()))
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content-type %q", ct)
	}
	evs, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// role chunk, 4 content chunks, finish chunk, usage chunk, [DONE]
	if len(evs) != 8 {
		t.Fatalf("got %d events, want 8: %+v", len(evs), evs)
	}
	if evs[7].data != "[DONE]" {
		t.Errorf("last event %q, want [DONE]", evs[7].data)
	}
	// The role chunk is sent before the first delay; content chunks arrive
	// one delay apart. Buffering would deliver them all at the end.
	if evs[0].at.Sub(start) > delay*3/2 {
		t.Errorf("first chunk arrived after %v, not flushed at once", evs[0].at.Sub(start))
	}
	for i := 2; i <= 4; i++ {
		if gap := evs[i].at.Sub(evs[i-1].at); gap < delay/2 {
			t.Errorf("content chunk %d arrived %v after the previous one; want ≈%v (chunks buffered?)", i, gap, delay)
		}
	}
	var content strings.Builder
	for i, ev := range evs[:7] {
		var ch struct {
			Object  string
			Choices []struct {
				Delta struct {
					Role    string
					Content *string
				}
				Finish *string `json:"finish_reason"`
			}
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
				Total      int `json:"total_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(ev.data), &ch); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ch.Object != "chat.completion.chunk" {
			t.Errorf("event %d object %q", i, ch.Object)
		}
		if !strings.Contains(ev.data, `"usage":`) {
			t.Errorf("event %d: include_usage chunks carry a usage member (null until the last)", i)
		}
		switch {
		case i == 0:
			if ch.Choices[0].Delta.Role != "assistant" {
				t.Errorf("first chunk has no role: %s", ev.data)
			}
		case i < 5:
			content.WriteString(*ch.Choices[0].Delta.Content)
		case i == 5:
			if ch.Choices[0].Finish == nil || *ch.Choices[0].Finish != "stop" {
				t.Errorf("finish chunk: %s", ev.data)
			}
		case i == 6:
			if len(ch.Choices) != 0 || ch.Usage == nil || ch.Usage.Completion != 4 || ch.Usage.Total != ch.Usage.Prompt+4 {
				t.Errorf("usage chunk: %s", ev.data)
			}
		}
		if i < 6 && ch.Usage != nil {
			t.Errorf("event %d has a non-null usage", i)
		}
	}
	if want := ExpectedCompletion(userMsg, 4, 0); content.String() != want {
		t.Errorf("content %q, want %q", content.String(), want)
	}
}

func TestChatStreamWithoutUsage(t *testing.T) {
	_, srv := newServer(t, Options{Chunks: 12})
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true,"max_tokens":10`))
	evs, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// role, 10 content (max_tokens caps the 12 chunks), finish, [DONE]
	if len(evs) != 13 || evs[12].data != "[DONE]" {
		t.Fatalf("got %d events: %+v", len(evs), evs)
	}
	for _, ev := range evs {
		if strings.Contains(ev.data, `"usage"`) {
			t.Fatalf("usage without include_usage: %s", ev.data)
		}
	}
	if !strings.Contains(evs[11].data, `"finish_reason":"length"`) {
		t.Errorf("finish chunk %s, want length", evs[11].data)
	}
}

func TestAnthropicMessage(t *testing.T) {
	_, srv := newServer(t, Options{})
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"` + userMsg + `"}]}]}`
	resp := post(t, srv.URL+"/v1/messages", body, "x-api-key", "sk-ant", "anthropic-version", "2023-06-01")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got struct {
		ID, Type, Role, Model string
		Content               []struct{ Type, Text string }
		StopReason            string `json:"stop_reason"`
		Usage                 struct {
			In  int `json:"input_tokens"`
			Out int `json:"output_tokens"`
		}
	}
	decodeJSON(t, resp.Body, &got)
	want := CompletionPrefix + userMsg
	if got.Type != "message" || got.Role != "assistant" || !strings.HasPrefix(got.ID, "msg_") || got.StopReason != "end_turn" ||
		len(got.Content) != 1 || got.Content[0].Type != "text" || got.Content[0].Text != want {
		t.Errorf("message = %+v", got)
	}
	if got.Usage.In != PromptTokens("Be brief.", userMsg) || got.Usage.Out != len(strings.Split(want, " ")) {
		t.Errorf("usage = %+v", got.Usage)
	}
}

func TestAnthropicStreamEventOrder(t *testing.T) {
	_, srv := newServer(t, Options{})
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi there"}]}`
	resp := post(t, srv.URL+"/v1/messages", body, "x-api-key", "sk-ant", "anthropic-version", "2023-06-01", "x-mock-chunks", "3")
	evs, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var text strings.Builder
	for _, ev := range evs {
		names = append(names, ev.name)
		var m struct {
			Type    string
			Message struct {
				Usage struct {
					In int `json:"input_tokens"`
				}
			}
			Delta struct{ Type, Text string }
			Usage struct {
				Out int `json:"output_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatal(err)
		}
		if m.Type != ev.name {
			t.Errorf("event %q carries type %q", ev.name, m.Type)
		}
		switch ev.name {
		case "message_start":
			if m.Message.Usage.In != PromptTokens("hi there") {
				t.Errorf("message_start input_tokens = %d", m.Message.Usage.In)
			}
		case "content_block_delta":
			if m.Delta.Type != "text_delta" {
				t.Errorf("delta type %q", m.Delta.Type)
			}
			text.WriteString(m.Delta.Text)
		case "message_delta":
			if m.Usage.Out != 3 {
				t.Errorf("message_delta output_tokens = %d, want 3", m.Usage.Out)
			}
		}
	}
	want := []string{"message_start", "content_block_start", "ping",
		"content_block_delta", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", names, want)
	}
	if text.String() != "Hello from mock:" {
		t.Errorf("text %q", text.String())
	}
}

func TestAnthropicErrors(t *testing.T) {
	_, srv := newServer(t, Options{})
	body := `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`
	for _, tc := range []struct {
		headers  []string
		status   int
		errType  string
		contains string
	}{
		{[]string{"x-api-key", "k"}, 400, "invalid_request_error", "anthropic-version"},
		{[]string{"anthropic-version", "2023-06-01", "x-mock-status", "529"}, 529, "overloaded_error", "mock upstream error"},
		{[]string{"anthropic-version", "2023-06-01", "x-mock-status", "401"}, 401, "authentication_error", ""},
	} {
		resp := post(t, srv.URL+"/v1/messages", body, tc.headers...)
		var got struct {
			Type  string
			Error struct{ Type, Message string }
		}
		decodeJSON(t, resp.Body, &got)
		if resp.StatusCode != tc.status || got.Type != "error" || got.Error.Type != tc.errType || !strings.Contains(got.Error.Message, tc.contains) {
			t.Errorf("%v: status %d body %+v", tc.headers, resp.StatusCode, got)
		}
	}
}

func TestMockStatusOpenAIError(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, tc := range []struct {
		status  int
		errType string
	}{{500, "server_error"}, {503, "server_error"}, {429, "requests"}, {400, "invalid_request_error"}} {
		resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-status", fmt.Sprint(tc.status))
		var got struct {
			Error struct {
				Message, Type string
				Code          *string
			}
		}
		decodeJSON(t, resp.Body, &got)
		if resp.StatusCode != tc.status || got.Error.Type != tc.errType || got.Error.Message == "" {
			t.Errorf("x-mock-status %d: status %d body %+v", tc.status, resp.StatusCode, got)
		}
		if tc.status == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	for _, bad := range []string{"200", "abc", "700"} {
		resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-status", bad)
		if resp.StatusCode != 400 {
			t.Errorf("x-mock-status %q: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestBadRequestsAndRoutes(t *testing.T) {
	_, srv := newServer(t, Options{MaxBodyBytes: 1024})
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, 413},
		{"POST", "/v1/chat/completions", `{not json`, 400},
		{"POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}`, 400},
		{"GET", "/v1/chat/completions", ``, 405},
		{"POST", "/v1/nope", `{}`, 404},
		{"POST", "/v1/embeddings", `{"model":"m","input":""}`, 400},
		{"POST", "/v1/images/generations", `{"model":"m"}`, 400},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Error *struct{ Message, Type string }
		}
		decodeJSON(t, resp.Body, &got)
		resp.Body.Close()
		if resp.StatusCode != tc.status || got.Error == nil || got.Error.Message == "" {
			t.Errorf("%s %s %.40s: status %d error %+v, want %d", tc.method, tc.path, tc.body, resp.StatusCode, got.Error, tc.status)
		}
	}
}

func TestEmbeddings(t *testing.T) {
	_, srv := newServer(t, Options{})
	var floats, b64 struct {
		Object string
		Model  string
		Data   []struct {
			Object    string
			Index     int
			Embedding json.RawMessage
		}
		Usage struct {
			Prompt int `json:"prompt_tokens"`
			Total  int `json:"total_tokens"`
		}
	}
	decodeJSON(t, post(t, srv.URL+"/v1/embeddings", `{"model":"text-embedding-3-small","input":["hello world","bye"],"dimensions":8}`).Body, &floats)
	decodeJSON(t, post(t, srv.URL+"/v1/embeddings", `{"model":"text-embedding-3-small","input":["hello world","bye"],"dimensions":8,"encoding_format":"base64"}`).Body, &b64)
	if floats.Object != "list" || len(floats.Data) != 2 || floats.Usage.Prompt != PromptTokens("hello world", "bye") || floats.Usage.Total != floats.Usage.Prompt {
		t.Fatalf("embeddings = %+v", floats)
	}
	for i := range floats.Data {
		var vec []float32
		if err := json.Unmarshal(floats.Data[i].Embedding, &vec); err != nil || len(vec) != 8 {
			t.Fatalf("embedding %d: %v len %d", i, err, len(vec))
		}
		var s string
		if err := json.Unmarshal(b64.Data[i].Embedding, &s); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("base64 embedding %d: %v (%d bytes)", i, err, len(raw))
		}
		var norm float64
		for j := range vec {
			f := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			if f != vec[j] {
				t.Errorf("base64 and float embeddings differ at %d/%d", i, j)
			}
			norm += float64(f) * float64(f)
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("embedding %d is not unit length (%f)", i, norm)
		}
	}
}

func TestImagesAndModels(t *testing.T) {
	_, srv := newServer(t, Options{})
	var img struct {
		Created int64
		Data    []struct {
			URL     string `json:"url"`
			B64JSON string `json:"b64_json"`
		}
	}
	decodeJSON(t, post(t, srv.URL+"/v1/images/generations", `{"model":"dall-e-3","prompt":"a cat","n":2}`).Body, &img)
	if img.Created == 0 || len(img.Data) != 2 || !strings.HasPrefix(img.Data[0].URL, "https://") {
		t.Errorf("images = %+v", img)
	}
	decodeJSON(t, post(t, srv.URL+"/v1/images/generations", `{"model":"dall-e-2","prompt":"a cat","response_format":"b64_json"}`).Body, &img)
	if png, err := base64.StdEncoding.DecodeString(img.Data[0].B64JSON); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("b64_json is not a PNG: %v", err)
	}
	resp, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var models struct {
		Object string
		Data   []struct{ ID, Object string }
	}
	decodeJSON(t, resp.Body, &models)
	if models.Object != "list" || len(models.Data) != len(Models) || models.Data[0].Object != "model" {
		t.Errorf("models = %+v", models)
	}
}

func TestStatsRequestsReset(t *testing.T) {
	p, srv := newServer(t, Options{MaxRecorded: 3})
	post(t, srv.URL+"/v1/chat/completions?x=1", chatBody(""), "Authorization", "Bearer sk-one")
	post(t, srv.URL+"/v1/chat/completions", chatBody(""), "Authorization", "Bearer sk-one")
	post(t, srv.URL+"/v1/embeddings", `{"model":"e","input":"x"}`, "Authorization", "Bearer sk-two")
	post(t, srv.URL+"/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
		"x-api-key", "sk-ant", "anthropic-version", "2023-06-01")
	post(t, srv.URL+"/v1/chat/completions", chatBody(""), "Authorization", "Bearer sk-one", "x-mock-status", "500")

	resp, err := http.Get(srv.URL + "/_mock/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	decodeJSON(t, resp.Body, &st)
	resp.Body.Close()
	if st.Requests != 5 || st.ByPath["/v1/chat/completions"] != 3 || st.ByPath["/v1/embeddings"] != 1 ||
		st.ByKey["sk-one"] != 3 || st.ByKey["sk-two"] != 1 || st.ByKey["sk-ant"] != 1 ||
		st.ByStatus["200"] != 4 || st.ByStatus["500"] != 1 || st.ByModel["gpt-4o"] != 3 {
		t.Errorf("stats = %+v", st)
	}

	// The ring keeps the last 3, oldest first.
	reqs := p.Requests()
	if len(reqs) != 3 || reqs[0].Seq != 3 || reqs[2].Seq != 5 {
		t.Fatalf("requests = %+v", reqs)
	}
	if reqs[2].Headers.Get("Authorization") != "Bearer sk-one" || reqs[2].Model != "gpt-4o" || reqs[2].Status != 500 || reqs[2].Key != "sk-one" {
		t.Errorf("last request = %+v", reqs[2])
	}
	if reqs[1].Headers.Get("X-Api-Key") != "sk-ant" || reqs[1].MaxTokens == nil || *reqs[1].MaxTokens != 5 {
		t.Errorf("anthropic request = %+v", reqs[1])
	}

	resp, err = http.Get(srv.URL + "/_mock/requests?key=sk-one&limit=5")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Data []Request }
	decodeJSON(t, resp.Body, &list)
	resp.Body.Close()
	if len(list.Data) != 1 || list.Data[0].Seq != 5 {
		t.Errorf("filtered requests = %+v", list.Data)
	}

	if r := post(t, srv.URL+"/_mock/reset", ""); r.StatusCode != 200 {
		t.Fatalf("reset: %d", r.StatusCode)
	}
	if st := p.Stats(); st.Requests != 0 || len(st.ByPath) != 0 || len(p.Requests()) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestConcurrentCounting(t *testing.T) {
	p, srv := newServer(t, Options{MaxRecorded: 50})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions",
				strings.NewReader(chatBody(fmt.Sprintf(`,"stream":%v`, i%2 == 0))))
			req.Header.Set("Authorization", fmt.Sprintf("Bearer sk-%d", i%4))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := p.Stats()
	if st.Requests != n || st.ByKey["sk-0"] != n/4 || st.Streams != n/2 || st.InFlight != 0 || len(p.Requests()) != 50 {
		t.Errorf("stats = %+v, recorded %d", st, len(p.Requests()))
	}
}

func TestClientCancelStopsStream(t *testing.T) {
	p, srv := newServer(t, Options{ChunkDelay: 50 * time.Millisecond, Chunks: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions", strings.NewReader(chatBody(`,"stream":true`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := p.Stats()
		if st.Canceled == 1 && st.InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not abandoned after client cancel: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := p.Stats(); st.Streams != 0 {
		t.Errorf("canceled stream counted as completed: %+v", st)
	}
}

func TestDelayAndDisconnect(t *testing.T) {
	p, srv := newServer(t, Options{})
	start := time.Now()
	resp := post(t, srv.URL+"/v1/chat/completions", chatBody(""), "x-mock-delay-ms", "120")
	if time.Since(start) < 120*time.Millisecond || resp.StatusCode != 200 {
		t.Errorf("x-mock-delay-ms: answered after %v status %d", time.Since(start), resp.StatusCode)
	}

	resp = post(t, srv.URL+"/v1/chat/completions", chatBody(`,"stream":true`), "x-mock-disconnect-after", "2")
	evs, err := readSSE(t, resp.Body)
	if err == nil {
		t.Errorf("stream ended cleanly after a disconnect: %+v", evs)
	}
	if len(evs) != 3 { // role + 2 content chunks
		t.Errorf("got %d events before the disconnect, want 3", len(evs))
	}
	if st := p.Stats(); st.Disconnected != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCompletionTokens(t *testing.T) {
	for _, tc := range []struct {
		user          string
		chunks, max   int
		want          string
		wantTruncated bool
	}{
		{"hi", 0, 0, "Hello from mock: hi", false},
		{"hi", 2, 0, "Hello from", false},
		{"hi", 6, 0, "Hello from mock: hi tok5 tok6", false},
		{"hi", 6, 3, "Hello from mock:", true},
		{"a b c", 0, 10, "Hello from mock: a b c", false},
	} {
		toks, tr := CompletionTokens(tc.user, tc.chunks, tc.max)
		if got := strings.Join(toks, ""); got != tc.want || tr != tc.wantTruncated {
			t.Errorf("CompletionTokens(%q,%d,%d) = %q,%v want %q,%v", tc.user, tc.chunks, tc.max, got, tr, tc.want, tc.wantTruncated)
		}
	}
	if n := PromptTokens(""); n != 1 {
		t.Errorf("PromptTokens(\"\") = %d, want 1", n)
	}
	if n := PromptTokens("héllo wörld!"); n != 3 {
		t.Errorf("PromptTokens counts runes: got %d, want 3", n)
	}
}
