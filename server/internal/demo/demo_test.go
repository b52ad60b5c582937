package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// startDemo runs the demo on free ports and returns the page's origin and
// the relay's URL; it is stopped (and must stop cleanly) at the end of t.
func startDemo(t *testing.T) (page, relay string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type urls struct{ page, relay string }
	ready := make(chan urls, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- Run(ctx, Options{
			RelayListen: "127.0.0.1:0", PageListen: "127.0.0.1:0", Out: &out,
			Ready: func(p, r string) { ready <- urls{p, r} },
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the demo did not stop within 10 s")
		}
	})
	select {
	case u := <-ready:
		if !strings.Contains(out.String(), "Open    "+u.page) {
			t.Errorf("banner does not show the page URL:\n%s", out.String())
		}
		return strings.TrimSuffix(u.page, "/"), u.relay
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not start within 20 s")
	}
	return "", ""
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func session(t *testing.T, page, scenario string) Session {
	t.Helper()
	res, body := get(t, page+"/api/session?scenario="+scenario)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("session %s: %d %s", scenario, res.StatusCode, body)
	}
	var s Session
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), UpstreamKey) {
		t.Fatalf("the session answer shows the upstream key: %s", body)
	}
	return s
}

// chat sends what the openai package sends from the page: a streaming chat
// completion with the page's Origin.
func chat(t *testing.T, s Session, origin string) (*http.Response, string) {
	t.Helper()
	body := `{"model":"` + s.Model + `","stream":true,"messages":[{"role":"user","content":"one two three"}]}`
	req, err := http.NewRequest(http.MethodPost, s.BaseURL+"/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer relayapi")
	req.Header.Set("Origin", origin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(out)
}

func TestDemo(t *testing.T) {
	page, relay := startDemo(t)
	if page == relay {
		t.Fatalf("page and relay share the origin %s", page)
	}

	t.Run("page", func(t *testing.T) {
		res, body := get(t, page+"/")
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "RelayAPI playground") ||
			!strings.Contains(string(body), `"openai": "/openai-lite.js"`) {
			t.Fatalf("GET /: %d\n%s", res.StatusCode, body)
		}
		// The second mode: a realtime session over a WebSocket, with real
		// (keyboard-reachable) radio buttons and a hang-up button.
		for _, want := range []string{
			`<input id="mode-realtime" type="radio" name="mode" value="realtime"`, "Realtime (WebSocket)",
			`id="rt-form"`, `id="rt-hangup"`, `id="rt-status"`, `src="/realtime.js"`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		if _, js := get(t, page+"/realtime.js"); !strings.Contains(string(js), "conversation.item.create") ||
			!strings.Contains(string(js), "scenario=realtime") {
			t.Errorf("realtime.js does not open a realtime session:\n%s", js)
		}
		for _, name := range []string{"/app.js", "/realtime.js", "/openai-lite.js"} {
			res, _ := get(t, page+name)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
				t.Errorf("GET %s: %d %s", name, res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
		if res, _ := get(t, page+"/api/session?scenario=nope"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown scenario: %d, want 400", res.StatusCode)
		}
	})

	t.Run("ok streams through the relay", func(t *testing.T) {
		s := session(t, page, "ok")
		if !strings.HasPrefix(s.BaseURL, relay+"/t/") || !strings.HasSuffix(s.BaseURL, "/v1") || s.Model != Model {
			t.Fatalf("session: %+v (relay %s)", s, relay)
		}
		res, body := chat(t, s, page)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("chat: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != page {
			t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, page)
		}
		for _, want := range []string{`"content":"Hello"`, `"content":" three"`, "data: [DONE]"} {
			if !strings.Contains(body, want) {
				t.Errorf("stream lacks %s:\n%s", want, body)
			}
		}
	})

	errorCases := []struct{ scenario, code string }{
		{"model", "model_not_allowed"},
		{"exhausted", "call_limit_exceeded"},
		{"expired", "token_expired"},
		{"wrong-origin", "origin_not_allowed"},
	}
	for _, c := range errorCases {
		t.Run(c.scenario, func(t *testing.T) {
			res, body := chat(t, session(t, page, c.scenario), page)
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != c.code {
				t.Fatalf("%s: %d %s, want code %s", c.scenario, res.StatusCode, body, c.code)
			}
		})
	}

	t.Run("wrong-origin refusal is readable by the page", func(t *testing.T) {
		s := session(t, page, "wrong-origin")
		req, _ := http.NewRequest(http.MethodOptions, s.BaseURL+"/chat/completions", nil)
		req.Header.Set("Origin", page)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// The preflight lets the browser send the request, so the page
		// reads origin_not_allowed (the chat above got it) instead of a
		// network error; the request itself is refused before anything
		// is forwarded.
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != page {
			t.Fatalf("preflight for the wrong-origin token: Access-Control-Allow-Origin %q", got)
		}
		// The same preflight for a working token is allowed.
		req, _ = http.NewRequest(http.MethodOptions, session(t, page, "ok").BaseURL+"/chat/completions", nil)
		req.Header.Set("Origin", page)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != page {
			t.Fatalf("preflight for the page's own token: Access-Control-Allow-Origin %q", got)
		}
	})
}

// TestRealtimeToken decodes the realtime scenario's token: one WebSocket
// session with the realtime model, from the page's origin only.
func TestRealtimeToken(t *testing.T) {
	rf, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	mint, err := rf.MintKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeyring()
	if err := rf.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	s := &sessions{key: mint, relay: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8840}}
	req := httptest.NewRequest(http.MethodGet, "/api/session?scenario=realtime", nil)
	req.Host = "127.0.0.1:8841"
	rec := httptest.NewRecorder()
	s.serve(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("session: %d %s", rec.Code, rec.Body)
	}
	var answer Session
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.Scenario != "realtime" || answer.Model != RealtimeModel || answer.WaitMs != 0 {
		t.Fatalf("answer: %+v", answer)
	}
	tok, prefixed := strings.CutPrefix(answer.BaseURL, "http://127.0.0.1:8840/t/")
	tok, suffixed := strings.CutSuffix(tok, "/v1")
	if !prefixed || !suffixed {
		t.Fatalf("baseURL %s", answer.BaseURL)
	}
	c, err := token.Decode(tok, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Models, []string{RealtimeModel}) || !slices.Equal(c.Paths, []string{"/v1/realtime"}) ||
		!slices.Equal(c.Origins, []string{"http://127.0.0.1:8841"}) || c.APIKey != UpstreamKey ||
		c.Provider != Provider || c.Meta["scenario"] != "realtime" {
		t.Fatalf("claims: %+v", c)
	}
}

// TestDemoRealtime opens the session the page opens: a WebSocket to the
// relay with the page's Origin, a text turn, its usage, a hang-up.
func TestDemoRealtime(t *testing.T) {
	page, _ := startDemo(t)
	s := session(t, page, "realtime")
	url := "ws" + strings.TrimPrefix(s.BaseURL, "http") + "/realtime?model=" + s.Model
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Another site's page is refused at the handshake.
	_, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"realtime"},
		HTTPHeader:   http.Header{"Origin": {"https://another-site.example"}},
	})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("another origin: %v %v", res, err)
	}

	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"realtime"},
		HTTPHeader:   http.Header{"Origin": {page}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "realtime" {
		t.Errorf("subprotocol %q", conn.Subprotocol())
	}
	for _, ev := range []string{
		`{"type":"session.update","session":{"type":"realtime","output_modalities":["text"]}}`,
		`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"one two three"}]}}`,
		`{"type":"response.create"}`,
	} {
		if err := conn.Write(ctx, websocket.MessageText, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	var text strings.Builder
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Type     string `json:"type"`
			Delta    string `json:"delta"`
			Response struct {
				Status string `json:"status"`
				Usage  struct {
					OutputTokens int `json:"output_tokens"`
				} `json:"usage"`
			} `json:"response"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		switch ev.Type {
		case "error":
			t.Fatalf("error event: %s", data)
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		}
		if ev.Type == "response.done" {
			if ev.Response.Status != "completed" || ev.Response.Usage.OutputTokens != 6 {
				t.Errorf("response.done: %s", data)
			}
			break
		}
	}
	if got := text.String(); got != "Hello from mock: one two three" {
		t.Errorf("text %q", got)
	}
	if err := conn.Close(websocket.StatusNormalClosure, "hang up"); err != nil {
		t.Errorf("close: %v", err)
	}
}
