package mockprovider

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const rtKey = "sk-real-provider-key"

// rtServer mounts a provider; sessions are closed before the server.
func rtServer(t *testing.T, opts Options) (*Provider, *httptest.Server) {
	t.Helper()
	p := New(opts)
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.CloseRealtime()
		srv.Close()
	})
	return p, srv
}

// rtClient is a test client of one session.
type rtClient struct {
	t    *testing.T
	conn *websocket.Conn
	seen []map[string]any // every event read
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// rtDialOpts dials path with opts; it fails the test unless it upgrades.
func rtDialOpts(t *testing.T, srv *httptest.Server, path string, opts *websocket.DialOptions) *rtClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(srv, path), opts)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", path, err, resp)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &rtClient{t: t, conn: conn}
}

// rtDial dials path with the real key and headers (name, value pairs).
func rtDial(t *testing.T, srv *httptest.Server, path string, headers ...string) *rtClient {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + rtKey}}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return rtDialOpts(t, srv, path, &websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{"realtime"}})
}

func (c *rtClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

func (c *rtClient) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, typ, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next event, or the error that ended the session.
func (c *rtClient) read() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		c.t.Fatalf("server sent a %v frame", typ)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%v in %q", err, b)
	}
	if _, ok := m["event_id"].(string); !ok {
		c.t.Fatalf("event without event_id: %s", b)
	}
	c.seen = append(c.seen, m)
	return m, nil
}

func (c *rtClient) next() map[string]any {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// expect reads the next event and checks its type.
func (c *rtClient) expect(typ string) map[string]any {
	c.t.Helper()
	m := c.next()
	if m["type"] != typ {
		c.t.Fatalf("got %v, want %s: %v", m["type"], typ, m)
	}
	return m
}

// until reads events up to and including one of type typ.
func (c *rtClient) until(typ string) []map[string]any {
	c.t.Helper()
	var out []map[string]any
	for {
		m := c.next()
		out = append(out, m)
		if m["type"] == typ {
			return out
		}
	}
}

// closed reads until the server ends the session and returns the close
// status (-1 without a close frame) and reason.
func (c *rtClient) closed() (websocket.StatusCode, string) {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		return -1, err.Error()
	}
}

func types(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i], _ = e["type"].(string)
	}
	return out
}

func userText(text string) map[string]any {
	return map[string]any{"type": "conversation.item.create", "item": map[string]any{
		"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": text}}}}
}

func textSession(c *rtClient) {
	c.t.Helper()
	c.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime", "output_modalities": []string{"text"}}})
	c.expect("session.updated")
}

// settled waits for the provider to record the end of its sessions.
func settled(t *testing.T, p *Provider) []Request {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqs := p.Requests()
		done := true
		for _, r := range reqs {
			done = done && r.Status != 0
		}
		if done || time.Now().After(deadline) {
			return reqs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRealtimeSessionCreatedAndCounted(t *testing.T) {
	p, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	if c.conn.Subprotocol() != "realtime" {
		t.Errorf("subprotocol %q, want realtime", c.conn.Subprotocol())
	}
	ev := c.expect("session.created")
	s := at(t, ev, "session").(map[string]any)
	if s["type"] != "realtime" || s["object"] != "realtime.session" || s["model"] != "gpt-realtime" ||
		!strings.HasPrefix(str(t, s, "id"), "sess_") || s["instructions"] != RealtimeDefaultInstructions {
		t.Errorf("session %v", s)
	}
	if str(t, s, "output_modalities", 0) != "audio" || str(t, s, "audio", "input", "format", "type") != "audio/pcm" ||
		num(t, s, "audio", "output", "format", "rate") != 24000 || s["max_output_tokens"] != "inf" {
		t.Errorf("session defaults %v", s)
	}
	if st := p.Stats(); st.ByKey[rtKey] != 1 || st.ByPath["/v1/realtime"] != 1 || st.ByModel["gpt-realtime"] != 1 || st.InFlight != 1 {
		t.Errorf("stats while open %+v", st)
	}
	if err := c.conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	reqs := settled(t, p)
	if len(reqs) != 1 || reqs[0].Status != http.StatusSwitchingProtocols || reqs[0].Key != rtKey || !reqs[0].Stream || reqs[0].Path != "/v1/realtime" {
		t.Fatalf("recorded %+v", reqs)
	}
	if st := p.Stats(); st.Streams != 1 || st.ByStatus["101"] != 1 || st.InFlight != 0 {
		t.Errorf("stats after close %+v", st)
	}
}

func TestRealtimeTextConversation(t *testing.T) {
	p, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	c.send(map[string]any{"type": "session.update", "session": map[string]any{
		"type": "realtime", "output_modalities": []string{"text"}, "instructions": "Be brief."}})
	upd := c.expect("session.updated")
	if str(t, upd, "session", "output_modalities", 0) != "text" || str(t, upd, "session", "instructions") != "Be brief." ||
		str(t, upd, "session", "audio", "output", "voice") != rtDefaultVoice {
		t.Errorf("session.updated %v", upd)
	}

	const question = "what is the weather in Paris today"
	c.send(userText(question))
	added := c.expect("conversation.item.added")
	item := at(t, added, "item").(map[string]any)
	if !strings.HasPrefix(str(t, item, "id"), "item_") || item["role"] != "user" || item["status"] != "completed" ||
		str(t, item, "content", 0, "text") != question || added["previous_item_id"] != nil {
		t.Errorf("added %v", added)
	}
	if done := c.expect("conversation.item.done"); str(t, done, "item", "id") != item["id"] {
		t.Errorf("done %v", done)
	}

	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	want := ExpectedCompletion(question, 0, 0)
	tokens, _ := CompletionTokens(question, 0, 0)
	var order []string
	var text strings.Builder
	for _, e := range evs {
		if e["type"] == "response.output_text.delta" {
			text.WriteString(str(t, e, "delta"))
			if len(order) > 0 && order[len(order)-1] == "response.output_text.delta" {
				continue
			}
		}
		order = append(order, e["type"].(string))
	}
	wantOrder := []string{"response.created", "response.output_item.added", "conversation.item.added",
		"response.content_part.added", "response.output_text.delta", "response.output_text.done",
		"response.content_part.done", "conversation.item.done", "response.output_item.done", "response.done"}
	if strings.Join(order, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("order\n got %v\nwant %v", order, wantOrder)
	}
	if text.String() != want {
		t.Errorf("deltas %q, want %q", text.String(), want)
	}
	if n := len(evs) - len(wantOrder) + 1; n != len(tokens) {
		t.Errorf("%d deltas, want one per word token (%d)", n, len(tokens))
	}
	done := evs[len(evs)-1]
	resp := at(t, done, "response").(map[string]any)
	if resp["status"] != "completed" || resp["object"] != "realtime.response" || !strings.HasPrefix(str(t, resp, "id"), "resp_") ||
		str(t, resp, "output", 0, "content", 0, "text") != want || str(t, resp, "output", 0, "content", 0, "type") != "output_text" ||
		!strings.HasPrefix(str(t, resp, "conversation_id"), "conv_") {
		t.Errorf("response.done %v", resp)
	}
	in := PromptTokens("Be brief.") + PromptTokens(question)
	u := at(t, resp, "usage")
	if num(t, u, "input_tokens") != in || num(t, u, "input_token_details", "text_tokens") != in ||
		num(t, u, "input_token_details", "audio_tokens") != 0 || num(t, u, "input_token_details", "cached_tokens") != 0 ||
		num(t, u, "output_tokens") != len(tokens) || num(t, u, "output_token_details", "text_tokens") != len(tokens) ||
		num(t, u, "output_token_details", "audio_tokens") != 0 || num(t, u, "total_tokens") != in+len(tokens) {
		t.Errorf("usage %v (want input %d, output %d)", u, in, len(tokens))
	}
	c.expect("rate_limits.updated")

	// The answer is input to the next turn.
	c.send(userText("and tomorrow"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	done2 := c.until("response.done")
	in2 := in + len(tokens) + PromptTokens("and tomorrow")
	if got := num(t, done2[len(done2)-1], "response", "usage", "input_tokens"); got != in2 {
		t.Errorf("second turn input %d, want %d", got, in2)
	}
	tokens2, _ := CompletionTokens("and tomorrow", 0, 0)
	r := lastRequest(t, p)
	if r.ProducedPromptTokens != in+in2 || r.ProducedCompletionTokens != len(tokens)+len(tokens2) {
		t.Errorf("produced %d/%d, want %d/%d", r.ProducedPromptTokens, r.ProducedCompletionTokens, in+in2, len(tokens)+len(tokens2))
	}
}

func TestRealtimeAudioInAndOut(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunks", "3")
	c.expect("session.created")
	pcm := base64.StdEncoding.EncodeToString(make([]byte, 4800))
	for range 3 { // 300 ms, 3 tokens; no answer to appends
		c.send(map[string]any{"type": "input_audio_buffer.append", "audio": pcm})
	}
	c.send(map[string]any{"type": "input_audio_buffer.commit", "event_id": "ev_commit"})
	committed := c.expect("input_audio_buffer.committed")
	added := c.expect("conversation.item.added")
	if str(t, added, "item", "id") != str(t, committed, "item_id") || str(t, added, "item", "content", 0, "type") != "input_audio" {
		t.Errorf("committed %v added %v", committed, added)
	}
	if part := at(t, added, "item", "content", 0).(map[string]any); part["audio"] != nil || part["transcript"] != nil {
		t.Errorf("audio item echoes %v", part)
	}
	c.expect("conversation.item.done")

	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	var audioBytes int
	var transcript strings.Builder
	for _, e := range evs {
		switch e["type"] {
		case "response.output_audio.delta":
			b, err := base64.StdEncoding.DecodeString(str(t, e, "delta"))
			if err != nil {
				t.Fatal(err)
			}
			audioBytes += len(b)
		case "response.output_audio_transcript.delta":
			transcript.WriteString(str(t, e, "delta"))
		case "response.output_text.delta":
			t.Errorf("text delta in an audio response: %v", e)
		case "response.content_part.added":
			if str(t, e, "part", "type") != "audio" {
				t.Errorf("part %v", e)
			}
		}
	}
	want := ExpectedCompletion("", 3, 0)
	if transcript.String() != want || audioBytes != 3*4800 {
		t.Errorf("transcript %q (want %q), %d audio bytes (want %d)", transcript.String(), want, audioBytes, 3*4800)
	}
	resp := at(t, evs[len(evs)-1], "response")
	if str(t, resp, "output", 0, "content", 0, "type") != "output_audio" || str(t, resp, "output", 0, "content", 0, "transcript") != want {
		t.Errorf("output %v", resp)
	}
	u := at(t, resp, "usage")
	instr := PromptTokens(RealtimeDefaultInstructions)
	if num(t, u, "input_token_details", "audio_tokens") != 3 || num(t, u, "input_token_details", "text_tokens") != instr ||
		num(t, u, "output_token_details", "text_tokens") != 3 || num(t, u, "output_token_details", "audio_tokens") != 3*RealtimeAudioTokensPerWord ||
		num(t, u, "output_tokens") != 3+3*RealtimeAudioTokensPerWord || num(t, u, "input_tokens") != 3+instr {
		t.Errorf("usage %v", u)
	}
	c.expect("rate_limits.updated")

	// Once the model spoke, the voice is fixed.
	c.send(map[string]any{"type": "session.update", "event_id": "ev_voice", "session": map[string]any{
		"type": "realtime", "audio": map[string]any{"output": map[string]any{"voice": "alloy"}}}})
	if e := c.expect("error"); str(t, e, "error", "code") != "cannot_update_voice" || str(t, e, "error", "event_id") != "ev_voice" {
		t.Errorf("voice change: %v", e)
	}
	// An empty buffer cannot be committed.
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(make([]byte, 2400))})
	c.send(map[string]any{"type": "input_audio_buffer.commit", "event_id": "ev_short"})
	e := c.expect("error")
	if str(t, e, "error", "code") != "input_audio_buffer_commit_empty" || !strings.Contains(str(t, e, "error", "message"), "50.00ms") {
		t.Errorf("short commit: %v", e)
	}
	c.send(map[string]any{"type": "input_audio_buffer.clear"})
	c.expect("input_audio_buffer.cleared")
}

func TestRealtimeG711CountsEightKilohertz(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	c.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime", "output_modalities": []string{"text"},
		"audio": map[string]any{"input": map[string]any{"format": map[string]any{"type": "audio/pcmu"}}}}})
	if e := c.expect("session.updated"); str(t, e, "session", "audio", "input", "format", "type") != "audio/pcmu" ||
		str(t, e, "session", "audio", "output", "voice") != rtDefaultVoice {
		t.Errorf("updated %v", e)
	}
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(make([]byte, 1700))})
	c.send(map[string]any{"type": "input_audio_buffer.commit"})
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	if got := num(t, evs[len(evs)-1], "response", "usage", "input_token_details", "audio_tokens"); got != 3 {
		t.Errorf("1,700 bytes of G.711 = %d tokens, want 3 (800 bytes per 100 ms, rounded up)", got)
	}
}

func TestRealtimeErrorsKeepSessionOpen(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	for _, tc := range []struct {
		name      string
		typ       websocket.MessageType
		msg       string
		code      string
		param     any
		eventID   any
		inMessage string
	}{
		{"not json", websocket.MessageText, "not json", "invalid_json", nil, nil, "parse JSON"},
		{"binary", websocket.MessageBinary, `{"type":"response.create"}`, "invalid_event", nil, nil, "binary"},
		{"no type", websocket.MessageText, `{"event_id":"e1"}`, "invalid_event", nil, "e1", "'type'"},
		{"unknown type", websocket.MessageText, `{"type":"response.creat","event_id":"e2"}`, "invalid_value", "type", "e2", "Supported values are: 'session.update'"},
		{"beta event", websocket.MessageText, `{"type":"transcription_session.update"}`, "invalid_value", "type", nil, "'transcription_session.update'"},
		{"unknown session field", websocket.MessageText, `{"type":"session.update","event_id":"e3","session":{"type":"realtime","modalities":["text"]}}`,
			"unknown_parameter", "session.modalities", "e3", "Unknown parameter: 'session.modalities'."},
		{"no session.type", websocket.MessageText, `{"type":"session.update","session":{"instructions":"x"}}`,
			"missing_required_parameter", "session.type", nil, "Missing required parameter: 'session.type'."},
		{"model change", websocket.MessageText, `{"type":"session.update","session":{"type":"realtime","model":"gpt-realtime-mini"}}`,
			"invalid_value", "session.model", nil, "model"},
		{"both modalities", websocket.MessageText, `{"type":"session.update","session":{"type":"realtime","output_modalities":["text","audio"]}}`,
			"invalid_value", "session.output_modalities", nil, "both"},
		{"cap too high", websocket.MessageText, `{"type":"session.update","session":{"type":"realtime","max_output_tokens":5000}}`,
			"integer_above_max_value", "session.max_output_tokens", nil, "4096"},
		{"16 kHz", websocket.MessageText, `{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}}`,
			"integer_below_min_value", "session.audio.input.format.rate", nil, "24000"},
		{"bad audio", websocket.MessageText, `{"type":"input_audio_buffer.append","audio":"%%%"}`, "invalid_value", "audio", nil, "base64"},
		{"item without type", websocket.MessageText, `{"type":"conversation.item.create","item":{"role":"user"}}`,
			"missing_required_parameter", "item.type", nil, "'item.type'"},
		{"unknown previous item", websocket.MessageText, `{"type":"conversation.item.create","previous_item_id":"nope","item":{"type":"message","role":"user","content":[]}}`,
			"invalid_value", "previous_item_id", nil, "nope"},
		{"delete unknown", websocket.MessageText, `{"type":"conversation.item.delete","item_id":"nope"}`, "invalid_value", "item_id", nil, "nope"},
		{"cancel idle", websocket.MessageText, `{"type":"response.cancel","event_id":"e4"}`, "response_cancel_not_active", nil, "e4", "no active response"},
		{"bad conversation", websocket.MessageText, `{"type":"response.create","response":{"conversation":"other"}}`, "invalid_value", "response.conversation", nil, "'auto'"},
	} {
		c.sendRaw(tc.typ, []byte(tc.msg))
		e := c.expect("error")
		er := at(t, e, "error").(map[string]any)
		if er["type"] != "invalid_request_error" || er["code"] != tc.code || er["param"] != tc.param || er["event_id"] != tc.eventID ||
			!strings.Contains(str(t, er, "message"), tc.inMessage) {
			t.Errorf("%s: %v", tc.name, er)
		}
		if _, ok := er["param"]; !ok {
			t.Errorf("%s: no param member: %v", tc.name, er)
		}
	}
	// None of it changed the session, which still works.
	textSession(c)
	c.send(userText("still here"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	if got := str(t, evs[len(evs)-1], "response", "output", 0, "content", 0, "text"); got != ExpectedCompletion("still here", 0, 0) {
		t.Errorf("answer %q", got)
	}
}

func TestRealtimeAuthAfterUpgrade(t *testing.T) {
	p, srv := rtServer(t, Options{RealtimeKeys: []string{rtKey}})
	for _, tc := range []struct {
		name   string
		header http.Header
		protos []string
		code   any
		close  websocket.StatusCode
		reason string
	}{
		{"no key", nil, nil, nil, 3000, "invalid_request_error"},
		{"wrong key", http.Header{"Authorization": {"Bearer rly_token_abcdefgh"}}, nil, "invalid_api_key", 3000, "invalid_request_error.invalid_api_key"},
		{"wrong browser key", nil, []string{"realtime", "openai-insecure-api-key.rly_token_abcdefgh"}, "invalid_api_key", 3000, "invalid_request_error.invalid_api_key"},
	} {
		c := rtDialOpts(t, srv, "/v1/realtime?model=gpt-realtime", &websocket.DialOptions{HTTPHeader: tc.header, Subprotocols: tc.protos})
		e := c.expect("error")
		if at(t, e, "error", "code") != tc.code || strings.Contains(str(t, e, "error", "message"), "abcdefgh") {
			t.Errorf("%s: %v", tc.name, e)
		}
		if code, reason := c.closed(); code != tc.close || reason != tc.reason {
			t.Errorf("%s: closed %d %q", tc.name, code, reason)
		}
	}
	// The browser form with the right key works; the key entry is never echoed.
	c := rtDialOpts(t, srv, "/v1/realtime?model=gpt-realtime", &websocket.DialOptions{
		Subprotocols: []string{"realtime", "openai-insecure-api-key." + rtKey}})
	c.expect("session.created")
	if c.conn.Subprotocol() != "realtime" {
		t.Errorf("subprotocol %q", c.conn.Subprotocol())
	}
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	settled(t, p)
	st := p.Stats()
	if st.ByKey[rtKey] != 1 || st.ByKey["rly_token_abcdefgh"] != 2 || st.ByStatus["101"] != 4 {
		t.Errorf("by key %v, by status %v", st.ByKey, st.ByStatus)
	}
}

func TestRealtimeModelAndBetaRefusedAfterUpgrade(t *testing.T) {
	_, srv := rtServer(t, Options{})
	for _, tc := range []struct {
		path, beta, code string
	}{
		{"/v1/realtime", "", "missing_model"},
		{"/v1/realtime?model=gpt-4o", "", "invalid_model"},
		{"/v1/realtime?model=claude-sonnet-4-5", "", "invalid_model"},
		{"/v1/realtime?model=gpt-realtime", "realtime=v1", "beta_api_shape_disabled"},
	} {
		c := rtDial(t, srv, tc.path, "OpenAI-Beta", tc.beta)
		e := c.expect("error")
		if at(t, e, "error", "code") != tc.code {
			t.Errorf("%s: %v", tc.path, e)
		}
		if code, reason := c.closed(); code != 4000 || reason != "invalid_request_error."+tc.code {
			t.Errorf("%s: closed %d %q", tc.path, code, reason)
		}
	}
	// A model name the mock does not know is served, as everywhere.
	rtDial(t, srv, "/v1/realtime?model=m").expect("session.created")
}

func TestRealtimeHandshakeControls(t *testing.T) {
	p, srv := rtServer(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		header, value string
		status        int
	}{
		{"x-mock-status", "503", 503},
		{"x-mock-status", "401", 401},
		{"x-mock-realtime-close-after", "0", 400},
		{"x-mock-realtime-usage-scale", "x", 400},
	} {
		_, resp, err := websocket.Dial(ctx, wsURL(srv, "/v1/realtime?model=gpt-realtime"), &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + rtKey}, tc.header: {tc.value}}})
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s %s: %v %v", tc.header, tc.value, err, resp)
		}
	}
	// A plain GET is not an upgrade.
	resp, err := http.Get(srv.URL + "/v1/realtime?model=gpt-realtime")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %d", resp.StatusCode)
	}
	if st := p.Stats(); st.ByStatus["503"] != 1 || st.ByStatus["400"] != 2 || st.ByStatus["426"] != 1 {
		t.Errorf("statuses %v", st.ByStatus)
	}
}

func TestRealtimeCloseAfter(t *testing.T) {
	p, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-realtime-close-after", "3")
	c.expect("session.created")
	textSession(c)
	c.send(userText("hi"))
	c.expect("conversation.item.added")
	if code, reason := c.closed(); code != websocket.StatusInternalError || !strings.Contains(reason, "3 server events") {
		t.Errorf("closed %d %q", code, reason)
	}
	if len(c.seen) != 3 {
		t.Errorf("%d events, want 3", len(c.seen))
	}
	settled(t, p)
	if st := p.Stats(); st.Disconnected != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRealtimeDisconnectAfterDropsTheConnection(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-disconnect-after", "2")
	c.expect("session.created")
	textSession(c)
	c.send(userText("one two three four"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	if code, _ := c.closed(); code != -1 {
		t.Errorf("close code %d, want none (dropped)", code)
	}
	if got := types(c.seen); strings.Count(strings.Join(got, ","), "response.output_text.delta") != 2 {
		t.Errorf("events %v", got)
	}
}

func TestRealtimeMaxSession(t *testing.T) {
	_, srv := rtServer(t, Options{RealtimeMaxSession: 150 * time.Millisecond})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	created := c.expect("session.created")
	if num(t, created, "session", "expires_at") < int(time.Now().Unix()-1) {
		t.Errorf("expires_at %v", created)
	}
	e := c.expect("error")
	if str(t, e, "error", "code") != "session_expired" || str(t, e, "error", "message") != "Your session hit the maximum duration of 150ms." {
		t.Errorf("expiry %v", e)
	}
	if code, reason := c.closed(); code != 4000 || reason != "invalid_request_error.session_expired" {
		t.Errorf("closed %d %q", code, reason)
	}
}

func TestRealtimeMessageTooBig(t *testing.T) {
	_, srv := rtServer(t, Options{RealtimeMaxMessageBytes: 1024})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(make([]byte, 1024))})
	if code, _ := c.closed(); code != websocket.StatusMessageTooBig {
		t.Errorf("close %d, want 1009", code)
	}
}

func TestRealtimeCancelAndOneActiveResponse(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-stream-forever", "1", "x-mock-chunk-delay-ms", "5")
	c.expect("session.created")
	textSession(c)
	c.send(userText("count"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	created := c.expect("response.created")
	c.until("response.output_text.delta")
	c.send(map[string]any{"type": "response.create", "event_id": "second"})
	for {
		m := c.next()
		if m["type"] == "error" {
			if str(t, m, "error", "code") != "conversation_already_has_active_response" || str(t, m, "error", "event_id") != "second" ||
				!strings.Contains(str(t, m, "error", "message"), str(t, created, "response", "id")) {
				t.Errorf("second response: %v", m)
			}
			break
		}
	}
	c.send(map[string]any{"type": "response.cancel"})
	evs := c.until("response.done")
	resp := at(t, evs[len(evs)-1], "response")
	if str(t, resp, "status") != "cancelled" || str(t, resp, "status_details", "reason") != "client_cancelled" ||
		str(t, resp, "output", 0, "status") != "incomplete" {
		t.Errorf("cancelled response %v", resp)
	}
	var text strings.Builder
	deltas := 0
	for _, e := range c.seen {
		if e["type"] == "response.output_text.delta" {
			text.WriteString(str(t, e, "delta"))
			deltas++
		}
	}
	if got := str(t, resp, "output", 0, "content", 0, "text"); got != text.String() || num(t, resp, "usage", "output_tokens") != deltas {
		t.Errorf("output %q after %d deltas %q: %v", got, deltas, text.String(), resp)
	}
	c.expect("rate_limits.updated")
	c.send(map[string]any{"type": "response.cancel"})
	if e := c.expect("error"); str(t, e, "error", "code") != "response_cancel_not_active" {
		t.Errorf("second cancel %v", e)
	}
}

func TestRealtimeMaxOutputTokensAndOutOfBand(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	textSession(c)
	c.send(userText("a long question with many words"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create", "response": map[string]any{"max_output_tokens": 2, "metadata": map[string]any{"k": "v"}}})
	evs := c.until("response.done")
	resp := at(t, evs[len(evs)-1], "response")
	if str(t, resp, "status") != "incomplete" || str(t, resp, "status_details", "reason") != "max_output_tokens" ||
		num(t, resp, "usage", "output_tokens") != 2 || num(t, resp, "max_output_tokens") != 2 || str(t, resp, "metadata", "k") != "v" {
		t.Errorf("capped %v", resp)
	}
	c.expect("rate_limits.updated")
	// Out of band: no conversation item, no conversation_id, own input.
	c.send(map[string]any{"type": "response.create", "response": map[string]any{
		"conversation": "none", "instructions": "",
		"input": []any{map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "classify this"}}}}}})
	evs = c.until("response.done")
	for _, e := range evs {
		if strings.HasPrefix(e["type"].(string), "conversation.") {
			t.Errorf("out-of-band response touched the conversation: %v", e)
		}
	}
	resp = at(t, evs[len(evs)-1], "response")
	if resp.(map[string]any)["conversation_id"] != nil || str(t, resp, "output", 0, "content", 0, "text") != ExpectedCompletion("classify this", 0, 0) ||
		num(t, resp, "usage", "input_tokens") != PromptTokens("classify this") {
		t.Errorf("out of band %v", resp)
	}
}

func TestRealtimeCachedTokensAndUsageScale(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-realtime-usage-scale", "10")
	c.expect("session.created")
	textSession(c)
	long := strings.Repeat("word ", 1000) // 5,000 runes: 1,250 tokens
	c.send(userText(long))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	c.until("rate_limits.updated")
	c.send(userText("next"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	u := at(t, evs[len(evs)-1], "response", "usage")
	instr := PromptTokens(RealtimeDefaultInstructions)
	tokens, _ := CompletionTokens(long, 0, 0)
	prev := instr + PromptTokens(long) + len(tokens)
	in := prev + PromptTokens("next")
	cached := prev / 128 * 128
	if num(t, u, "input_tokens") != 10*in || num(t, u, "input_token_details", "cached_tokens") != 10*cached ||
		num(t, u, "input_token_details", "cached_tokens_details", "text_tokens") != 10*cached {
		t.Errorf("usage %v, want input %d cached %d (×10)", u, in, cached)
	}
}

func TestRealtimeItemsRetrieveDeleteTruncate(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunks", "4")
	c.expect("session.created")
	c.send(map[string]any{"type": "conversation.item.create", "item": map[string]any{"id": "item_sys", "type": "message", "role": "system",
		"content": []any{map[string]any{"type": "input_text", "text": "system note"}}}})
	if e := c.expect("conversation.item.added"); str(t, e, "item", "id") != "item_sys" || str(t, e, "item", "object") != "realtime.item" {
		t.Errorf("added %v", e)
	}
	c.expect("conversation.item.done")
	c.send(map[string]any{"type": "conversation.item.create", "previous_item_id": "root", "item": map[string]any{"type": "message", "role": "user",
		"content": []any{map[string]any{"type": "input_audio", "audio": base64.StdEncoding.EncodeToString(make([]byte, 4800)), "transcript": "hello"}}}})
	if e := c.expect("conversation.item.added"); e["previous_item_id"] != nil || at(t, e, "item", "content", 0).(map[string]any)["audio"] != nil {
		t.Errorf("root insert %v", e)
	}
	c.expect("conversation.item.done")
	c.send(map[string]any{"type": "conversation.item.retrieve", "item_id": "item_sys"})
	if e := c.expect("conversation.item.retrieved"); str(t, e, "item", "content", 0, "text") != "system note" {
		t.Errorf("retrieved %v", e)
	}
	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	resp := at(t, evs[len(evs)-1], "response")
	assistant := str(t, resp, "output", 0, "id")
	// The transcript of the user audio is what the mock answers.
	if got := str(t, resp, "output", 0, "content", 0, "transcript"); got != ExpectedCompletion("hello", 4, 0) {
		t.Errorf("answer %q", got)
	}
	c.expect("rate_limits.updated")
	c.send(map[string]any{"type": "conversation.item.truncate", "item_id": assistant, "content_index": 0, "audio_end_ms": 100})
	if e := c.expect("conversation.item.truncated"); num(t, e, "audio_end_ms") != 100 || str(t, e, "item_id") != assistant {
		t.Errorf("truncated %v", e)
	}
	c.send(map[string]any{"type": "conversation.item.delete", "item_id": "item_sys"})
	c.expect("conversation.item.deleted")
	c.send(map[string]any{"type": "response.create", "response": map[string]any{"output_modalities": []string{"text"}}})
	evs = c.until("response.done")
	// Left: the user audio (1 token; its transcript is not input) and the
	// assistant audio cut to 100 ms (2 tokens).
	u := at(t, evs[len(evs)-1], "response", "usage")
	if num(t, u, "input_token_details", "audio_tokens") != 1+2 ||
		num(t, u, "input_token_details", "text_tokens") != PromptTokens(RealtimeDefaultInstructions) {
		t.Errorf("usage after truncate/delete %v", u)
	}
}

func TestRealtimeChunkDelayAndStall(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunk-delay-ms", "30", "x-mock-chunks", "3")
	c.expect("session.created")
	textSession(c)
	c.send(userText("x"))
	c.until("conversation.item.done")
	start := time.Now()
	c.send(map[string]any{"type": "response.create"})
	c.until("response.done")
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("3 deltas 30 ms apart took %v", d)
	}

	s := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-stall-after", "1")
	s.expect("session.created")
	textSession(s)
	s.send(userText("x y z"))
	s.until("conversation.item.done")
	s.send(map[string]any{"type": "response.create"})
	s.until("response.output_text.delta")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, b, err := s.conn.Read(ctx); err == nil {
		t.Errorf("stalled session sent %s", b)
	}
}

func TestRealtimePingsAndCloseRealtime(t *testing.T) {
	p, srv := rtServer(t, Options{RealtimePingInterval: 10 * time.Millisecond})
	var pings atomic.Int32
	c := rtDialOpts(t, srv, "/v1/realtime?model=gpt-realtime", &websocket.DialOptions{
		HTTPHeader:     http.Header{"Authorization": {"Bearer " + rtKey}},
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
	})
	c.expect("session.created")
	go func() {
		time.Sleep(100 * time.Millisecond)
		p.CloseRealtime()
	}()
	if code, _ := c.closed(); code != websocket.StatusGoingAway {
		t.Errorf("close %d, want 1001", code)
	}
	if pings.Load() < 2 {
		t.Errorf("%d pings in 100 ms at a 10 ms interval", pings.Load())
	}
}

func TestRealtimeAzure(t *testing.T) {
	p, srv := rtServer(t, Options{})
	ctx := context.Background()
	_, resp, err := websocket.Dial(ctx, wsURL(srv, "/openai/v1/realtime?model=my-realtime"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no key: %v %v", err, resp)
	}
	c := rtDialOpts(t, srv, "/openai/v1/realtime?model=my-realtime", &websocket.DialOptions{HTTPHeader: http.Header{"Api-Key": {"azure-key"}}})
	if e := c.expect("session.created"); str(t, e, "session", "model") != "my-realtime" {
		t.Errorf("azure session %v", e)
	}
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	settled(t, p)
	if st := p.Stats(); st.ByKey["azure-key"] != 1 || st.ByPath["/openai/v1/realtime"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestRealtimeEventsMatchSDKTypes checks every event the mock sends against
// the TypeScript types openai-node generates from the OpenAPI spec: its
// type is one the SDK declares and it has every required member.
func TestRealtimeEventsMatchSDKTypes(t *testing.T) {
	src, err := os.ReadFile("../../../e2e/browser/node_modules/openai/resources/realtime/realtime.d.ts")
	if err != nil {
		t.Skipf("openai SDK types not installed: %v", err)
	}
	required := sdkEventFields(string(src))
	if len(required) < 40 {
		t.Fatalf("parsed only %d event types from realtime.d.ts", len(required))
	}
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunks", "2")
	c.expect("session.created")
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(make([]byte, 4800))})
	c.send(map[string]any{"type": "input_audio_buffer.commit"})
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	c.until("rate_limits.updated")
	textSession(c)
	c.send(userText("hi"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	done := c.until("response.done")
	c.expect("rate_limits.updated")
	c.send(map[string]any{"type": "conversation.item.retrieve", "item_id": str(t, done[len(done)-1], "response", "output", 0, "id")})
	c.expect("conversation.item.retrieved")
	c.send(map[string]any{"type": "input_audio_buffer.clear"})
	c.expect("input_audio_buffer.cleared")
	vadSession(c, map[string]any{"create_response": false})
	c.appendAudio(append(pcmSpeech(100), pcmSilence(500)...))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "nope"})
	c.expect("error")
	seen := map[string]bool{}
	for _, e := range c.seen {
		typ := e["type"].(string)
		seen[typ] = true
		fields, ok := required[typ]
		if !ok {
			t.Errorf("the SDK declares no server event %q", typ)
			continue
		}
		for _, f := range fields {
			if _, ok := e[f]; !ok {
				t.Errorf("%s lacks required %q: %v", typ, f, e)
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d event types exercised: %v", len(seen), seen)
	}
}

// sdkEventFields maps each event type declared in realtime.d.ts (an
// interface with `type: 'x.y'`) to its required (non-optional) members.
func sdkEventFields(src string) map[string][]string {
	out := map[string][]string{}
	iface := regexp.MustCompile(`(?s)interface \w+ \{\n(.*?)\n *\}`)
	member := regexp.MustCompile(`(?m)^ +(\w+): `)
	typ := regexp.MustCompile(`(?m)^ +type: '([a-z_.]+)';`)
	for _, m := range iface.FindAllStringSubmatch(src, -1) {
		body := m[1]
		t := typ.FindStringSubmatch(body)
		if t == nil {
			continue
		}
		var fields []string
		for _, f := range member.FindAllStringSubmatch(body, -1) {
			fields = append(fields, f[1])
		}
		out[t[1]] = fields
	}
	return out
}

func TestRealtimeOutOfBandQueuesAndOmitUsage(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunk-delay-ms", "10", "x-mock-omit-usage", "1")
	c.expect("session.created")
	textSession(c)
	c.send(userText("first"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	first := str(t, c.expect("response.created"), "response", "id")
	// Out of band it does not conflict with the conversation's response.
	c.send(map[string]any{"type": "response.create", "response": map[string]any{"conversation": "none", "metadata": map[string]any{"job": "side"}}})
	var done []map[string]any
	for len(done) < 2 {
		m := c.next()
		switch m["type"] {
		case "error":
			t.Fatalf("out-of-band response refused: %v", m)
		case "response.done":
			done = append(done, m)
		}
	}
	if str(t, done[0], "response", "id") != first || str(t, done[1], "response", "metadata", "job") != "side" {
		t.Errorf("responses %v", done)
	}
	for _, d := range done {
		if at(t, d, "response", "usage") != nil {
			t.Errorf("x-mock-omit-usage: %v", d)
		}
	}
}

// vadSession turns turn detection on with td (its members over
// {"type":"server_vad"}) and returns the echoed turn_detection.
func vadSession(c *rtClient, td map[string]any, session ...any) map[string]any {
	c.t.Helper()
	det := map[string]any{"type": "server_vad"}
	for k, v := range td {
		det[k] = v
	}
	s := map[string]any{"type": "realtime", "audio": map[string]any{"input": map[string]any{"turn_detection": det}}}
	for i := 0; i+1 < len(session); i += 2 {
		s[session[i].(string)] = session[i+1]
	}
	c.send(map[string]any{"type": "session.update", "session": s})
	return at(c.t, c.expect("session.updated"), "session", "audio", "input", "turn_detection").(map[string]any)
}

// appendAudio sends b as one input_audio_buffer.append.
func (c *rtClient) appendAudio(b []byte) {
	c.t.Helper()
	c.send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(b)})
}

// pcmSpeech and pcmSilence are ms of 24 kHz 16-bit audio: non-zero samples,
// or zeros.
func pcmSpeech(ms int) []byte  { return bytes.Repeat([]byte{0x10, 0x02}, 24*ms) }
func pcmSilence(ms int) []byte { return make([]byte, 48*ms) }

func TestRealtimeServerVADTurnAndAutoResponse(t *testing.T) {
	p, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-chunks", "3")
	if td := at(t, c.expect("session.created"), "session", "audio", "input").(map[string]any); td["turn_detection"] != nil {
		t.Fatalf("session.created turn_detection %v, want null", td["turn_detection"])
	}
	td := vadSession(c, nil)
	if td["type"] != "server_vad" || num(t, td, "silence_duration_ms") != 500 || num(t, td, "prefix_padding_ms") != 300 ||
		td["threshold"] != 0.5 || td["idle_timeout_ms"] != nil || td["create_response"] != true || td["interrupt_response"] != true {
		t.Errorf("echoed turn_detection %v", td)
	}
	// 500 ms of silence, 300 ms of speech cut across frames and appends,
	// then 600 ms of silence: the turn ends 500 ms after the speech (at
	// 1,300 ms), the last 100 ms start the next buffer.
	c.appendAudio(pcmSilence(500))
	speech := pcmSpeech(300)
	c.appendAudio(speech[:7001])
	c.appendAudio(speech[7001:])
	c.appendAudio(pcmSilence(600))
	started := c.expect("input_audio_buffer.speech_started")
	item := str(t, started, "item_id")
	if num(t, started, "audio_start_ms") != 500-300 || !strings.HasPrefix(item, "item_") {
		t.Errorf("speech_started %v (want audio_start_ms 200: speech at 500 ms minus 300 ms of padding)", started)
	}
	if e := c.expect("input_audio_buffer.speech_stopped"); num(t, e, "audio_end_ms") != 1300 || str(t, e, "item_id") != item {
		t.Errorf("speech_stopped %v (want audio_end_ms 1300, item %s)", e, item)
	}
	if e := c.expect("input_audio_buffer.committed"); str(t, e, "item_id") != item || e["previous_item_id"] != nil {
		t.Errorf("committed %v", e)
	}
	if e := c.expect("conversation.item.added"); str(t, e, "item", "id") != item || str(t, e, "item", "content", 0, "type") != "input_audio" {
		t.Errorf("added %v", e)
	}
	c.expect("conversation.item.done")
	evs := c.until("response.done")
	if types(evs)[0] != "response.created" {
		t.Errorf("auto response starts with %v", evs[0])
	}
	resp := at(t, evs[len(evs)-1], "response")
	want := ExpectedCompletion("", 3, 0)
	instr := PromptTokens(RealtimeDefaultInstructions)
	u := at(t, resp, "usage")
	if str(t, resp, "status") != "completed" || str(t, resp, "output", 0, "content", 0, "transcript") != want ||
		at(t, resp, "metadata") != nil || !strings.HasPrefix(str(t, resp, "conversation_id"), "conv_") {
		t.Errorf("auto response %v", resp)
	}
	// 1,300 ms of buffer: 13 audio tokens.
	if num(t, u, "input_token_details", "audio_tokens") != 13 || num(t, u, "input_token_details", "text_tokens") != instr ||
		num(t, u, "input_tokens") != 13+instr || num(t, u, "output_tokens") != 3+3*RealtimeAudioTokensPerWord {
		t.Errorf("usage %v", u)
	}
	c.expect("rate_limits.updated")
	if r := lastRequest(t, p); r.ProducedPromptTokens != 13+instr || r.ProducedCompletionTokens != 3+3*RealtimeAudioTokensPerWord {
		t.Errorf("produced %d/%d", r.ProducedPromptTokens, r.ProducedCompletionTokens)
	}

	// A client commit still works: the 100 ms left over.
	c.send(map[string]any{"type": "input_audio_buffer.commit"})
	committed := c.expect("input_audio_buffer.committed")
	c.until("conversation.item.done")
	// The session cap applies to the auto response (one audio word costs 3).
	vadSession(c, nil, "max_output_tokens", 3)
	c.appendAudio(append(pcmSpeech(100), pcmSilence(500)...))
	c.expect("input_audio_buffer.speech_started")
	c.expect("input_audio_buffer.speech_stopped")
	if e := c.expect("input_audio_buffer.committed"); e["previous_item_id"] != committed["item_id"] {
		t.Errorf("second turn %v after %v", e, committed)
	}
	evs = c.until("response.done")
	resp = at(t, evs[len(evs)-1], "response")
	if str(t, resp, "status") != "incomplete" || str(t, resp, "status_details", "reason") != "max_output_tokens" ||
		num(t, resp, "usage", "output_tokens") != 3 {
		t.Errorf("capped auto response %v", resp)
	}
}

func TestRealtimeVADCreateResponseFalse(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	// semantic_vad alike; silence_duration_ms is server_vad's only: 500 ms.
	td := vadSession(c, map[string]any{"type": "semantic_vad", "create_response": false, "silence_duration_ms": 100})
	if td["type"] != "semantic_vad" || td["eagerness"] != "auto" || td["create_response"] != false {
		t.Errorf("echoed %v", td)
	}
	c.appendAudio(append(pcmSpeech(200), pcmSilence(400)...))
	c.expect("input_audio_buffer.speech_started")
	c.appendAudio(pcmSilence(100))
	if e := c.expect("input_audio_buffer.speech_stopped"); num(t, e, "audio_end_ms") != 700 {
		t.Errorf("stopped %v", e)
	}
	c.expect("input_audio_buffer.committed")
	c.expect("conversation.item.added")
	c.expect("conversation.item.done")
	// No response: the next event answers the next client event.
	c.send(map[string]any{"type": "input_audio_buffer.clear"})
	c.expect("input_audio_buffer.cleared")
	c.send(map[string]any{"type": "response.create"})
	evs := c.until("response.done")
	if got := num(t, evs[len(evs)-1], "response", "usage", "input_token_details", "audio_tokens"); got != 7 {
		t.Errorf("client response reads %d audio tokens, want 7", got)
	}
}

func TestRealtimeVADInterruptsResponse(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-stream-forever", "1", "x-mock-chunk-delay-ms", "5")
	c.expect("session.created")
	textSession(c)
	vadSession(c, nil)
	c.send(userText("count"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	first := str(t, c.expect("response.created"), "response", "id")
	c.until("response.output_text.delta")
	c.appendAudio(pcmSpeech(100))
	started := c.until("input_audio_buffer.speech_started")
	// The response ends at once, before any other event.
	evs := c.until("response.done")
	if got, want := strings.Join(types(evs), ","), "response.output_text.done,response.content_part.done,conversation.item.done,response.output_item.done,response.done"; got != want {
		t.Errorf("after speech_started\n got %s\nwant %s", got, want)
	}
	resp := at(t, evs[len(evs)-1], "response")
	if str(t, resp, "id") != first || str(t, resp, "status") != "cancelled" || str(t, resp, "status_details", "type") != "cancelled" ||
		str(t, resp, "status_details", "reason") != "turn_detected" || str(t, resp, "output", 0, "status") != "incomplete" {
		t.Errorf("interrupted response %v", resp)
	}
	deltas := 0
	for _, e := range c.seen {
		if e["type"] == "response.output_text.delta" {
			deltas++
		}
	}
	if num(t, resp, "usage", "output_tokens") != deltas {
		t.Errorf("usage %v after %d deltas", at(t, resp, "usage"), deltas)
	}
	c.expect("rate_limits.updated")
	// The turn goes on; it is answered by a new response.
	c.appendAudio(pcmSilence(500))
	c.expect("input_audio_buffer.speech_stopped")
	if e := c.expect("input_audio_buffer.committed"); e["item_id"] != started[len(started)-1]["item_id"] {
		t.Errorf("committed %v, speech_started %v", e, started[len(started)-1])
	}
	c.expect("conversation.item.added")
	c.expect("conversation.item.done")
	second := str(t, c.expect("response.created"), "response", "id")
	if second == first {
		t.Errorf("no new response")
	}
	c.until("response.output_text.delta")
	c.send(map[string]any{"type": "response.cancel"})
	evs = c.until("response.done")
	if resp := at(t, evs[len(evs)-1], "response"); str(t, resp, "id") != second || str(t, resp, "status_details", "reason") != "client_cancelled" {
		t.Errorf("client cancel %v", resp)
	}
}

func TestRealtimeVADNoInterruptKeepsOneActiveResponse(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime", "x-mock-stream-forever", "1", "x-mock-chunk-delay-ms", "5")
	c.expect("session.created")
	textSession(c)
	vadSession(c, map[string]any{"interrupt_response": false, "silence_duration_ms": 200})
	c.send(userText("count"))
	c.until("conversation.item.done")
	c.send(map[string]any{"type": "response.create"})
	first := str(t, c.expect("response.created"), "response", "id")
	c.appendAudio(append(pcmSpeech(100), pcmSilence(200)...))
	var kinds []string
	for {
		m := c.next()
		if m["type"] == "input_audio_buffer.speech_started" || len(kinds) > 0 {
			kinds = append(kinds, m["type"].(string))
		}
		if m["type"] == "error" {
			if str(t, m, "error", "code") != "conversation_already_has_active_response" || m["error"].(map[string]any)["event_id"] != nil ||
				!strings.Contains(str(t, m, "error", "message"), first) {
				t.Errorf("auto response %v", m)
			}
			break
		}
	}
	// Deltas of the active response may come between the turn's events.
	kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == "response.output_text.delta" })
	if got := strings.Join(kinds, ","); got != "input_audio_buffer.speech_started,input_audio_buffer.speech_stopped,input_audio_buffer.committed,conversation.item.added,conversation.item.done,error" {
		t.Errorf("events %s", got)
	}
	c.send(map[string]any{"type": "response.cancel"})
	evs := c.until("response.done")
	if resp := at(t, evs[len(evs)-1], "response"); str(t, resp, "id") != first || str(t, resp, "status_details", "reason") != "client_cancelled" {
		t.Errorf("first response %v", resp)
	}
}

func TestRealtimeVADSilenceNeverTriggers(t *testing.T) {
	_, srv := rtServer(t, Options{})
	for _, tc := range []struct {
		format          string
		silence, speech []byte // one sample each
	}{
		{"audio/pcm", []byte{0, 0}, []byte{0, 1}},
		{"audio/pcmu", []byte{0xFF, 0x7F}, []byte{0x00}},
		{"audio/pcma", []byte{0xD5, 0x55}, []byte{0x2A}},
	} {
		c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
		c.expect("session.created")
		vadSession(c, nil, "audio", map[string]any{"input": map[string]any{
			"format": map[string]any{"type": tc.format}, "turn_detection": map[string]any{"type": "server_vad"}}})
		quiet := bytes.Repeat(tc.silence, 24000) // 1 s of PCM, 6 s of G.711
		for range 3 {
			c.appendAudio(quiet)
		}
		quietMs := 3 * 1000
		if tc.format != "audio/pcm" {
			quietMs = 3 * 6000
		}
		c.send(map[string]any{"type": "conversation.item.retrieve", "item_id": "none"})
		if e := c.expect("error"); str(t, e, "error", "code") != "invalid_value" {
			t.Errorf("%s: silence sent %v", tc.format, e)
		}
		// One non-silent sample in a frame is speech.
		frame := bytes.Repeat(tc.silence[:1], 4800)
		if tc.format != "audio/pcm" {
			frame = frame[:800]
		}
		frame = append(append([]byte{}, frame[:len(frame)-len(tc.speech)]...), tc.speech...)
		c.appendAudio(frame)
		if e := c.expect("input_audio_buffer.speech_started"); num(t, e, "audio_start_ms") != quietMs-300 {
			t.Errorf("%s: %v, want audio_start_ms %d", tc.format, e, quietMs-300)
		}
		c.send(map[string]any{"type": "input_audio_buffer.clear"})
		c.expect("input_audio_buffer.cleared")
		// The cleared turn never stops.
		c.appendAudio(quiet)
		c.send(map[string]any{"type": "input_audio_buffer.clear"})
		c.expect("input_audio_buffer.cleared")
	}
}

func TestRealtimeVADBadTurnDetection(t *testing.T) {
	_, srv := rtServer(t, Options{})
	c := rtDial(t, srv, "/v1/realtime?model=gpt-realtime")
	c.expect("session.created")
	const p = "session.audio.input.turn_detection"
	for _, tc := range []struct {
		td    any
		code  string
		param string
	}{
		{"server_vad", "invalid_type", p},
		{map[string]any{"silence_duration_ms": 500}, "missing_required_parameter", p + ".type"},
		{map[string]any{"type": "client_vad"}, "invalid_value", p + ".type"},
		{map[string]any{"type": "server_vad", "silence_duration_ms": "500"}, "invalid_type", p + ".silence_duration_ms"},
		{map[string]any{"type": "server_vad", "silence_duration_ms": 1.5}, "invalid_type", p + ".silence_duration_ms"},
		{map[string]any{"type": "server_vad", "prefix_padding_ms": -1}, "integer_below_min_value", p + ".prefix_padding_ms"},
		{map[string]any{"type": "server_vad", "create_response": "yes"}, "invalid_type", p + ".create_response"},
		{map[string]any{"type": "server_vad", "interrupt_response": nil}, "invalid_type", p + ".interrupt_response"},
		{map[string]any{"type": "server_vad", "threshold": 2}, "decimal_above_max_value", p + ".threshold"},
		{map[string]any{"type": "server_vad", "idle_timeout_ms": "x"}, "invalid_type", p + ".idle_timeout_ms"},
		{map[string]any{"type": "semantic_vad", "eagerness": "eager"}, "invalid_value", p + ".eagerness"},
		{map[string]any{"type": "server_vad", "min_silence_ms": 1}, "unknown_parameter", p + ".min_silence_ms"},
	} {
		c.send(map[string]any{"type": "session.update", "event_id": "ev_td", "session": map[string]any{"type": "realtime",
			"audio": map[string]any{"input": map[string]any{"turn_detection": tc.td}}}})
		e := c.expect("error")
		if str(t, e, "error", "code") != tc.code || str(t, e, "error", "param") != tc.param || str(t, e, "error", "event_id") != "ev_td" ||
			str(t, e, "error", "type") != "invalid_request_error" {
			t.Errorf("%v: %v", tc.td, e)
		}
	}
	// Nothing changed: turn detection is still off, speech stays in the buffer.
	c.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime"}})
	if td := at(t, c.expect("session.updated"), "session", "audio", "input").(map[string]any)["turn_detection"]; td != nil {
		t.Errorf("turn_detection %v after refused updates", td)
	}
	c.appendAudio(append(pcmSpeech(100), pcmSilence(600)...))
	c.send(map[string]any{"type": "input_audio_buffer.commit"})
	c.expect("input_audio_buffer.committed")
	c.until("conversation.item.done")
	// null turns it off again; idle_timeout_ms may be null.
	vadSession(c, map[string]any{"idle_timeout_ms": nil})
	c.send(map[string]any{"type": "session.update", "session": map[string]any{"type": "realtime",
		"audio": map[string]any{"input": map[string]any{"turn_detection": nil}}}})
	if td := at(t, c.expect("session.updated"), "session", "audio", "input").(map[string]any)["turn_detection"]; td != nil {
		t.Errorf("turn_detection %v, want null", td)
	}
}
