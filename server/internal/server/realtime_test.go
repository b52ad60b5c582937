package server_test

// Realtime sessions (issue 20): the handshake forms, every token check
// before the upgrade, one call and one concurrency slot held for the
// session, the relay's session limits and close codes, revocation of a
// live session, and both sides leaving.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// scriptedRealtime is a provider end of a Realtime session: it greets with
// session.created, answers response.create with a delta and a
// response.done carrying usage, echoes binary messages, and records what
// it received and how each session ended.
type scriptedRealtime struct {
	mu       sync.Mutex
	auth     []string
	events   []string
	sessions atomic.Int32
	open     atomic.Int32
	ended    chan websocket.StatusCode
}

func newScriptedRealtime() *scriptedRealtime {
	return &scriptedRealtime{ended: make(chan websocket.StatusCode, 16)}
}

func (u *scriptedRealtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/realtime" || r.URL.Query().Get("model") == "" {
		http.Error(w, `{"error":{"message":"not found"}}`, 404)
		return
	}
	u.mu.Lock()
	u.auth = append(u.auth, r.Header.Get("Authorization"))
	u.mu.Unlock()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"realtime"}})
	if err != nil {
		return
	}
	c.SetReadLimit(32 << 20)
	u.sessions.Add(1)
	u.open.Add(1)
	defer u.open.Add(-1)
	ctx := context.Background()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"session.created","event_id":"evt_1","session":{"type":"realtime","model":"`+r.URL.Query().Get("model")+`"}}`))
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			u.ended <- websocket.CloseStatus(err)
			return
		}
		if typ == websocket.MessageBinary {
			_ = c.Write(ctx, typ, data)
			continue
		}
		var ev struct{ Type string }
		_ = json.Unmarshal(data, &ev)
		u.mu.Lock()
		u.events = append(u.events, ev.Type)
		u.mu.Unlock()
		switch ev.Type {
		case "response.create":
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"response.output_text.delta","delta":"Hello"}`))
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"response.done","event_id":"evt_2","response":{"status":"completed","usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}}`))
		case "test.flood":
			chunk := make([]byte, 64<<10)
			for range 2000 { // 128 MiB: far more than the sockets buffer
				if c.Write(ctx, websocket.MessageBinary, chunk) != nil {
					u.ended <- websocket.StatusGoingAway
					return
				}
			}
		case "test.hangup":
			_ = c.Close(websocket.StatusInternalError, "provider hung up")
			u.ended <- websocket.StatusInternalError
			return
		}
	}
}

func (u *scriptedRealtime) seen() (auth, events []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.auth...), append([]string(nil), u.events...)
}

// rtURL is the session URL of the relay for tok (in the path, or none).
func rtURL(s *stack, tok, model string) string {
	base := strings.Replace(s.url, "http", "ws", 1)
	if tok != "" {
		base += "/t/" + tok
	}
	return base + "/v1/realtime?model=" + model
}

func dialRT(t *testing.T, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err == nil {
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// readEvent reads the next text event's type.
func readEvent(t *testing.T, c *websocket.Conn) (string, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading an event: %v", err)
	}
	var ev struct{ Type string }
	_ = json.Unmarshal(data, &ev)
	return ev.Type, data
}

// closedWith waits for the relay to close c and returns the code.
func closedWith(t *testing.T, c *websocket.Conn, within time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		t.Fatalf("the session did not close within %s: %v", within, err)
	}
}

func rtStack(t *testing.T, up http.Handler, mutate func(*config.Config)) *stack {
	return newStack(t, up, func(c *config.Config) {
		c.Realtime.RevocationCheck = config.Duration(100 * time.Millisecond)
		if mutate != nil {
			mutate(c)
		}
	})
}

func TestEveryHandshakeFormOpensASessionWithTheRealKeyOnly(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	tok := s.token(nil)
	for name, dial := range map[string]func() (*websocket.Conn, *http.Response, error){
		"path": func() (*websocket.Conn, *http.Response, error) {
			return dialRT(t, rtURL(s, tok, "gpt-realtime"), &websocket.DialOptions{Subprotocols: []string{"realtime"}})
		},
		"browser subprotocol": func() (*websocket.Conn, *http.Response, error) {
			return dialRT(t, rtURL(s, "", "gpt-realtime"), &websocket.DialOptions{
				Subprotocols: []string{"realtime", "openai-insecure-api-key." + tok},
			})
		},
		"authorization header": func() (*websocket.Conn, *http.Response, error) {
			return dialRT(t, rtURL(s, "", "gpt-realtime"), &websocket.DialOptions{
				HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}, Subprotocols: []string{"realtime"},
			})
		},
	} {
		c, resp, err := dial()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The relay accepts "realtime", never echoes the entry with the key.
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "realtime" {
			t.Fatalf("%s: subprotocol %q", name, got)
		}
		if typ, _ := readEvent(t, c); typ != "session.created" {
			t.Fatalf("%s: first event %q", name, typ)
		}
		_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"response.create"}`))
		if typ, _ := readEvent(t, c); typ != "response.output_text.delta" {
			t.Fatalf("%s: %q", name, typ)
		}
		if typ, _ := readEvent(t, c); typ != "response.done" {
			t.Fatalf("%s: %q", name, typ)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
	auth, _ := up.seen()
	for _, a := range auth {
		if a != "Bearer "+realKey {
			t.Fatalf("the provider got Authorization %q", a)
		}
	}
	if len(auth) != 3 {
		t.Fatalf("the provider saw %d sessions", len(auth))
	}
}

func TestHandshakeChecksRefuseBeforeAnythingReachesTheProvider(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, func(c *config.Config) { c.CORS.AllowedOrigins = []string{"https://app.example"} })
	st := func(f func(*token.Claims)) string { return s.token(f) }
	cases := []struct {
		name, url string
		header    http.Header
		status    int
		code      string
	}{
		{"no token", rtURL(s, "", "gpt-realtime"), nil, 401, "missing_token"},
		{"bad token", rtURL(s, "garbage", "gpt-realtime"), nil, 401, "invalid_token"},
		{"no model", strings.TrimSuffix(rtURL(s, st(nil), ""), "?model="), nil, 400, "bad_request"},
		{"call_id form", rtURL(s, st(nil), "gpt-realtime") + "&call_id=rtc_1", nil, 400, "bad_request"},
		{"model not allowed", rtURL(s, st(func(c *token.Claims) { c.Models = []string{"gpt-4o*"} }), "gpt-realtime"), nil, 403, "model_not_allowed"},
		{"foreign origin", rtURL(s, st(func(c *token.Claims) { c.Origins = []string{"https://good.example"} }), "gpt-realtime"),
			http.Header{"Origin": {"https://evil.example"}}, 403, "origin_not_allowed"},
		{"no origin on a browser token", rtURL(s, st(func(c *token.Claims) { c.Origins = []string{"https://good.example"} }), "gpt-realtime"),
			nil, 403, "origin_not_allowed"},
		{"origin outside cors.allowed_origins", rtURL(s, st(nil), "gpt-realtime"),
			http.Header{"Origin": {"https://evil.example"}}, 403, "origin_not_allowed"},
		{"paths without realtime", rtURL(s, st(func(c *token.Claims) { c.Paths = []string{"/v1/chat/completions"} }), "gpt-realtime"), nil, 403, "path_not_allowed"},
		{"beta protocol on a budget token", rtURL(s, st(func(c *token.Claims) { c.TokenBudget = 100000 }), "gpt-realtime"),
			http.Header{"Openai-Beta": {"realtime=v1"}}, 403, "endpoint_not_metered"},
		{"budget too small for a session", rtURL(s, st(func(c *token.Claims) { c.TokenBudget = 1000 }), "gpt-realtime"), nil, 429, "budget_exceeded"},
		{"other path", strings.Replace(rtURL(s, st(nil), "gpt-realtime"), "/v1/realtime", "/v1/chat/completions", 1), nil, 403, "path_not_allowed"},
	}
	for _, tc := range cases {
		_, resp, err := dialRT(t, tc.url, &websocket.DialOptions{HTTPHeader: tc.header})
		if err == nil {
			t.Fatalf("%s: the session opened", tc.name)
		}
		var e struct{ Error struct{ Code string } }
		if resp != nil {
			_ = json.NewDecoder(resp.Body).Decode(&e)
		}
		if resp == nil || resp.StatusCode != tc.status || e.Error.Code != tc.code {
			t.Fatalf("%s: %v %+v, want %d %s", tc.name, resp, e, tc.status, tc.code)
		}
	}
	if n := up.sessions.Load(); n != 0 {
		t.Fatalf("the provider saw %d sessions", n)
	}
	// The allowed origins do open a session.
	c, _, err := dialRT(t, rtURL(s, st(func(c *token.Claims) { c.Origins = []string{"https://good.example"} }), "gpt-realtime"),
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://good.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
}

func TestASessionHoldsOneCallAndOneSlotUntilItEnds(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	tok, id := s.tokenAndID(func(c *token.Claims) { c.Concurrency = 1; c.MaxCalls = 2 })
	c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	for range 3 { // responses within one session are not calls
		_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"response.create"}`))
		readEvent(t, c)
		readEvent(t, c)
	}
	if _, resp, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil); err == nil || resp.StatusCode != 429 {
		t.Fatalf("a second session while the first is open: %v", err)
	}
	c.Close(websocket.StatusNormalClosure, "bye")
	if code := <-up.ended; code != websocket.StatusNormalClosure {
		t.Fatalf("the provider saw the session end with %d", code)
	}
	var second *websocket.Conn
	eventually(t, "the slot to be released", func() bool {
		second, _, err = dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
		return err == nil
	})
	readEvent(t, second)
	second.Close(websocket.StatusNormalClosure, "")
	<-up.ended
	if _, resp, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil); err == nil || resp.StatusCode != 429 {
		t.Fatal("a third session on a 2-call token opened")
	}
	u := s.adminUsage(id)
	if num(u["calls"]) != 2 || num(u["prompt_tokens"]) != 30 || num(u["completion_tokens"]) != 60 {
		t.Fatalf("usage %v: want 2 calls and the three responses' usage", u)
	}
}

// tokenAndID mints a token and returns its jti too.
func (s *stack) tokenAndID(mutate func(*token.Claims)) (tok, id string) {
	tok = s.token(func(c *token.Claims) {
		if mutate != nil {
			mutate(c)
		}
		id = c.ID
	})
	return tok, id
}

func TestTheRelayEndsSessionsAtTheirLimits(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, func(c *config.Config) { c.Realtime.IdleTimeout = config.Duration(time.Second) })
	// max_session_seconds: 4008.
	c, _, err := dialRT(t, rtURL(s, s.token(func(c *token.Claims) { c.MaxSessionSeconds = 1 }), "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	start := time.Now()
	go func() { // keep it busy so only the time limit can end it
		for time.Since(start) < 3*time.Second {
			if c.Write(context.Background(), websocket.MessageBinary, []byte("ping")) != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if code, reason := closedWith(t, c, 5*time.Second); code != 4008 || !strings.Contains(reason, "session_time_limit") {
		t.Fatalf("closed with %d %q, want 4008", code, reason)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("the 1 s session lasted %s", d)
	}
	// Silence both ways: 4009.
	idle, _, err := dialRT(t, rtURL(s, s.token(nil), "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, idle)
	if code, _ := closedWith(t, idle, 5*time.Second); code != 4009 {
		t.Fatalf("an idle session closed with %d, want 4009", code)
	}
}

func TestARevokedTokenEndsItsLiveSession(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	tok, id := s.tokenAndID(nil)
	c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	if r := s.do("POST", "/admin/tokens/"+id+"/revoke", "", map[string]string{"Authorization": "Bearer " + adminKey}); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	start := time.Now()
	if code, reason := closedWith(t, c, 5*time.Second); code != 4001 || !strings.Contains(reason, "token_revoked") {
		t.Fatalf("closed with %d %q, want 4001", code, reason)
	}
	t.Logf("the revoked session closed %s after the revocation", time.Since(start))
	select {
	case code := <-up.ended:
		if code != 4001 {
			t.Fatalf("the provider side closed with %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the provider session stayed open")
	}
}

func TestARestrictedTokenCannotSwitchModelsMidSession(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	c, _, err := dialRT(t, rtURL(s, s.token(func(c *token.Claims) { c.Models = []string{"gpt-realtime-mini"} }), "gpt-realtime-mini"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	ctx := context.Background()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"session.update","event_id":"cli_7","session":{"type":"realtime","model":"gpt-realtime"}}`))
	typ, data := readEvent(t, c)
	var e struct {
		Error struct {
			Type, Code, Param string
			EventID           string `json:"event_id"`
		}
	}
	_ = json.Unmarshal(data, &e)
	if typ != "error" || e.Error.Code != "model_not_allowed" || e.Error.Type != "invalid_request_error" || e.Error.EventID != "cli_7" {
		t.Fatalf("%s %s", typ, data)
	}
	// The tricks a parser mismatch would let through: a repeated key (the
	// provider keeps the last), a key in another case (the provider reads
	// exact keys), invalid JSON.
	for _, trick := range []string{
		`{"type":"session.update","session":{"model":"gpt-realtime-mini","model":"gpt-realtime"}}`,
		`{"type":"input_audio_buffer.append","type":"session.update","session":{"model":"gpt-realtime"}}`,
		`{"type":"session.update","Type":"x","session":{"Model":"gpt-realtime-mini","model":"gpt-realtime"}}`,
		`{"type":"session.update","session":{"model":"gpt-realtime"}`,
	} {
		_ = c.Write(ctx, websocket.MessageText, []byte(trick))
		if typ, data := readEvent(t, c); typ != "error" {
			t.Fatalf("%s passed: %s %s", trick, typ, data)
		}
	}
	// An allowed update and other events pass; the refused ones never did.
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"session.update","session":{"type":"realtime","instructions":"be brief"}}`))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"response.create"}`))
	readEvent(t, c)
	readEvent(t, c)
	_, events := up.seen()
	if strings.Join(events, ",") != "session.update,response.create" {
		t.Fatalf("the provider received %v", events)
	}
}

func TestLargeMessagesStreamAndOversizedOnesEndTheSession(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, func(c *config.Config) { c.Realtime.MaxMessageBytes = 1 << 20 })
	c, _, err := dialRT(t, rtURL(s, s.token(nil), "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(4 << 20)
	readEvent(t, c)
	ctx := context.Background()
	big := make([]byte, 900<<10)
	for i := range big {
		big[i] = byte(i)
	}
	if err := c.Write(ctx, websocket.MessageBinary, big); err != nil {
		t.Fatal(err)
	}
	typ, echo, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || len(echo) != len(big) || echo[12345] != big[12345] {
		t.Fatalf("echo: %v %d bytes", err, len(echo))
	}
	_ = c.Write(ctx, websocket.MessageBinary, make([]byte, 2<<20))
	if code, _ := closedWith(t, c, 5*time.Second); code != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %d, want 1009", code)
	}
}

func TestEitherSideLeavingEndsTheOtherAndFreesTheSlot(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	tok := s.token(func(c *token.Claims) { c.Concurrency = 1 })
	baseline := goleak.IgnoreCurrent()
	// The provider hangs up: the client sees its code.
	c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"test.hangup"}`))
	if code, _ := closedWith(t, c, 5*time.Second); code != websocket.StatusInternalError {
		t.Fatalf("the client saw %d, want 1011", code)
	}
	<-up.ended
	// The client vanishes without a close frame: the provider side ends.
	var gone *websocket.Conn
	eventually(t, "the slot back", func() bool {
		gone, _, err = dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
		return err == nil
	})
	readEvent(t, gone)
	gone.CloseNow()
	select {
	case <-up.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider session outlived its client")
	}
	eventually(t, "the slot back again", func() bool {
		c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
		if err == nil {
			c.CloseNow()
		}
		return err == nil
	})
	eventually(t, "no provider session open", func() bool { return up.open.Load() == 0 })
	// Nothing of the three sessions is left running: pumps, timers, the
	// revocation watch, the lease renewal.
	eventually(t, "the sessions' goroutines to end", func() bool { return goleak.Find(baseline) == nil })
}

// The mock provider speaks the Realtime protocol as OpenAI does: a whole
// conversation through the relay, with the usage its response.done
// reported recorded against the token.
func TestAConversationWithTheMockProviderIsRelayedAndMetered(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{RealtimeKeys: []string{realKey}})
	s := rtStack(t, mock, nil)
	t.Cleanup(mock.CloseRealtime) // before the upstream server closes
	tok, id := s.tokenAndID(func(c *token.Claims) { c.Models = []string{"gpt-realtime*"} })
	c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), &websocket.DialOptions{Subprotocols: []string{"realtime"}})
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := readEvent(t, c); typ != "session.created" {
		t.Fatalf("first event %q", typ)
	}
	ctx := context.Background()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"session.update","session":{"type":"realtime","output_modalities":["text"]}}`))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hello there"}]}}`))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"response.create"}`))
	words, _ := mockprovider.CompletionTokens("hello there", 0, 0)
	var text strings.Builder
	var usage struct{ InputTokens, OutputTokens int64 }
	for {
		typ, data := readEvent(t, c)
		switch typ {
		case "error":
			t.Fatalf("error event: %s", data)
		case "response.output_text.delta":
			var d struct{ Delta string }
			_ = json.Unmarshal(data, &d)
			text.WriteString(d.Delta)
		}
		if typ == "response.done" {
			var d struct {
				Response struct {
					Usage struct {
						InputTokens  int64 `json:"input_tokens"`
						OutputTokens int64 `json:"output_tokens"`
					}
				}
			}
			_ = json.Unmarshal(data, &d)
			usage.InputTokens, usage.OutputTokens = d.Response.Usage.InputTokens, d.Response.Usage.OutputTokens
			break
		}
	}
	if text.String() != strings.Join(words, "") || usage.OutputTokens != int64(len(words)) {
		t.Fatalf("answer %q (%d tokens), want %q", text.String(), usage.OutputTokens, strings.Join(words, ""))
	}
	c.Close(websocket.StatusNormalClosure, "done")
	eventually(t, "the session to be settled", func() bool {
		u := s.adminUsage(id)
		return num(u["prompt_tokens"]) == usage.InputTokens && num(u["completion_tokens"]) == usage.OutputTokens && num(u["calls"]) == 1
	})
	if st := mock.Stats(); st.ByKey[realKey] != 1 || len(st.ByKey) != 1 {
		t.Fatalf("the provider saw %v, want one session with the real key", st.ByKey)
	}
}

// A client that stops reading while the provider keeps sending is dropped
// after timeouts.write_idle, not held (with the provider generating)
// until the idle timeout.
func TestAClientThatStopsReadingIsDropped(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, func(c *config.Config) { c.Timeouts.WriteIdle = config.Duration(500 * time.Millisecond) })
	tok := s.token(func(c *token.Claims) { c.Concurrency = 1 })
	c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
	if err != nil {
		t.Fatal(err)
	}
	readEvent(t, c)
	start := time.Now()
	_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"test.flood"}`))
	select {
	case <-up.ended:
		t.Logf("the stalled session ended after %s", time.Since(start))
	case <-time.After(15 * time.Second):
		t.Fatal("the provider kept a session whose client stopped reading")
	}
	eventually(t, "the slot back", func() bool {
		c2, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
		if err == nil {
			c2.CloseNow()
		}
		return err == nil
	})
}

// One check covers every open session: revoking one token of many ends
// exactly its session.
func TestRevokingOneTokenOfManyEndsOnlyItsSession(t *testing.T) {
	up := newScriptedRealtime()
	s := rtStack(t, up, nil)
	const n = 20
	conns := make([]*websocket.Conn, n)
	ids := make([]string, n)
	for i := range n {
		var tok string
		tok, ids[i] = s.tokenAndID(nil)
		c, _, err := dialRT(t, rtURL(s, tok, "gpt-realtime"), nil)
		if err != nil {
			t.Fatal(err)
		}
		readEvent(t, c)
		conns[i] = c
	}
	if r := s.do("POST", "/admin/tokens/"+ids[7]+"/revoke", "", map[string]string{"Authorization": "Bearer " + adminKey}); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if code, _ := closedWith(t, conns[7], 5*time.Second); code != 4001 {
		t.Fatalf("the revoked session closed with %d", code)
	}
	for i, c := range conns {
		if i == 7 {
			continue
		}
		_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"response.create"}`))
		if typ, _ := readEvent(t, c); typ != "response.output_text.delta" {
			t.Fatalf("session %d after another's revocation: %q", i, typ)
		}
		readEvent(t, c)
	}
}
