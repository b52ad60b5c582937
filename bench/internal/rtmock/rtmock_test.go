package rtmock

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"realtime"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "realtime" {
		t.Errorf("subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readEvent(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v", typ)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return ev
}

func TestSessionAnswersPings(t *testing.T) {
	srv := httptest.NewServer(&Handler{})
	defer srv.Close()
	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http")+Path+"?model=gpt-realtime")
	if ev := readEvent(t, c); ev["type"] != "session.created" {
		t.Fatalf("first event %v", ev)
	}
	ctx := context.Background()
	send := func(s string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// Ignored: another type, binary data, a message larger than the scan.
	send(`{"type":"input_audio_buffer.append","event_id":"a1","audio":"` + strings.Repeat("A", 3*peekBytes) + `"}`)
	if err := c.Write(ctx, websocket.MessageBinary, []byte(`{"type":"bench.ping","event_id":"bin"}`)); err != nil {
		t.Fatal(err)
	}
	send(`{"type":"bench.ping","event_id":"p1"}`)
	send(`{ "event_id" : "p2", "type" : "response.create", "response": {} }`)
	send(`{"type":"bench.ping"}`)
	send(`{"type":"bench.ping","event_id":"long-` + strings.Repeat("x", 200) + `"}`)
	for _, want := range []string{"p1", "p2", "evt_bench_noid", "long-" + strings.Repeat("x", 200)} {
		ev := readEvent(t, c)
		if ev["type"] != ReplyType || ev["event_id"] != want || ev["delta"] == "" {
			t.Errorf("answer %v, want event_id %q", ev, want)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestMissingModel(t *testing.T) {
	srv := httptest.NewServer(&Handler{})
	defer srv.Close()
	resp, err := http.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestStringField(t *testing.T) {
	for _, tc := range []struct{ in, key, want string }{
		{`{"type":"a","event_id":"b"}`, "event_id", "b"},
		{`{"type" : "a"}`, "type", "a"},
		{`{"x":{"type":1},"type":"t"}`, "type", "t"},
		{`{"type":"a\"b"}`, "type", ""},
		{`{"type":"cut`, "type", ""},
		{`{"other":"x"}`, "type", ""},
	} {
		if got := string(StringField([]byte(tc.in), tc.key)); got != tc.want {
			t.Errorf("StringField(%s, %s) = %q, want %q", tc.in, tc.key, got, tc.want)
		}
	}
}
