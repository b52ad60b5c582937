package server_test

// Streaming, CORS, client-disconnect cancellation and the per-token limits
// behave the same over HTTP/1.1, HTTP/2 over TLS and h2c (issue 19). Over
// HTTP/2 one connection carries many requests at once: multiplexing must
// not let a token get more than it names.

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// gatedStream is an upstream that sends one SSE event, then waits for the
// test to open the gate before finishing, and records whether its request
// was cancelled.
type gatedStream struct {
	gate      chan struct{}
	started   chan struct{}
	cancelled chan struct{}
	once      sync.Once
}

func newGatedStream() *gatedStream {
	return &gatedStream{gate: make(chan struct{}), started: make(chan struct{}, 16), cancelled: make(chan struct{}, 16)}
}

func (g *gatedStream) open() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"first\"}}]}\n\n")
	w.(http.Flusher).Flush()
	g.started <- struct{}{}
	select {
	case <-g.gate:
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"last\"}}]}\n\ndata: [DONE]\n\n")
	case <-r.Context().Done():
		g.cancelled <- struct{}{}
	}
}

// openStream starts a streamed call and returns its reader once the first
// event arrived: the relay passed it on before the upstream finished.
func openStream(t *testing.T, s *liveStack, ctx context.Context, tok string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(streamBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantProto(t, s.proto, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(line, "first") {
		t.Fatalf("first event: %q %v", line, err)
	}
	return resp, rd
}

func TestStreamsArriveEventByEventOverEveryProtocol(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) {
			up := newGatedStream()
			s := newLiveStackOver(t, proto, up, nil)
			// The upstream holds the rest back until the client has the
			// first event: a relay that buffered would never deliver it.
			resp, rd := openStream(t, s, context.Background(), s.token(nil))
			defer resp.Body.Close()
			up.open()
			rest, err := readAll(rd)
			if err != nil || !strings.Contains(rest, "last") || !strings.Contains(rest, "[DONE]") {
				t.Fatalf("rest of the stream: %q %v", rest, err)
			}
		})
	}
}

func readAll(rd *bufio.Reader) (string, error) {
	var b strings.Builder
	_, err := rd.WriteTo(&b)
	return b.String(), err
}

func TestCORSAndOriginChecksHoldOverEveryProtocol(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) {
			mock := mockprovider.New(mockprovider.Options{})
			s := newLiveStackOver(t, proto, mock, nil)
			pre := s.do("OPTIONS", "/v1/chat/completions", "", map[string]string{
				"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization, content-type",
			})
			if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("preflight: %d %v", pre.status, pre.header)
			}
			tok := s.token(func(c *token.Claims) { c.Origins = []string{"https://good.example"} })
			bad := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, map[string]string{"Origin": "https://evil.example"})
			if bad.status != 403 || bad.code() != "origin_not_allowed" {
				t.Fatalf("foreign origin: %d %s", bad.status, bad.body)
			}
			good := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, map[string]string{"Origin": "https://good.example"})
			if good.status != 200 || good.header.Get("Access-Control-Allow-Origin") != "https://good.example" {
				t.Fatalf("own origin: %d %v", good.status, good.header)
			}
			if mock.Stats().Requests != 1 {
				t.Fatalf("the provider saw %d requests, want the allowed one only", mock.Stats().Requests)
			}
		})
	}
}

func TestALeavingClientCancelsTheUpstreamAndFreesItsSlotOverEveryProtocol(t *testing.T) {
	for _, proto := range allProtocols {
		t.Run(string(proto), func(t *testing.T) {
			up := newGatedStream()
			s := newLiveStackOver(t, proto, up, nil)
			tok := s.token(func(c *token.Claims) { c.Concurrency = 1 })
			ctx, cancel := context.WithCancel(context.Background())
			resp, _ := openStream(t, s, ctx, tok)
			if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", chatBody, nil); r.code() != "concurrency_limited" {
				t.Fatalf("second call while streaming: %d %s", r.status, r.body)
			}
			// Over HTTP/2 leaving is a RST_STREAM on a connection that stays open.
			cancel()
			resp.Body.Close()
			select {
			case <-up.cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream request was not cancelled")
			}
			up.open()
			eventually(t, "the slot to be released", func() bool {
				return s.do("POST", "/t/"+tok+"/v1/chat/completions", streamBody, nil).status == 200
			})
		})
	}
}

// Many requests multiplexed on one HTTP/2 connection still meet the
// token's concurrency and call limits exactly.
func TestMultiplexedRequestsGetNoMoreThanTheTokenNames(t *testing.T) {
	for _, proto := range []protocol{h2TLS, h2C} {
		t.Run(string(proto), func(t *testing.T) {
			up := newGatedStream()
			s := newLiveStackOver(t, proto, up, nil)
			const callers, slots, calls = 12, 3, 5
			tok := s.token(func(c *token.Claims) { c.Concurrency = slots; c.MaxCalls = calls })
			var admitted, limited atomic.Int32
			var wg sync.WaitGroup
			bodies := make(chan *http.Response, callers)
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("POST", s.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(streamBody))
					resp, err := s.client().Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					wantProto(t, proto, resp)
					switch resp.StatusCode {
					case 200:
						admitted.Add(1)
						bodies <- resp
						return
					case 429:
						limited.Add(1)
					default:
						t.Errorf("status %d", resp.StatusCode)
					}
					resp.Body.Close()
				}()
			}
			wg.Wait()
			if admitted.Load() != slots || limited.Load() != callers-slots {
				t.Fatalf("%d admitted, %d limited; want %d and %d", admitted.Load(), limited.Load(), slots, callers-slots)
			}
			up.open()
			close(bodies)
			for resp := range bodies {
				_, _ = readAll(bufio.NewReader(resp.Body))
				resp.Body.Close()
			}
			// The calls left after the streams: calls-slots more, then 429.
			var ok int
			for range callers {
				if r := s.do("POST", "/t/"+tok+"/v1/chat/completions", streamBody, nil); r.status == 200 {
					ok++
				} else if r.code() != "call_limit_exceeded" {
					t.Fatalf("after the streams: %d %s", r.status, r.body)
				}
			}
			if ok != calls-slots {
				t.Fatalf("%d more calls went through, want %d", ok, calls-slots)
			}
			if n := len(up.started); n != calls {
				t.Fatalf("the provider saw %d calls on a %d-call token", n, calls)
			}
		})
	}
}
