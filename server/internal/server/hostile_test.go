package server_test

// Hostile input and tampering (issue 8): path tricks, oversized input,
// odd bodies, header injection, request smuggling, slow clients, bit flips
// and the timing of token rejection, over HTTP/1.1 and HTTP/2 (TLS and
// h2c) alike. Requests that Go's HTTP client would normalise or refuse to
// send are written on raw TCP connections, or frame by frame for HTTP/2
// (h2raw_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/server"
)

// ---------------------------------------------------------------------------
// Helpers

// liveStack is a relay started through server.Run on a loopback port, so
// the real http.Server settings (header limit, timeouts) are in force.
type liveStack struct {
	*stack
	addr  string // host:port of the relay
	proto protocol
	cert  *testCert // the relay's certificate over h2TLS
	relay *server.Relay
}

func newLiveStack(t *testing.T, upstream http.Handler, mutate func(*config.Config)) *liveStack {
	t.Helper()
	return newLiveStackOver(t, http1, upstream, mutate)
}

// newLiveStackOver runs the relay for clients speaking proto: plain
// HTTP/1.1, HTTP/2 over TLS (a fresh test certificate) or h2c.
func newLiveStackOver(t *testing.T, proto protocol, upstream http.Handler, mutate func(*config.Config)) *liveStack {
	t.Helper()
	var tc *testCert
	if proto == h2TLS {
		tc = newTestCert(t, t.TempDir(), 1)
	}
	s, cfg, keys := prepareStack(t, upstream, func(c *config.Config) {
		c.Listen = "127.0.0.1:0"
		c.Upstream.MaxRetries = 0
		c.Timeouts.Shutdown = config.Duration(2 * time.Second)
		proto.configure(c, tc)
		if mutate != nil {
			mutate(c)
		}
	})
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	relay, err := server.New(cfg, keys, log)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	relay.Ready = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("relay did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("relay did not start in time")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("relay did not stop")
		}
	})
	s.url = proto.scheme() + "://" + addr.String()
	s.http = proto.client(tc)
	t.Cleanup(s.http.CloseIdleConnections)
	return &liveStack{stack: s, addr: addr.String(), proto: proto, cert: tc, relay: relay}
}

// seenRequest is what the upstream received, as it received it.
type seenRequest struct {
	Method, Host, URI string
	Header            http.Header
	Body              []byte
	TransferEncoding  []string
	ContentLength     int64
}

// spy is an upstream that records every request and answers with a small
// JSON body (or with respond, when set).
type spy struct {
	mu      sync.Mutex
	seen    []seenRequest
	respond func(w http.ResponseWriter, r *http.Request)
}

func (u *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.seen = append(u.seen, seenRequest{
		Method: r.Method, Host: r.Host, URI: r.RequestURI, Header: r.Header.Clone(), Body: body,
		TransferEncoding: r.TransferEncoding, ContentLength: r.ContentLength,
	})
	respond := u.respond
	u.mu.Unlock()
	if respond != nil {
		respond(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true}`)
}

func (u *spy) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

func (u *spy) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = nil
}

// rawConn speaks HTTP/1.1 by hand to the relay.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// response reads one whole response.
func (c *rawConn) response() (response, error) {
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}, err
}

// closedByPeer reports whether the relay closed the connection (within a
// bounded wait) without sending anything more.
func (c *rawConn) closedByPeer() bool {
	_ = c.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := c.br.Read(make([]byte, 1))
	if n > 0 {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil // EOF or reset
}

// roundTrip sends raw on a fresh connection and reads one response.
func roundTrip(t *testing.T, addr, raw string) response {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(raw)
	r, err := c.response()
	if err != nil {
		t.Fatalf("no response to %.80q: %v", raw, err)
	}
	return r
}

func chunked(body string, pieces int) string {
	var b strings.Builder
	step := (len(body) + pieces - 1) / pieces
	for i := 0; i < len(body); i += step {
		end := min(i+step, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", end-i, body[i:end])
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// waitUntil polls cond, bounded.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// 1. Path tricks

func TestPathTricksNeverLeaveTheProvidersHostOrPrefix(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) { testPathTricks(t, proto) })
	}
}

// pathTrickAnswer sends target (GET, with an Authorization header when
// auth is set) as the request line over HTTP/1.1 or as :path over HTTP/2,
// each time on a fresh connection. Over HTTP/2, refused is set when the
// protocol layer refused the stream before the relay saw it.
func pathTrickAnswer(t *testing.T, s *liveStack, target, auth string) (r response, refused bool) {
	t.Helper()
	if s.proto == http1 {
		headers := ""
		if auth != "" {
			headers = "Authorization: " + auth + "\r\n"
		}
		return roundTrip(t, s.addr, "GET "+target+" HTTP/1.1\r\nHost: relay.example\r\n"+headers+"Connection: close\r\n\r\n"), false
	}
	h := dialH2(t, s, h2Options{})
	var extra []h2Field
	if auth != "" {
		extra = append(extra, h2Field{"authorization", auth})
	}
	h.request(1, "GET", target, extra, nil, false)
	st := h.await(1, 5*time.Second)
	h.close()
	return response{status: st.status, header: st.header, body: st.body}, st.status == 0
}

func testPathTricks(t *testing.T, proto protocol) {
	up := &spy{}
	s := newLiveStackOver(t, proto, up, func(c *config.Config) {
		// A provider with a path prefix, like DashScope's /compatible-mode.
		c.Providers["mock"] = config.Provider{BaseURL: c.Providers["mock"].BaseURL + "/compatible-mode", Auth: "bearer", AllowRequestHeaders: mockControls}
	})
	upHost := strings.TrimPrefix(s.upstream.URL, "http://")
	// Paths "/*": these odd paths are no inference endpoints; the point
	// here is where they go, not whether the default scope allows them.
	tok := s.token(func(c *token.Claims) { c.Paths = []string{"/*"} })
	auth := "Bearer " + tok
	const refused, badToken = "bad_request", "invalid_token"
	cases := []struct {
		name, target, headers string
		code                  string // "" = forwarded
		upstreamURI           string
	}{
		{"dot segments", "/t/TOK/v1/../../admin/tokens", "", refused, ""},
		{"encoded dot segments", "/t/TOK/v1/%2e%2e/x", "", refused, ""},
		{"mixed-case encoded dots", "/t/TOK/v1/%2E%2e/x", "", refused, ""},
		{"half-encoded dots", "/t/TOK/v1/.%2e/x", "", refused, ""},
		{"half-encoded dots reversed", "/t/TOK/v1/%2e./x", "", refused, ""},
		{"single dot", "/t/TOK/./v1/x", "", refused, ""},
		{"trailing dot segment", "/t/TOK/v1/x/..", "", refused, ""},
		{"dots with params", "/t/TOK/v1/x;/../y", "", refused, ""},
		{"empty segment after token", "/t/TOK//evil.example/x", "", refused, ""},
		{"network-path reference", "//evil.example/x", auth, refused, ""},
		{"encoded slash", "/t/TOK/v1/a%2fb", "", refused, ""},
		{"encoded slash upper", "/t/TOK/v1/..%2F..%2Fadmin", "", refused, ""},
		{"encoded backslash", "/t/TOK/v1/a%5cb", "", refused, ""},
		{"raw backslashes", `/t/TOK/v1\..\..\admin`, "", refused, ""},
		{"encoded NUL", "/t/TOK/v1/%00x", "", refused, ""},
		{"bad escape", "/t/TOK/v1/%zz", "", "http_400", ""}, // Go's server refuses it
		{"asterisk form", "*", auth, refused, ""},
		{"dots in the token segment", "/t/%2e%2e/v1/x", "", badToken, ""},
		{"slash escaped into the token", "/t/TOK%2f..%2f/v1/x", "", badToken, ""},
		{"at sign after token", "/t/TOK/@evil.example/v1/x", "", "", "/compatible-mode/@evil.example/v1/x"},
		{"at sign in a segment", "/t/TOK/v1/x@evil.example:80", "", "", "/compatible-mode/v1/x@evil.example:80"},
		{"double-encoded dots stay encoded", "/t/TOK/v1/%252e%252e/x", "", "", "/compatible-mode/v1/%252e%252e/x"},
		{"absolute URL", "http://evil.example/v1/x", auth, "", "/compatible-mode/v1/x"},
		{"absolute URL with user info", "http://user:pw@evil.example/v1/x", auth, "", "/compatible-mode/v1/x"},
		{"absolute URL with path token", "http://evil.example:8080/t/TOK/v1/x", "", "", "/compatible-mode/v1/x"},
		{"URL in the query", "/t/TOK/v1/x?u=http://evil.example/&p=%2e%2e%2f", "", "", "/compatible-mode/v1/x?u=http://evil.example/&p=%2e%2e%2f"},
		{"token alone", "/t/TOK", "", "", "/compatible-mode/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			target := strings.ReplaceAll(tc.target, "TOK", tok)
			r, h2Refused := pathTrickAnswer(t, s, target, tc.headers)
			seen := up.requests()
			if proto != http1 && tc.code == "http_400" {
				// A :path that is no URI: HTTP/2 itself refuses the stream.
				if !h2Refused || len(seen) != 0 {
					t.Fatalf("got %d %s with %d upstream, want the stream refused", r.status, r.body, len(seen))
				}
				return
			}
			if tc.code == "http_400" {
				if r.status != 400 || len(seen) != 0 {
					t.Fatalf("got %d %s with %d upstream", r.status, r.body, len(seen))
				}
				return
			}
			if tc.code != "" {
				if r.status != 400 && r.status != 401 || r.code() != tc.code {
					t.Fatalf("got %d %s, want %s", r.status, r.body, tc.code)
				}
				if len(seen) != 0 {
					t.Fatalf("a refused path reached the provider: %+v", seen)
				}
				return
			}
			if r.status != 200 || len(seen) != 1 {
				t.Fatalf("got %d %s with %d upstream requests, want it forwarded", r.status, r.body, len(seen))
			}
			got := seen[0]
			if got.Host != upHost || got.URI != tc.upstreamURI {
				t.Fatalf("upstream saw Host %q target %q, want %q %q", got.Host, got.URI, upHost, tc.upstreamURI)
			}
			if a := got.Header.Values("Authorization"); len(a) != 1 || a[0] != "Bearer "+realKey {
				t.Fatalf("upstream Authorization %q", a)
			}
			if strings.Contains(got.URI, tok) {
				t.Fatal("the token reached the provider")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Oversized input

func TestOversizedInputIsRefusedCleanly(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) { testOversizedInput(t, proto) })
	}
}

// unsized hides a body's length from Go's client: it goes chunked over
// HTTP/1.1 and as DATA frames without content-length over HTTP/2.
type unsized struct{ io.Reader }

func testOversizedInput(t *testing.T, proto protocol) {
	up := &spy{}
	s := newLiveStackOver(t, proto, up, func(c *config.Config) {
		c.Limits.MaxHeaderBytes = 16 << 10
		c.Limits.MaxBodyBytes = 4 << 10
		quickShutdown(c)
	})
	tok := s.token(nil)
	path := "/t/" + tok + "/v1/chat/completions"
	big := `{"model":"gpt-4o","pad":"` + strings.Repeat("x", 8<<10) + `"}`
	noUpstream := func(t *testing.T) {
		t.Helper()
		if n := len(up.requests()); n != 0 {
			t.Fatalf("%d requests reached the provider", n)
		}
	}
	post := func(t *testing.T, body io.Reader) response {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), "POST", s.url+path, body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantProto(t, proto, resp)
		data, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: data}
	}

	if proto == http1 {
		oversizedHTTP1(t, s, up, tok, big)
	} else {
		oversizedHTTP2(t, s, up, tok)
	}
	t.Run("body over max_body_bytes with a declared length", func(t *testing.T) {
		up.reset()
		if r := post(t, strings.NewReader(big)); r.status != 413 || r.code() != "request_too_large" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
		noUpstream(t)
	})
	t.Run("body over max_body_bytes without a declared length", func(t *testing.T) {
		up.reset()
		if r := post(t, unsized{strings.NewReader(big)}); r.status != 413 || r.code() != "request_too_large" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
		noUpstream(t)
	})
	t.Run("body without a declared length within the limit is sent upstream with one", func(t *testing.T) {
		up.reset()
		r := post(t, unsized{strings.NewReader(chatBody)})
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 {
			t.Fatalf("got %d %s, %d upstream", r.status, r.body, len(seen))
		}
		if got := seen[0]; string(got.Body) != chatBody || got.ContentLength != int64(len(chatBody)) || len(got.TransferEncoding) != 0 {
			t.Fatalf("upstream framing: CL %d TE %v body %q", got.ContentLength, got.TransferEncoding, got.Body)
		}
	})

	invalid := s.do("POST", "/t/not-a-token/v1/chat/completions", chatBody, nil)
	if invalid.status != 401 || invalid.code() != "invalid_token" {
		t.Fatalf("reference invalid answer: %d %s", invalid.status, invalid.body)
	}
	huge := tok + "." + strings.Repeat("A", 9<<10) // well over token.MaxTokenSize
	for _, loc := range []struct {
		name, path string
		headers    map[string]string
	}{
		{"path", "/t/" + huge + "/v1/chat/completions", nil},
		{"header", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + huge}},
		{"x-api-key", "/v1/chat/completions", map[string]string{"X-Api-Key": huge}},
		{"query", "/v1/chat/completions?token=" + huge, nil},
	} {
		t.Run("token over 8 KiB in the "+loc.name, func(t *testing.T) {
			up.reset()
			r := s.do("POST", loc.path, chatBody, loc.headers)
			if r.status != 401 || !bytes.Equal(r.body, invalid.body) {
				t.Fatalf("got %d %s, want the uniform %s", r.status, r.body, invalid.body)
			}
			noUpstream(t)
		})
	}

	t.Run("10 KiB query string", func(t *testing.T) {
		up.reset()
		q := "q=" + strings.Repeat("a", 10<<10)
		r := s.do("GET", "/t/"+tok+"/v1/models?"+q, "", nil)
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 || seen[0].URI != "/v1/models?"+q {
			t.Fatalf("10 KiB query: %d, %d upstream", r.status, len(seen))
		}
	})
}

// oversizedHTTP1 sends what Go's client would not: a header block and a
// request line over the limit, an oversized chunked body on a connection
// that must not be reused.
func oversizedHTTP1(t *testing.T, s *liveStack, up *spy, tok, big string) {
	post := "POST /t/" + tok + "/v1/chat/completions HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
	noUpstream := func(t *testing.T) {
		t.Helper()
		if n := len(up.requests()); n != 0 {
			t.Fatalf("%d requests reached the provider", n)
		}
	}
	t.Run("header block over max_header_bytes", func(t *testing.T) {
		up.reset()
		c := dialRaw(t, s.addr)
		c.send(post + "X-Pad: " + strings.Repeat("p", 64<<10) + "\r\nContent-Length: 2\r\n\r\n{}")
		r, err := c.response()
		if err != nil || r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("got %d %v, want 431", r.status, err)
		}
		if !c.closedByPeer() {
			t.Fatal("the connection stayed open after 431")
		}
		noUpstream(t)
		if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
			t.Fatalf("relay unusable afterwards: %d", r.status)
		}
	})
	t.Run("body over max_body_bytes chunked", func(t *testing.T) {
		up.reset()
		c := dialRaw(t, s.addr)
		c.send(post + "Transfer-Encoding: chunked\r\n\r\n" + chunked(big, 16))
		r, err := c.response()
		if err != nil || r.status != 413 || r.code() != "request_too_large" {
			t.Fatalf("got %d %s %v", r.status, r.body, err)
		}
		if !c.closedByPeer() {
			t.Fatal("the connection stayed open after an oversized chunked body")
		}
		noUpstream(t)
	})
	t.Run("chunked body within the limit is re-framed upstream", func(t *testing.T) {
		up.reset()
		r := roundTrip(t, s.addr, post+"Transfer-Encoding: chunked\r\n\r\n"+chunked(chatBody, 3))
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 {
			t.Fatalf("got %d %s, %d upstream", r.status, r.body, len(seen))
		}
		if got := seen[0]; string(got.Body) != chatBody || got.ContentLength != int64(len(chatBody)) || len(got.TransferEncoding) != 0 {
			t.Fatalf("upstream framing: CL %d TE %v body %q", got.ContentLength, got.TransferEncoding, got.Body)
		}
	})
	t.Run("64 KiB query string", func(t *testing.T) {
		up.reset()
		r := roundTrip(t, s.addr, "GET /t/"+tok+"/v1/models?q="+strings.Repeat("a", 64<<10)+" HTTP/1.1\r\nHost: relay\r\n\r\n")
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("64 KiB query: %d", r.status)
		}
		noUpstream(t)
	})
}

// oversizedHTTP2 sends header lists over the limit the relay advertises
// (SETTINGS_MAX_HEADER_LIST_SIZE), which Go's client refuses to send: a
// compact one (indexed fields, one HEADERS frame) is answered 431 on its
// stream; one with a field longer than the limit, or spread over
// CONTINUATION frames, ends the connection. Either way nothing is
// forwarded and the relay serves the next client.
func oversizedHTTP2(t *testing.T, s *liveStack, up *spy, tok string) {
	path := "/t/" + tok + "/v1/chat/completions"
	ok := func(t *testing.T) {
		t.Helper()
		if n := len(up.requests()); n != 0 {
			t.Fatalf("%d requests reached the provider", n)
		}
		if r := s.do("POST", path, chatBody, nil); r.status != 200 {
			t.Fatalf("relay unusable afterwards: %d", r.status)
		}
		up.reset()
	}
	t.Run("header list over max_header_bytes", func(t *testing.T) {
		up.reset()
		h := dialH2(t, s, h2Options{})
		waitUntil(t, 5*time.Second, "the relay's SETTINGS", func() bool { _, ok := h.setting(http2.SettingMaxHeaderListSize); return ok })
		if limit, _ := h.setting(http2.SettingMaxHeaderListSize); limit < 16<<10 || limit > 20<<10 {
			t.Fatalf("the relay advertises a header list of %d bytes for max_header_bytes 16 KiB", limit)
		}
		// 40 copies of a 1 KiB field: 40 KiB of header list in a few
		// hundred bytes of HPACK.
		var pad []h2Field
		for range 40 {
			pad = append(pad, h2Field{"x-pad", strings.Repeat("p", 1000)})
		}
		h.post(1, path, chatBody, pad...)
		if r := h.await(1, 5*time.Second); r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("got %+v, want 431", r)
		}
		// The connection still serves.
		h.post(3, path, chatBody)
		if r := h.await(3, 5*time.Second); r.status != 200 {
			t.Fatalf("the next stream got %+v", r)
		}
		up.reset()
		ok(t)
	})
	for _, tc := range []struct {
		name  string
		path  string
		extra []h2Field
	}{
		{"one field over max_header_bytes", path, []h2Field{{"x-pad", strings.Repeat("p", 64<<10)}}},
		{"64 KiB query string", "/t/" + tok + "/v1/models?q=" + strings.Repeat("a", 64<<10), nil},
		{"header list over CONTINUATION frames", path, func() (f []h2Field) {
			for i := range 64 {
				f = append(f, h2Field{"x-pad-" + strconv.Itoa(i), strings.Repeat("p", 1000)})
			}
			return f
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			h := dialH2(t, s, h2Options{})
			h.request(1, "GET", tc.path, tc.extra, nil, false)
			r := h.await(1, 5*time.Second)
			switch {
			case r.status == http.StatusRequestHeaderFieldsTooLarge:
			case r.status == 0 && h.goAwayFrame() != nil:
				t.Logf("connection ended: GOAWAY %v", h.goAwayFrame().code)
			default:
				t.Fatalf("got %+v, GOAWAY %+v", r, h.goAwayFrame())
			}
			ok(t)
		})
	}
}

// ---------------------------------------------------------------------------
// 3. Bodies: invalid JSON, a model that is not a string, control characters

func TestOddBodiesGetTheDocumentedAnswers(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) { testOddBodies(t, proto) })
	}
}

func testOddBodies(t *testing.T, proto protocol) {
	up := &spy{}
	s := newLiveStackOver(t, proto, up, nil)
	free := s.token(nil)
	restricted := s.token(func(c *token.Claims) { c.Models = []string{"gpt-4o*"} })
	cases := []struct {
		name, tok, body string
		status          int
		code            string
	}{
		{"invalid JSON, no models claim: forwarded untouched", free, `{"model":`, 200, ""},
		{"invalid JSON, models claim", restricted, `{"model":`, 400, "bad_request"},
		{"raw newline inside a JSON string, models claim", restricted, "{\"model\":\"gpt-4o\n\"}", 400, "bad_request"},
		{"model is a number", free, `{"model":42}`, 400, "bad_request"},
		{"model is an object", free, `{"model":{"name":"gpt-4o"}}`, 400, "bad_request"},
		{"model is an array", free, `{"model":["gpt-4o"]}`, 400, "bad_request"},
		{"model is a boolean", restricted, `{"model":true}`, 400, "bad_request"},
		{"model is null: no model, no models claim", free, `{"model":null}`, 200, ""},
		{"model is null: no model, models claim", restricted, `{"model":null}`, 403, "model_not_allowed"},
		{"body is a JSON array, models claim", restricted, `[{"model":"gpt-4o"}]`, 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			r := s.do("POST", "/t/"+tc.tok+"/v1/chat/completions", tc.body, nil)
			seen := up.requests()
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if tc.status != 200 {
				if len(seen) != 0 {
					t.Fatal("a refused body reached the provider")
				}
				return
			}
			if len(seen) != 1 || string(seen[0].Body) != tc.body {
				t.Fatalf("upstream saw %+v, want the body untouched", seen)
			}
		})
	}

	// A model with control characters is data inside a JSON string: it is
	// forwarded byte for byte, matched like any other string, and can
	// inject nothing into headers or log lines.
	t.Run("model with control characters", func(t *testing.T) {
		up.reset()
		model := "gpt-4o\r\nX-Injected: 1\r\n\r\nGET /admin HTTP/1.1\u0000\u2028\u001b[31m"
		encoded, _ := json.Marshal(map[string]any{"model": model, "messages": []any{}})
		r := s.do("POST", "/t/"+restricted+"/v1/chat/completions", string(encoded), nil)
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 {
			t.Fatalf("got %d %s with %d upstream", r.status, r.body, len(seen))
		}
		if !bytes.Equal(seen[0].Body, encoded) {
			t.Fatalf("body changed on its way: %q", seen[0].Body)
		}
		var back struct{ Model string }
		if err := json.Unmarshal(seen[0].Body, &back); err != nil || back.Model != model {
			t.Fatalf("model arrived as %q (%v)", back.Model, err)
		}
		for name := range seen[0].Header {
			if strings.EqualFold(name, "X-Injected") {
				t.Fatal("the model injected an upstream header")
			}
		}
		for name := range r.header {
			if strings.EqualFold(name, "X-Injected") {
				t.Fatal("the model injected a response header")
			}
		}
		waitUntil(t, 5*time.Second, "the access log line", func() bool { return strings.Contains(s.logs.String(), "X-Injected: 1") })
		for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("a log line is not one JSON object (injected line break?): %q", line)
			}
			if strings.Contains(line, "GET /admin") && !strings.Contains(line, `\r\n`) {
				t.Fatalf("control characters reached the log unescaped: %q", line)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 4. Header injection

func TestHeaderInjectionIsRefusedOrInert(t *testing.T) {
	up := &spy{}
	s := newLiveStack(t, up, nil)
	tok := s.token(nil)
	cases := []struct {
		name, raw string
		status    int
		code      string // for relay-made answers
	}{
		{"CR inside the bearer token", "GET /v1/models HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer " + tok + "\rX-Injected: 1\r\n\r\n", 400, ""},
		{"CR inside x-api-key", "GET /v1/models HTTP/1.1\r\nHost: relay\r\nX-Api-Key: " + tok + "\r X-Injected: 1\r\n\r\n", 400, ""},
		{"CR inside another header", "GET /t/" + tok + "/v1/models HTTP/1.1\r\nHost: relay\r\nX-Note: a\rX-Injected: 1\r\n\r\n", 400, ""},
		{"NUL inside a header", "GET /t/" + tok + "/v1/models HTTP/1.1\r\nHost: relay\r\nX-Note: a\x00b\r\n\r\n", 400, ""},
		{"raw CR in the request target", "GET /t/" + tok + "/v1/models\rX-Injected: 1 HTTP/1.1\r\nHost: relay\r\n\r\n", 400, ""},
		{"encoded CRLF in the path", "GET /t/" + tok + "/v1/models%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: relay\r\n\r\n", 400, "bad_request"},
		{"encoded CRLF in the path token", "GET /t/" + tok + "%0d%0aX-Injected:%201/v1/models HTTP/1.1\r\nHost: relay\r\n\r\n", 401, "invalid_token"},
		{"encoded CRLF in the query token", "GET /v1/models?token=" + tok + "%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: relay\r\n\r\n", 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			r := roundTrip(t, s.addr, tc.raw)
			if r.status != tc.status || (tc.code != "" && r.code() != tc.code) {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if n := len(up.requests()); n != 0 {
				t.Fatalf("%d requests reached the provider", n)
			}
		})
	}
	t.Run("encoded CRLF in the query stays encoded", func(t *testing.T) {
		up.reset()
		r := roundTrip(t, s.addr, "GET /t/"+tok+"/v1/models?a=%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: relay\r\n\r\n")
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 {
			t.Fatalf("got %d, %d upstream", r.status, len(seen))
		}
		if seen[0].URI != "/v1/models?a=%0d%0aX-Injected:%201" || seen[0].Header.Get("X-Injected") != "" {
			t.Fatalf("upstream saw %q %v", seen[0].URI, seen[0].Header)
		}
	})
	t.Run("an api_key claim cannot carry CR/LF", func(t *testing.T) {
		for _, key := range []string{"sk-a\r\nX-Injected: 1", "sk-a\nb", "sk-a\rb", "sk a", "sk-\x00", "sk-\x7f"} {
			c := &token.Claims{ID: cliID(), ExpiresAt: time.Now().Add(time.Hour).Unix(), Provider: "mock", APIKey: key}
			if _, err := token.Encode(c, s.mint); err == nil {
				t.Errorf("Encode accepted api_key %q", key)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 5. Request smuggling

func TestSmugglingAttemptsYieldAtMostOneUpstreamRequest(t *testing.T) {
	up := &spy{}
	s := newLiveStack(t, up, func(c *config.Config) {
		p := c.Providers["mock"]
		p.AllowRequestHeaders = append(p.AllowRequestHeaders, "x-folded")
		c.Providers["mock"] = p
	})
	tok := s.token(nil)
	head := "POST /t/" + tok + "/v1/chat/completions HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
	// What an attacker hopes the relay reads as a second request of its own.
	smuggled := "POST /t/" + tok + "/v1/smuggled HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n\r\n{}"
	cases := []struct {
		name, raw string
		status    int // 0: any refusal (4xx/5xx)
	}{
		{"Content-Length and chunked", head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(chatBody, 2) + smuggled, 200},
		{"chunked and Content-Length", head + "Transfer-Encoding: chunked\r\nContent-Length: 200\r\n\r\n" + chunked(chatBody, 2) + smuggled, 200},
		{"folded Transfer-Encoding with Content-Length", head + "Content-Length: " + strconv.Itoa(len(chatBody)) + "\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + chunked(chatBody, 1) + smuggled, 200},
		{"two different Content-Lengths", head + "Content-Length: " + strconv.Itoa(len(chatBody)) + "\r\nContent-Length: 2\r\n\r\n" + chatBody + smuggled, 400},
		{"Content-Length list", head + "Content-Length: " + strconv.Itoa(len(chatBody)) + ", 2\r\n\r\n" + chatBody + smuggled, 400},
		{"chunked, identity", head + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunked(chatBody, 1) + smuggled, 501},
		{"identity, chunked", head + "Transfer-Encoding: identity, chunked\r\n\r\n" + chunked(chatBody, 1) + smuggled, 501},
		{"Transfer-Encoding twice", head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(chatBody, 1) + smuggled, 501},
		{"space before the colon", head + "Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n" + chunked(chatBody, 1) + smuggled, 400},
		{"signed Content-Length", head + "Content-Length: +" + strconv.Itoa(len(chatBody)) + "\r\n\r\n" + chatBody + smuggled, 400},
		{"chunk size overflow", head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\n" + chatBody + "\r\n0\r\n\r\n" + smuggled, 400},
		{"bare LF in chunk framing", head + "Transfer-Encoding: chunked\r\n\r\n" + strconv.FormatInt(int64(len(chatBody)), 16) + "\n" + chatBody + "\n0\n\n" + smuggled, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up.reset()
			c := dialRaw(t, s.addr)
			c.send(tc.raw)
			first, err := c.response()
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if first.status != tc.status {
				t.Fatalf("got %d %s, want %d", first.status, first.body, tc.status)
			}
			// Nothing after the first request may be read as a request: the
			// relay closes the connection instead of answering again.
			if !c.closedByPeer() {
				t.Fatal("the connection stayed open for the smuggled request")
			}
			seen := up.requests()
			switch {
			case tc.status != 200 && len(seen) != 0:
				t.Fatalf("a refused request reached the provider: %+v", seen)
			case tc.status == 200 && len(seen) != 1:
				t.Fatalf("the provider saw %d requests, want exactly 1", len(seen))
			}
			for _, got := range seen {
				if got.URI != "/v1/chat/completions" || string(got.Body) != chatBody || len(got.TransferEncoding) != 0 || got.ContentLength != int64(len(chatBody)) {
					t.Fatalf("upstream saw %s %q CL %d TE %v body %q", got.Method, got.URI, got.ContentLength, got.TransferEncoding, got.Body)
				}
			}
		})
	}
	t.Run("obs-fold in an ordinary header is unfolded", func(t *testing.T) {
		up.reset()
		r := roundTrip(t, s.addr, head+"X-Folded: a\r\n b\r\nContent-Length: "+strconv.Itoa(len(chatBody))+"\r\n\r\n"+chatBody)
		seen := up.requests()
		if r.status != 200 || len(seen) != 1 || seen[0].Header.Get("X-Folded") != "a b" {
			t.Fatalf("got %d, upstream %+v", r.status, seen)
		}
	})
}

// HTTP/2 counterparts: what an HTTP/2 front end turns into HTTP/1.1
// request smuggling or header injection when it downgrades (H2.CL, H2.TE,
// CR/LF in a field, a request line in :path), and malformed header blocks.
// Each is refused before the provider — a 4xx, a reset stream or a
// GOAWAY — or forwarded once, exactly as the body and path say.
func TestHTTP2SmugglingAndInjectionNeverReachTheProvider(t *testing.T) {
	for _, proto := range []protocol{h2TLS, h2C} {
		t.Run(string(proto), func(t *testing.T) {
			up := &spy{}
			s := newLiveStackOver(t, proto, up, func(c *config.Config) {
				p := c.Providers["mock"]
				p.AllowRequestHeaders = append(p.AllowRequestHeaders, "x-note", "te")
				c.Providers["mock"] = p
				quickShutdown(c)
			})
			upHost := strings.TrimPrefix(s.upstream.URL, "http://")
			tok := s.token(nil)
			path := "/t/" + tok + "/v1/chat/completions"
			smuggled := "POST /t/" + tok + "/v1/smuggled HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n\r\n{}"
			cl := strconv.Itoa(len(chatBody))
			json := h2Field{"content-type", "application/json"}
			// pseudo builds a header block's pseudo-header fields by hand.
			pseudo := func(method, p string) []h2Field {
				return []h2Field{{":method", method}, {":scheme", proto.scheme()}, {":authority", s.addr}, {":path", p}}
			}
			const refused, once = "refused", "once"
			cases := []struct {
				name   string
				method string    // "" : the fields carry the pseudo-headers
				path   string    // :path when method is set
				fields []h2Field // after the pseudo-headers
				body   string
				want   string
			}{
				{"content-length shorter than the body (H2.CL)", "POST", path, []h2Field{json, {"content-length", "2"}}, chatBody + smuggled, refused},
				{"content-length longer than the body", "POST", path, []h2Field{json, {"content-length", strconv.Itoa(len(chatBody) + 50)}}, chatBody, refused},
				{"content-length zero with a body", "POST", path, []h2Field{json, {"content-length", "0"}}, smuggled, refused},
				{"transfer-encoding chunked (H2.TE)", "POST", path, []h2Field{json, {"transfer-encoding", "chunked"}}, chunked(chatBody, 1) + smuggled, refused},
				{"two content-lengths that disagree", "POST", path, []h2Field{json, {"content-length", cl}, {"content-length", "2"}}, chatBody, once},
				{"connection-specific header", "POST", path, []h2Field{json, {"connection", "keep-alive"}}, chatBody, refused},
				{"te other than trailers", "POST", path, []h2Field{json, {"te", "gzip"}}, chatBody, refused},
				{"te: trailers", "POST", path, []h2Field{json, {"te", "trailers"}}, chatBody, once},
				{"CR LF in a header value", "POST", path, []h2Field{json, {"x-note", "a\r\nx-injected: 1"}}, chatBody, refused},
				{"LF in a header value", "POST", path, []h2Field{json, {"x-note", "a\nx-injected: 1"}}, chatBody, refused},
				{"NUL in a header value", "POST", path, []h2Field{json, {"x-note", "a\x00b"}}, chatBody, refused},
				{"CR LF in a header name", "POST", path, []h2Field{json, {"x-note\r\nx-injected", "1"}}, chatBody, refused},
				{"upper-case header name", "POST", path, []h2Field{json, {"X-Note", "a"}}, chatBody, refused},
				{"CR LF and a request in :path", "POST", path + " HTTP/1.1\r\nHost: relay\r\n\r\n" + smuggled, []h2Field{json}, chatBody, refused},
				{"a request line in :path", "POST", path + " HTTP/1.1", []h2Field{json}, chatBody, once},
				{"encoded CR LF in the path", "POST", path + "%0d%0aX-Injected:%201", []h2Field{json}, chatBody, refused},
				{"encoded CR LF in the query stays encoded", "POST", path + "?a=%0d%0aX-Injected:%201", []h2Field{json}, chatBody, once},
				{"pseudo-header after a regular one", "", "", append([]h2Field{json}, pseudo("POST", path)...), chatBody, refused},
				{"two :path fields", "", "", append(pseudo("POST", path), h2Field{":path", "/t/" + tok + "/v1/smuggled"}, json), chatBody, refused},
				{"no :path", "", "", append(pseudo("POST", path)[:3], json), chatBody, refused},
				{"unknown pseudo-header", "", "", append(pseudo("POST", path), h2Field{":protocol", "websocket"}, json), chatBody, refused},
				{":authority of another host", "", "", append([]h2Field{{":method", "POST"}, {":scheme", proto.scheme()}, {":authority", "evil.example"}, {":path", path}}, json), chatBody, once},
				{"host header against :authority", "POST", path, []h2Field{json, {"host", "evil.example"}}, chatBody, once},
				{"TRACE", "TRACE", path, nil, "", refused},
				{"CONNECT", "", "", []h2Field{{":method", "CONNECT"}, {":authority", "evil.example:443"}}, "", refused},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					up.reset()
					h := dialH2(t, s, h2Options{})
					var body []byte
					if tc.body != "" {
						body = []byte(tc.body)
					}
					if err := h.tryRequest(1, tc.method, tc.path, tc.fields, body, false); err != nil {
						t.Fatalf("write: %v", err)
					}
					st := h.await(1, 5*time.Second)
					seen := up.requests()
					switch tc.want {
					case refused:
						if len(seen) != 0 {
							t.Fatalf("the provider saw %+v", seen)
						}
						if st.status != 0 && st.status < 400 {
							t.Fatalf("got %d %s, want a refusal", st.status, st.body)
						}
						t.Logf("refused: status %d, reset %v (%v), GOAWAY %v", st.status, st.reset, st.code, h.goAwayFrame())
					case once:
						if len(seen) > 1 || st.status == 200 && len(seen) != 1 {
							t.Fatalf("got %d; the provider saw %d requests", st.status, len(seen))
						}
						for _, got := range seen {
							if !strings.HasPrefix(got.URI, "/v1/chat/completions") || strings.ContainsAny(got.URI, " \r\n") ||
								string(got.Body) != chatBody || got.ContentLength != int64(len(chatBody)) || len(got.TransferEncoding) != 0 ||
								got.Host != upHost || got.Header.Get("X-Injected") != "" {
								t.Fatalf("the provider saw %s %q Host %q CL %d TE %v body %q", got.Method, got.URI, got.Host, got.ContentLength, got.TransferEncoding, got.Body)
							}
						}
						t.Logf("status %d, forwarded %d", st.status, len(seen))
					}
				})
			}
			if r := s.do("POST", path, chatBody, nil); r.status != 200 {
				t.Fatalf("relay unusable afterwards: %d", r.status)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 6. Slow clients

func TestSlowlorisIsCutAtReadHeaderTimeoutWhileOthersAreServed(t *testing.T) {
	up := &spy{}
	s := newLiveStack(t, up, func(c *config.Config) { c.Timeouts.ReadHeader = config.Duration(300 * time.Millisecond) })
	tok := s.token(nil)
	c := dialRaw(t, s.addr)
	start := time.Now()
	// The relay may say 400 before it hangs up; either way the connection
	// ends, and no request was served on it.
	type ending struct {
		after time.Duration
		got   string
	}
	closed := make(chan ending, 1)
	go func() {
		got, _ := io.ReadAll(c.br) // to EOF or reset; the conn deadline bounds it
		closed <- ending{time.Since(start), string(got)}
	}()
	// The header arrives a byte every 20 ms: it would take ~1.5 s.
	header := "POST /t/" + tok + "/v1/chat/completions HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n"
	drip := time.NewTicker(20 * time.Millisecond)
	defer drip.Stop()
	served := false
	var end ending
dripping:
	for i := 0; ; i++ {
		select {
		case end = <-closed:
			break dripping
		case <-drip.C:
		}
		if i < len(header) {
			_, _ = c.c.Write([]byte{header[i]}) // fails once the relay hung up
		}
		if !served && time.Since(start) > 100*time.Millisecond {
			// A normal client is served while the slow one holds its connection.
			served = true
			if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
				t.Fatalf("normal client got %d during the slowloris", r.status)
			}
		}
	}
	t.Logf("slow connection ended after %v with %q", end.after, end.got)
	if end.after < 250*time.Millisecond || end.after > 2*time.Second {
		t.Fatalf("slow connection ended after %v, want about read_header (300ms)", end.after)
	}
	if end.got != "" && !strings.HasPrefix(end.got, "HTTP/1.1 400 ") {
		t.Fatalf("the slow client got %q", end.got)
	}
	if !served {
		t.Fatal("the normal client did not run")
	}
	if n := len(up.requests()); n != 1 {
		t.Fatalf("%d upstream requests, want only the normal client's", n)
	}
}

// HTTP/2 counterparts: a connection that stops before its first request —
// after connecting, after the preface, after SETTINGS, half-way through a
// header block, or in a header block that never ends — is closed by the
// TLS handshake deadline (read_header) or the idle timeout; a request
// whose body never comes ends at timeouts.read. All of them at once leave
// the relay serving others, and none reaches the provider.
func TestSlowHTTP2ClientsAreCutWhileOthersAreServed(t *testing.T) {
	t.Parallel() // waits, mostly: alongside the other waiting tests
	for _, proto := range []protocol{h2TLS, h2C} {
		t.Run(string(proto), func(t *testing.T) {
			t.Parallel()
			up := &spy{}
			const readHeader, idle, read = 300 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond
			s := newLiveStackOver(t, proto, up, func(c *config.Config) {
				c.Timeouts.ReadHeader = config.Duration(readHeader)
				c.Timeouts.Idle = config.Duration(idle)
				c.Timeouts.Read = config.Duration(read)
			})
			tok := s.token(nil)
			start := time.Now()

			// Nothing at all after connecting: no TLS ClientHello, or no
			// HTTP/2 preface in clear text.
			silent, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { silent.Close() })
			_ = silent.SetDeadline(time.Now().Add(10 * time.Second))
			silentEnd := make(chan time.Duration, 1)
			go func() {
				_, _ = io.Copy(io.Discard, silent) // to EOF or reset
				silentEnd <- time.Since(start)
			}()
			// The preface, and not even SETTINGS.
			preface := dialH2(t, s, h2Options{noSettings: true})
			// SETTINGS, and no request.
			settled := dialH2(t, s, h2Options{})
			// A HEADERS frame without END_HEADERS, and no CONTINUATION.
			partial := dialH2(t, s, h2Options{quiet: true})
			if err := partial.write(func(fr *http2.Framer) error {
				block := partial.block("POST", "/t/"+tok+"/v1/chat/completions", []h2Field{{"content-type", "application/json"}})
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:len(block)/2]})
			}); err != nil {
				t.Fatal(err)
			}
			// A header block that never ends: empty CONTINUATION frames,
			// as fast as the relay reads them.
			endless := dialH2(t, s, h2Options{quiet: true})
			if err := endless.write(func(fr *http2.Framer) error {
				block := endless.block("POST", "/t/"+tok+"/v1/chat/completions", nil)
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block})
			}); err != nil {
				t.Fatal(err)
			}
			go func() {
				for err := error(nil); err == nil && !endless.closed() && time.Since(start) < 10*time.Second; {
					err = endless.write(func(fr *http2.Framer) error {
						for range 256 {
							if err := fr.WriteContinuation(1, false, nil); err != nil {
								return err
							}
						}
						return nil
					})
				}
			}()
			// A whole header block declaring a body that never comes.
			bodiless := dialH2(t, s, h2Options{})
			bodiless.request(1, "POST", "/t/"+tok+"/v1/chat/completions",
				[]h2Field{{"content-type", "application/json"}, {"content-length", "100"}}, nil, true)

			// Meanwhile an ordinary client is served.
			if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
				t.Fatalf("an ordinary client got %d while the slow ones held their connections", r.status)
			}
			if n := len(up.requests()); n != 1 {
				t.Fatalf("%d upstream requests, want the ordinary client's alone", n)
			}

			within := func(what string, got, lo, hi time.Duration) {
				t.Helper()
				t.Logf("%s: %v", what, got)
				if got < lo || got > hi {
					t.Errorf("%s after %v, want between %v and %v", what, got, lo, hi)
				}
			}
			select {
			case d := <-silentEnd:
				within("a silent connection was closed", d, readHeader*8/10, readHeader+2*time.Second)
			case <-time.After(10 * time.Second):
				t.Fatal("a silent connection stayed open")
			}
			// The idle timeout sends GOAWAY; the connection closes a second
			// later (Go's grace for frames in flight), or at the 2 s Go
			// allows for the first SETTINGS.
			for _, c := range []struct {
				name string
				h    *h2Conn
			}{
				{"a preface without SETTINGS", preface}, {"a connection without a request", settled},
				{"a header block left unfinished", partial}, {"a header block of empty CONTINUATION frames", endless},
			} {
				ended := c.h.awaitClose(10 * time.Second)
				within(c.name+" was closed", ended.Sub(start), idle*8/10, idle+3*time.Second)
			}
			// The body's read deadline ends the request: an error answer or a
			// reset, never a call.
			st := bodiless.await(1, 10*time.Second)
			within("a body that never came was given up", time.Since(start), read*8/10, read+3*time.Second)
			if st.status == 200 || !st.reset && st.status == 0 {
				t.Fatalf("the request whose body never came got %+v", st)
			}
			if n := len(up.requests()); n != 1 {
				t.Fatalf("%d upstream requests, want the ordinary client's alone", n)
			}
		})
	}
}

// A CONTINUATION flood (CVE-2024-27316 class): a header block that never
// ends. Frames that carry header bytes past the limit end the connection
// at once, without the relay buffering them, and the relay serves others.
// (Empty ones, which cost it nothing to skip, last until the idle
// timeout: TestSlowHTTP2ClientsAreCutWhileOthersAreServed.)
func TestAContinuationFloodEndsTheConnectionWithBoundedMemory(t *testing.T) {
	for _, proto := range []protocol{h2TLS, h2C} {
		t.Run(string(proto), func(t *testing.T) {
			up := &spy{}
			s := newLiveStackOver(t, proto, up, func(c *config.Config) {
				c.Limits.MaxHeaderBytes = 16 << 10
				quickShutdown(c)
			})
			path := "/t/" + s.token(nil) + "/v1/chat/completions"
			// Up to 64 MiB of never-indexed 1 KiB fields, in 16 KiB frames.
			h := dialH2(t, s, h2Options{quiet: true})
			var fields bytes.Buffer
			enc := hpack.NewEncoder(&fields)
			for i := 0; fields.Len() < 16<<10; i++ {
				_ = enc.WriteField(hpack.HeaderField{Name: "x-flood-" + strconv.Itoa(i%100), Value: strings.Repeat("f", 1000), Sensitive: true})
			}
			frag := fields.Bytes()[:16<<10]
			before := heapInUse()
			sent, err := 0, h.write(func(fr *http2.Framer) error {
				return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block("POST", path, nil)})
			})
			for ; err == nil && sent < 64<<20 && !h.closed() && h.goAwayFrame() == nil; sent += len(frag) {
				err = h.write(func(fr *http2.Framer) error { return fr.WriteContinuation(1, false, frag) })
			}
			waitUntil(t, 10*time.Second, "the relay to end the connection", func() bool { return h.goAwayFrame() != nil || h.closed() })
			growth := int64(heapInUse()) - int64(before)
			t.Logf("the relay ended the connection (GOAWAY %v) once %d KiB of CONTINUATION frames were sent (last write: %v); heap grew by %.2f MiB",
				h.goAwayFrame(), sent>>10, err, float64(growth)/(1<<20))
			if sent >= 64<<20 {
				t.Fatal("the relay read a 64 MiB header block")
			}
			if g := h.goAwayFrame(); g != nil && g.code == http2.ErrCodeNo {
				t.Fatalf("GOAWAY %v for a header block over the limit", g.code)
			}
			if growth > 4<<20 {
				t.Fatalf("heap grew by %d bytes during a CONTINUATION flood", growth)
			}
			if r := s.do("POST", path, chatBody, nil); r.status != 200 {
				t.Fatalf("relay unusable afterwards: %d", r.status)
			}
			if n := len(up.requests()); n != 1 {
				t.Fatalf("%d upstream requests, want the ordinary client's alone", n)
			}
		})
	}
}

// http2.max_concurrent_streams is advertised in SETTINGS and enforced:
// streams past it are reset (REFUSED_STREAM, or PROTOCOL_ERROR once the
// client acknowledged the setting) and never reach the provider; the
// connection serves again once its streams end.
func TestStreamsPastMaxConcurrentStreamsAreRefusedAndNeverForwarded(t *testing.T) {
	const limit = 4
	for _, proto := range []protocol{h2TLS, h2C} {
		t.Run(string(proto), func(t *testing.T) {
			up := newHoldingUpstream()
			s := newLiveStackOver(t, proto, up, func(c *config.Config) { c.HTTP2.MaxConcurrentStreams = limit })
			t.Cleanup(func() { close(up.stop) })
			tok := s.token(nil)
			path := "/t/" + tok + "/v1/chat/completions"
			h := dialH2(t, s, h2Options{})
			waitUntil(t, 5*time.Second, "the relay's SETTINGS", func() bool {
				_, ok := h.setting(http2.SettingMaxConcurrentStreams)
				return ok
			})
			if n, _ := h.setting(http2.SettingMaxConcurrentStreams); n != limit {
				t.Fatalf("the relay advertises %d concurrent streams, configured %d", n, limit)
			}
			for id := uint32(1); id < 2*limit; id += 2 {
				h.post(id, path, chatBody, h2Field{"x-mock-hold", "1"})
			}
			waitUntil(t, 5*time.Second, "the streams within the limit to reach the provider", func() bool { return up.inFlight.Load() == limit })
			for id := uint32(2*limit + 1); id < 4*limit; id += 2 {
				h.post(id, path, chatBody, h2Field{"x-mock-hold", "1"})
				st := h.await(id, 5*time.Second)
				if !st.reset || st.code != http2.ErrCodeRefusedStream && st.code != http2.ErrCodeProtocol {
					t.Fatalf("stream %d past the limit: %+v, want it reset", id, st)
				}
			}
			// Another client, on its own connection, is served meanwhile.
			if r := s.do("POST", path, chatBody, nil); r.status != 200 {
				t.Fatalf("another client got %d", r.status)
			}
			if seen, _ := up.counts(realKey); seen != limit || up.inFlight.Load() != limit {
				t.Fatalf("the provider saw %d requests (%d in flight), want the %d within the limit", seen, up.inFlight.Load(), limit)
			}
			// Once the held streams end, the connection serves again.
			if err := h.write(func(fr *http2.Framer) error {
				for id := uint32(1); id < 2*limit; id += 2 {
					if err := fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 5*time.Second, "the reset streams' provider requests to be cancelled", func() bool { return up.inFlight.Load() == 0 })
			id := uint32(4*limit + 1)
			h.post(id, path, chatBody)
			if st := h.await(id, 5*time.Second); st.status != 200 {
				t.Fatalf("after the held streams ended, a new one got %+v", st)
			}
		})
	}
}

// An idle connection is closed after timeouts.idle, over every protocol
// (HTTP/2 says GOAWAY first).
func TestIdleConnectionsAreClosedAfterTheIdleTimeout(t *testing.T) {
	t.Parallel() // waits, mostly: alongside the other waiting tests
	const idle = 500 * time.Millisecond
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) {
			t.Parallel()
			s := newLiveStackOver(t, proto, &spy{}, func(c *config.Config) { c.Timeouts.Idle = config.Duration(idle) })
			var served time.Time
			var closed time.Time
			if proto == http1 {
				c := dialRaw(t, s.addr)
				c.send("GET /health HTTP/1.1\r\nHost: relay\r\n\r\n")
				if r, err := c.response(); err != nil || r.status != 200 {
					t.Fatalf("got %d %v", r.status, err)
				}
				served = time.Now()
				if _, err := io.Copy(io.Discard, c.br); err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatal("the idle connection stayed open")
					}
				}
				closed = time.Now()
			} else {
				h := dialH2(t, s, h2Options{})
				h.request(1, "GET", "/health", nil, nil, false)
				if st := h.await(1, 5*time.Second); st.status != 200 {
					t.Fatalf("got %+v", st)
				}
				served = time.Now()
				closed = h.awaitClose(10 * time.Second)
				g := h.goAwayFrame()
				if g == nil || g.code != http2.ErrCodeNo || g.lastStream != 1 {
					t.Fatalf("GOAWAY %+v, want NO_ERROR after stream 1", g)
				}
				if d := g.at.Sub(served); d < idle*8/10 || d > idle+time.Second {
					t.Fatalf("GOAWAY %v after the last answer, want about %v", d, idle)
				}
			}
			d := closed.Sub(served)
			t.Logf("closed %v after the last answer", d)
			if d < idle*8/10 || d > idle+3*time.Second {
				t.Fatalf("the idle connection was closed %v after its last answer, want about %v", d, idle)
			}
		})
	}
}

// streamingUpstream sends an endless (or size-bounded) SSE stream as fast
// as the relay takes it, and reports how much it wrote and whether its
// request was cancelled.
type streamingUpstream struct {
	limit       int64
	contentType string
	written     atomic.Int64
	cancelled   chan struct{}
	once        sync.Once
}

func newStreamingUpstream(limit int64, contentType string) *streamingUpstream {
	return &streamingUpstream{limit: limit, contentType: contentType, cancelled: make(chan struct{})}
}

func (u *streamingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if r.Context().Err() != nil {
			u.once.Do(func() { close(u.cancelled) })
		}
	}()
	w.Header().Set("Content-Type", u.contentType)
	event := []byte("data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("x", 990) + "\"}}]}\n\n")
	var batch []byte
	for range 32 {
		batch = append(batch, event...)
	}
	for u.limit <= 0 || u.written.Load() < u.limit {
		n, err := w.Write(batch)
		u.written.Add(int64(n))
		if err != nil {
			<-r.Context().Done()
			return
		}
		w.(http.Flusher).Flush()
		if r.Context().Err() != nil {
			return
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// stalledClient sends a streaming request, reads the response header and
// about want bytes, then stops reading.
func stalledClient(t *testing.T, addr, tok string, want int) *rawConn {
	t.Helper()
	c := dialRaw(t, addr)
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(16 << 10)
	}
	_ = c.c.SetDeadline(time.Now().Add(30 * time.Second))
	body := `{"model":"gpt-4o","stream":true}`
	c.send("POST /t/" + tok + "/v1/chat/completions HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream did not start: %v", err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, want)); err != nil {
		t.Fatalf("first bytes: %v", err)
	}
	return c
}

// waitStalled waits until the upstream has stopped writing (held back by
// the stalled client) and returns how much it wrote.
func waitStalled(t *testing.T, u *streamingUpstream) int64 {
	t.Helper()
	last, since := int64(-1), time.Now()
	waitUntil(t, 20*time.Second, "the upstream to be held back", func() bool {
		n := u.written.Load()
		if n != last {
			last, since = n, time.Now()
			return false
		}
		return time.Since(since) > 300*time.Millisecond
	})
	return last
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// stalledH2Client sends a streaming request on a raw HTTP/2 connection
// that never returns flow-control credit: the relay may send the first
// 64 KiB (the initial window), then nothing more.
func stalledH2Client(t *testing.T, s *liveStack, tok string) *h2Conn {
	t.Helper()
	h := dialH2(t, s, h2Options{noWindowUpdates: true})
	h.post(1, "/t/"+tok+"/v1/chat/completions", `{"model":"gpt-4o","stream":true}`)
	waitUntil(t, 10*time.Second, "the stream to start", func() bool {
		st := h.snapshot(1)
		return st.status != 0 || st.reset || h.closed()
	})
	if st := h.snapshot(1); st.status != 200 {
		t.Fatalf("stream did not start: %+v", st)
	}
	return h
}

func TestSlowReaderKeepsMemoryBoundedAndItsDepartureCancelsTheUpstream(t *testing.T) {
	const size = 50 << 20
	for _, tc := range []struct {
		proto       protocol
		contentType string
		maxGrowth   int64
	}{
		// A stream is relayed through fixed buffers.
		{http1, "text/event-stream", 8 << 20},
		// A plain body is also copied, up to 8 MiB, for its usage numbers
		// (relay's maxJSONUsageBody); the bound allows that copy's growth.
		{http1, "application/json", 24 << 20},
		// Over HTTP/2 the stalled reader withholds flow-control credit.
		{h2TLS, "text/event-stream", 8 << 20},
		{h2C, "text/event-stream", 8 << 20},
	} {
		t.Run(string(tc.proto)+"/"+tc.contentType, func(t *testing.T) {
			u := newStreamingUpstream(size, tc.contentType)
			s := newLiveStackOver(t, tc.proto, u, nil)
			tok := s.token(nil)
			before := heapInUse()
			var leave func() // the stalled client's
			if tc.proto == http1 {
				c := stalledClient(t, s.addr, tok, 64<<10)
				leave = func() { c.c.Close() }
			} else {
				leave = stalledH2Client(t, s, tok).close
			}
			written := waitStalled(t, u)
			growth := int64(heapInUse()) - int64(before)
			t.Logf("upstream wrote %.1f MiB of %d MiB before being held back; heap in use grew by %.2f MiB",
				float64(written)/(1<<20), size>>20, float64(growth)/(1<<20))
			if written >= size/2 {
				t.Fatalf("the relay read %d bytes for a client that took 64 KiB: no back-pressure", written)
			}
			if growth > tc.maxGrowth {
				t.Fatalf("heap grew by %d bytes while a client stalled on a %d-byte response", growth, size)
			}
			leave()
			select {
			case <-u.cancelled:
			case <-time.After(2 * time.Second):
				t.Fatal("the upstream request was not cancelled after the slow client left")
			}
		})
	}
}

// steadyStream is a slow but steady event stream: 15 events 100 ms apart,
// 1.5 s in all, 5× a write_idle of 300 ms.
func steadyStream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := range 15 {
		fmt.Fprintf(w, "data: {\"n\":%d}\n\n", i)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// readSteady reads a steady stream (x-mock-steady) through the stack's
// client, and says what went wrong unless it arrived whole.
func readSteady(s *liveStack, tok string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Mock-Steady", "1")
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != s.proto.major() {
		return fmt.Errorf("answered over %s", resp.Proto)
	}
	all, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(all), `"n":14`) || !strings.HasSuffix(string(all), "data: [DONE]\n\n") {
		return fmt.Errorf("the stream was cut: %v %q", err, all)
	}
	return nil
}

func TestStalledReaderIsDroppedButHealthyLongStreamsAreNot(t *testing.T) {
	t.Parallel() // waits, mostly: alongside the other waiting tests
	shortWriteIdle := func(c *config.Config) { c.Timeouts.WriteIdle = config.Duration(300 * time.Millisecond) }

	t.Run("http1: a reader that stalls with the connection open is dropped", func(t *testing.T) {
		t.Parallel()
		u := newStreamingUpstream(0, "text/event-stream") // never ends
		s := newLiveStack(t, u, shortWriteIdle)
		// The client reads 64 KiB, then neither reads nor leaves (its
		// connection stays open until the test ends).
		stalledClient(t, s.addr, s.token(nil), 64<<10)
		select {
		case <-u.cancelled:
		case <-time.After(10 * time.Second):
			t.Fatal("the stalled reader still holds its upstream stream")
		}
		// The relay's handler is done (its access log line is written) and
		// its end of the connection closed. (What the client sees then is
		// up to the kernels: an orphaned socket facing a zero window may
		// be dropped without a FIN.)
		waitUntil(t, 5*time.Second, "the relay to give up on the stalled reader", func() bool {
			return strings.Contains(s.logs.String(), `"msg":"request"`)
		})
	})
	// Over HTTP/2 a reader stalls two ways: it keeps reading the socket but
	// returns no flow-control credit (the relay's write waits on the
	// stream's window), or it stops reading altogether (the connection's
	// writes back up). Either way the stream ends after write_idle, while a
	// steady stream on another connection runs to its end meanwhile.
	for _, proto := range []protocol{h2TLS, h2C} {
		for _, stall := range []struct {
			name string
			opts h2Options
		}{
			{"withholds flow-control credit", h2Options{noWindowUpdates: true}},
			{"stops reading its socket", h2Options{noRead: true, connWindow: 1 << 30,
				settings: []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 1 << 30}}}},
		} {
			t.Run(string(proto)+": a reader that "+stall.name+" is dropped, a steady stream is not", func(t *testing.T) {
				t.Parallel()
				flood := newStreamingUpstream(0, "text/event-stream") // never ends
				up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Mock-Steady") != "" {
						steadyStream(w, r)
						return
					}
					flood.ServeHTTP(w, r)
				})
				s := newLiveStackOver(t, proto, up, shortWriteIdle)
				tok := s.token(nil)
				healthy := make(chan error, 1)
				go func() { healthy <- readSteady(s, tok) }()
				h := dialH2(t, s, stall.opts)
				h.post(1, "/t/"+tok+"/v1/chat/completions", `{"model":"gpt-4o","stream":true}`)
				// Over TLS, a peer that stopped reading also holds up the
				// close_notify alert crypto/tls sends on closing, for up to
				// 5 s, before the relay's HTTP/2 server ends its streams.
				start := time.Now()
				select {
				case <-flood.cancelled:
					t.Logf("the upstream request was cancelled after %v", time.Since(start))
				case <-time.After(10 * time.Second):
					t.Fatal("the stalled reader still holds its upstream stream")
				}
				if !stall.opts.noRead {
					if st := h.await(1, 5*time.Second); st.status != 200 || !st.reset || st.ended {
						t.Fatalf("the stalled stream: %+v, want it started and then reset", st)
					}
				}
				if err := <-healthy; err != nil {
					t.Fatalf("the steady stream: %v", err)
				}
			})
		}
	}
	for _, proto := range allProtocols {
		t.Run(string(proto)+": a slow but steady stream outlives the write idle timeout many times", func(t *testing.T) {
			t.Parallel()
			s := newLiveStackOver(t, proto, http.HandlerFunc(steadyStream), shortWriteIdle)
			if err := readSteady(s, s.token(nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 7. Tampering: bit flips and the timing of rejections

// pathSegment escapes s for a path segment, keeping every byte a token
// may hold as is.
func pathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestEverySingleBitFlipOfATokenGetsTheSameAnswer(t *testing.T) {
	t.Parallel() // thousands of calls: alongside the tests that mostly wait
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) { testBitFlips(t, proto) })
	}
}

func testBitFlips(t *testing.T, proto protocol) {
	up := &spy{}
	s := newLiveStackOver(t, proto, up, nil)
	tok := s.token(nil)
	if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.status != 200 {
		t.Fatalf("the untouched token fails: %d", r.status)
	}
	up.reset()
	ref := s.do("POST", "/t/not-a-token/v1/chat/completions", chatBody, nil)
	if ref.status != 401 || ref.code() != "invalid_token" {
		t.Fatalf("reference: %d %s", ref.status, ref.body)
	}
	signature := func(h http.Header) string {
		var names []string
		for name, v := range h {
			if name == "Date" || name == "X-Request-Id" || name == "Request-Id" {
				continue
			}
			names = append(names, name+": "+strings.Join(v, ","))
		}
		sort.Strings(names)
		return strings.Join(names, "\n")
	}
	want := signature(ref.header)
	// Every character over HTTP/1.1; over HTTP/2, which changes only how
	// the token travels (HPACK, :path), every bit of every third one.
	stride := 1
	if proto != http1 {
		stride = 3
	}
	flips := 0
	for i := 0; i < len(tok); i += stride {
		for bit := 0; bit < 8; bit++ {
			b := []byte(tok)
			b[i] ^= 1 << bit
			flipped := string(b)
			var r response
			if c := b[i]; bit%2 == 1 && c > 0x20 && c < 0x7f {
				r = s.do("POST", "/v1/chat/completions", chatBody, map[string]string{"Authorization": "Bearer " + flipped})
			} else {
				r = s.do("POST", "/t/"+pathSegment(flipped)+"/v1/chat/completions", chatBody, nil)
			}
			flips++
			if r.status != ref.status || !bytes.Equal(r.body, ref.body) || signature(r.header) != want {
				t.Fatalf("flip of bit %d of character %d (%q→%q): %d %s\n%s\nwant %d %s\n%s",
					bit, i, tok[i], b[i], r.status, r.body, signature(r.header), ref.status, ref.body, want)
			}
		}
	}
	if n := len(up.requests()); n != 0 {
		t.Fatalf("%d flipped tokens reached the provider", n)
	}
	t.Logf("%d single-bit flips of a %d-character token: all answered identically", flips, len(tok))
}

type tokenVector struct {
	Name, Token, Error string
}

func loadTokenVectors(t *testing.T) (map[string]tokenVector, *token.Keyring) {
	t.Helper()
	dir := "../../../testdata/vectors"
	data, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var suite struct{ Vectors []tokenVector }
	if err := json.Unmarshal(data, &suite); err != nil {
		t.Fatal(err)
	}
	byName := map[string]tokenVector{}
	for _, v := range suite.Vectors {
		byName[v.Name] = v
	}
	f, err := rai.Load(filepath.Join(dir, "aes.rai"))
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeyring()
	if err := f.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	return byName, keys
}

// rejectionMedians times fn over each group's tokens, interleaving the
// groups so that machine noise hits them alike, and returns the median
// time per call of each group.
func rejectionMedians(groups map[string][]string, fn func(string)) map[string]time.Duration {
	const rounds, batch = 301, 16
	samples := map[string][]time.Duration{}
	for range rounds {
		for name, toks := range groups {
			start := time.Now()
			for i := range batch {
				fn(toks[i%len(toks)])
			}
			samples[name] = append(samples[name], time.Since(start)/batch)
		}
	}
	medians := map[string]time.Duration{}
	for name, d := range samples {
		slices.Sort(d)
		medians[name] = d[len(d)/2]
	}
	return medians
}

func spread(m map[string]time.Duration) float64 {
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for _, d := range m {
		lo, hi = min(lo, d), max(hi, d)
	}
	return float64(hi) / float64(max(lo, 1))
}

func TestTokenRejectionsShareOneTimingClass(t *testing.T) {
	vectors, keys := loadTokenVectors(t)
	pick := func(names ...string) []string {
		var toks []string
		for _, n := range names {
			v, ok := vectors[n]
			if !ok || v.Error != "invalid_token" {
				t.Fatalf("vector %s missing or not invalid_token", n)
			}
			if _, err := keys.Open(v.Token); !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("vector %s: %v", n, err)
			}
			toks = append(toks, v.Token)
		}
		return toks
	}
	groups := map[string][]string{
		"bad base64":             pick("aes-non-base64", "aes-six-parts", "aes-truncated"),
		"bad tag":                pick("aes-tampered-tag", "aes-tampered-ciphertext", "aes-tampered-iv", "aes-wrong-key"),
		"bad JSON/unknown claim": pick("aes-unknown-claim", "aes-claims-not-object", "aes-claim-wrong-type"),
	}
	// What the relay runs on a token: the intake screen, then the keyring.
	relay := rejectionMedians(groups, func(tok string) { _, _ = keys.Open(intake.Screen(tok)) })
	// The keyring alone (sdk/go/token).
	raw := rejectionMedians(groups, func(tok string) { _, _ = keys.Open(tok) })
	t.Logf("median rejection time at the relay (screen + Keyring.Open): %v — spread %.2f×", relay, spread(relay))
	t.Logf("median rejection time of Keyring.Open alone: %v — spread %.2f×", raw, spread(raw))
	if f := spread(relay); f > 3 {
		t.Fatalf("token rejections at the relay fall into distinguishable timing classes (%.1f× apart): %v", f, relay)
	}
	// Past the tag only a key holder gets: within the keyring, failing the
	// tag and failing the claims must not be told apart either.
	authn := map[string]time.Duration{"bad tag": raw["bad tag"], "bad claims": raw["bad JSON/unknown claim"]}
	if f := spread(authn); f > 3 {
		t.Fatalf("Keyring.Open tells a bad tag from bad claims by timing (%.1f×): %v", f, authn)
	}
}

// ---------------------------------------------------------------------------
// 8. Methods, Host, HTTP/1.0, pipelining, preflight

func TestOddMethodsHostsAndFraming(t *testing.T) {
	up := &spy{respond: func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodTrace {
			// A TRACE-honouring upstream echoes the request, headers included.
			w.Header().Set("Content-Type", "message/http")
			_ = r.Header.Write(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}}
	s := newLiveStack(t, up, func(c *config.Config) { c.Limits.MaxHeaderBytes = 64 << 10 })
	upHost := strings.TrimPrefix(s.upstream.URL, "http://")
	// Paths "/*": the framing cases use paths that are no inference
	// endpoints.
	tok := s.token(func(c *token.Claims) { c.Paths = []string{"/*"} })

	for _, method := range []string{"TRACE", "TRACK", "CONNECT", "PROPFIND", "FOO"} {
		t.Run("method "+method, func(t *testing.T) {
			up.reset()
			target := "/t/" + tok + "/v1/models"
			if method == "CONNECT" {
				target = "evil.example:443"
			}
			r := roundTrip(t, s.addr, method+" "+target+" HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
			if r.status != 400 || r.code() != "bad_request" || bytes.Contains(r.body, []byte(realKey)) {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if n := len(up.requests()); n != 0 {
				t.Fatalf("%s reached the provider", method)
			}
		})
	}
	t.Run("garbage and foreign Host headers", func(t *testing.T) {
		for _, h := range []struct {
			host   string
			status int
		}{
			{"evil.example", 200}, {"127.0.0.1:1", 200}, {"", 200},
			{"a b", 400}, {"evil.example/x", 400}, {"user@evil.example", 400}, {"evil\x01.example", 400},
		} {
			up.reset()
			r := roundTrip(t, s.addr, "GET /t/"+tok+"/v1/models HTTP/1.1\r\nHost: "+h.host+"\r\n\r\n")
			seen := up.requests()
			if r.status != h.status {
				t.Fatalf("Host %q: got %d, want %d", h.host, r.status, h.status)
			}
			if h.status == 200 && (len(seen) != 1 || seen[0].Host != upHost) {
				t.Fatalf("Host %q: upstream saw %+v", h.host, seen)
			}
			if h.status != 200 && len(seen) != 0 {
				t.Fatalf("Host %q reached the provider", h.host)
			}
		}
		up.reset()
		if r := roundTrip(t, s.addr, "GET /t/"+tok+"/v1/models HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"); r.status != 400 || len(up.requests()) != 0 {
			t.Fatalf("two Host headers: %d", r.status)
		}
	})
	t.Run("HTTP/1.0 without Host", func(t *testing.T) {
		up.reset()
		c := dialRaw(t, s.addr)
		c.send("GET /t/" + tok + "/v1/models HTTP/1.0\r\n\r\n")
		r, err := c.response()
		seen := up.requests()
		if err != nil || r.status != 200 || len(seen) != 1 || seen[0].Host != upHost {
			t.Fatalf("got %d %v, upstream %+v", r.status, err, seen)
		}
		if !c.closedByPeer() {
			t.Fatal("an HTTP/1.0 connection without keep-alive stayed open")
		}
	})
	t.Run("pipelined requests", func(t *testing.T) {
		up.reset()
		c := dialRaw(t, s.addr)
		c.send("GET /t/" + tok + "/v1/one HTTP/1.1\r\nHost: relay\r\n\r\n" +
			"POST /t/" + tok + "/v1/two HTTP/1.1\r\nHost: relay\r\nContent-Length: 2\r\n\r\n{}" +
			"GET /t/" + tok + "/v1/three HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
		for i := range 3 {
			if r, err := c.response(); err != nil || r.status != 200 {
				t.Fatalf("response %d: %d %v", i, r.status, err)
			}
		}
		var uris []string
		for _, r := range up.requests() {
			uris = append(uris, r.Method+" "+r.URI)
		}
		if strings.Join(uris, ",") != "GET /v1/one,POST /v1/two,GET /v1/three" {
			t.Fatalf("upstream saw %v", uris)
		}
	})
	t.Run("preflight with a huge Access-Control-Request-Headers", func(t *testing.T) {
		up.reset()
		names := strings.Repeat("x-custom-header-name, ", 1500) // ≈ 33 KiB
		r := roundTrip(t, s.addr, "OPTIONS /t/"+tok+"/v1/chat/completions HTTP/1.1\r\nHost: relay\r\nOrigin: https://app.example\r\n"+
			"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: "+names+"\r\n\r\n")
		if r.status != 204 || len(up.requests()) != 0 {
			t.Fatalf("got %d, %d upstream", r.status, len(up.requests()))
		}
		r = roundTrip(t, s.addr, "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nOrigin: https://app.example\r\n"+
			"Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: "+strings.Repeat(names, 4)+"\r\n\r\n")
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("preflight over the header limit: %d", r.status)
		}
	})
}
