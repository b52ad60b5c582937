package server_test

// Upstream and client faults (issue 8): for each one the client gets a
// clear outcome, the concurrency lease and the budget reservation are
// released, the call is refunded or counted as docs/api.md says, and no
// goroutine is left behind.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// cancelBound is how soon a client that leaves must stop the upstream.
const cancelBound = time.Second

const streamBody = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a long answer please"}]}`

// watched wraps the mock provider: it records when a request's context
// ended while the handler was still running (the moment the provider sees
// the cancel) and counts the bytes the handler wrote.
type watched struct {
	h       http.Handler
	mu      sync.Mutex
	ended   []time.Time
	written atomic.Int64
}

func (w *watched) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	stop := context.AfterFunc(r.Context(), func() {
		w.mu.Lock()
		w.ended = append(w.ended, time.Now())
		w.mu.Unlock()
	})
	defer stop()
	w.h.ServeHTTP(&countingWriter{ResponseWriter: rw, n: &w.written}, r)
}

// canceledAt returns when the i-th cancelled upstream request saw its
// context end, waiting (bounded) for it.
func (w *watched) canceledAt(t *testing.T, i int, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		if len(w.ended) > i {
			at := w.ended[i]
			w.mu.Unlock()
			return at
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the upstream request was not cancelled within %v", within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// faultRig is a relay stack in front of the (watched) mock provider, with
// a client of its own so its idle connections can be closed before the
// goroutine check, and a goroutine baseline taken once the stack is warm.
type faultRig struct {
	*stack
	t        *testing.T
	mock     *mockprovider.Provider
	up       *watched
	client   *http.Client
	extra    []*httptest.Server
	baseline goleak.Option
}

func newFaultRig(t *testing.T, mutate func(*config.Config), extra ...*httptest.Server) *faultRig {
	t.Helper()
	mock := mockprovider.New(mockprovider.Options{})
	up := &watched{h: mock}
	s := newStack(t, up, func(c *config.Config) {
		c.Upstream.RetryBase = config.Duration(10 * time.Millisecond)
		if mutate != nil {
			mutate(c)
		}
	})
	r := &faultRig{stack: s, t: t, mock: mock, up: up, client: &http.Client{Transport: &http.Transport{}}, extra: extra}
	// Runs before the stack's own cleanup: a test that failed with a call
	// stuck upstream must not hang in httptest's Close.
	t.Cleanup(func() {
		r.client.CloseIdleConnections()
		s.upstream.CloseClientConnections()
	})
	// Warm up what starts lazily (store connections, request log), so the
	// baseline holds only what lives as long as the stack.
	warm := cliID()
	if w := r.call(s.token(func(c *token.Claims) { c.ID = warm }), chatBody, nil); w.status != 200 {
		t.Fatalf("warm-up call: %d %s", w.status, w.body)
	}
	r.adminUsage(warm)
	r.closeIdle()
	mock.Reset()
	up.mu.Lock()
	up.ended = nil
	up.mu.Unlock()
	r.baseline = goleak.IgnoreCurrent()
	return r
}

// faultToken allows one call at a time, with a budget (so a reservation is
// taken) and calls to spare.
func (r *faultRig) faultToken(provider string) (id, tok string) {
	return r.budgetToken(provider, 1_000_000)
}

func (r *faultRig) budgetToken(provider string, budget int64) (id, tok string) {
	id = cliID()
	tok = r.token(func(c *token.Claims) {
		c.ID, c.Concurrency, c.TokenBudget, c.MaxCalls = id, 1, budget, 100
		if provider != "" {
			c.Provider = provider
		}
	})
	return id, tok
}

func (r *faultRig) request(ctx context.Context, tok, body string, headers map[string]string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "POST", r.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// call makes a whole call with the rig's client.
func (r *faultRig) call(tok, body string, headers map[string]string) response {
	r.t.Helper()
	resp, err := r.client.Do(r.request(context.Background(), tok, body, headers))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("reading the answer: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// openStream starts a streamed call and reads the role chunk and n content
// chunks; cancel ends the client's side.
func (r *faultRig) openStream(tok string, headers map[string]string, n int) (rd *bufio.Reader, resp *http.Response, cancel context.CancelFunc) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := r.client.Do(r.request(ctx, tok, streamBody, headers))
	if err != nil {
		cancel()
		r.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		r.t.Fatalf("stream answered %d", resp.StatusCode)
	}
	rd = bufio.NewReader(resp.Body)
	for seen := 0; seen < n+1; {
		line, err := rd.ReadString('\n')
		if err != nil {
			cancel()
			r.t.Fatalf("after %d events: %v", seen, err)
		}
		if strings.HasPrefix(line, "data:") {
			seen++
		}
	}
	return rd, resp, cancel
}

// relayError checks a relay-made error: status, code and the documented
// shape.
func relayError(t *testing.T, r response, status int, code string) {
	t.Helper()
	var e struct {
		Error struct{ Message, Type, Code string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != status || e.Error.Code != code ||
		e.Error.Type != "relayapi_error" || e.Error.Message == "" {
		t.Fatalf("want %d %s in the relay's error shape, got %d %s", status, code, r.status, r.body)
	}
}

// settled waits (bounded) for the call's settlement — the budget
// reservation released — and checks the calls it counts.
func (r *faultRig) settled(id string, calls int64) map[string]any {
	r.t.Helper()
	var u map[string]any
	eventually(r.t, "the budget reservation to be released", func() bool {
		u = r.adminUsage(id)
		return num(u["tokens_reserved"]) == 0
	})
	if num(u["calls"]) != calls {
		r.t.Fatalf("calls %d, want %d (%v)", num(u["calls"]), calls, u)
	}
	return u
}

// logged waits (bounded) for the call's request-log line.
func (r *faultRig) logged(id string) map[string]any {
	r.t.Helper()
	var rec map[string]any
	eventually(r.t, "the request log", func() bool {
		resp := r.do("GET", "/admin/requests?jti="+id, "", map[string]string{"Authorization": "Bearer " + adminKey})
		var page struct{ Data []map[string]any }
		if json.Unmarshal(resp.body, &page) != nil || len(page.Data) == 0 {
			return false
		}
		rec = page.Data[len(page.Data)-1] // newest first: the fault is the oldest
		return true
	})
	return rec
}

// leaseFree proves the concurrency-1 token's slot is free again: a new
// call is admitted and answered want (not concurrency_limited).
func (r *faultRig) leaseFree(tok string, want int) {
	r.t.Helper()
	if got := r.call(tok, chatBody, nil); got.status != want || got.code() == "concurrency_limited" {
		r.t.Fatalf("the next call: %d %s, want %d", got.status, got.body, want)
	}
}

func (r *faultRig) closeIdle() {
	r.client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	r.upstream.CloseClientConnections() // the relay's pooled connections
	for _, s := range r.extra {
		s.CloseClientConnections()
	}
}

// noLeaks closes every idle connection, then checks (bounded) that no
// goroutine outlives the call.
func (r *faultRig) noLeaks() {
	r.t.Helper()
	r.closeIdle()
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for goleak.Find(r.baseline) != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Logf("goroutines settled in %v", time.Since(start))
	goleak.VerifyNone(r.t, r.baseline)
}

func TestFaultConnectionRefused(t *testing.T) {
	r := newFaultRig(t, func(c *config.Config) {
		c.Providers["refused"] = config.Provider{BaseURL: "http://127.0.0.1:1", Auth: "bearer"}
	})
	id, tok := r.faultToken("refused")
	relayError(t, r.call(tok, chatBody, nil), 502, "upstream_unreachable")
	u := r.settled(id, 0) // refunded
	if u["last_error"] != "upstream_unreachable" {
		t.Fatalf("last_error %v", u["last_error"])
	}
	r.leaseFree(tok, 502)
	r.noLeaks()
}

func TestFaultDNSFailure(t *testing.T) {
	queries := fakeNXDOMAIN(t, "relayapi-test.invalid")
	r := newFaultRig(t, func(c *config.Config) {
		c.Providers["nxdomain"] = config.Provider{BaseURL: "http://relayapi-test.invalid", Auth: "bearer"}
	})
	id, tok := r.faultToken("nxdomain")
	relayError(t, r.call(tok, chatBody, nil), 502, "upstream_unreachable")
	if queries.Load() == 0 {
		t.Fatal("the relay never asked DNS (the fake resolver was bypassed)")
	}
	r.settled(id, 0)
	r.leaseFree(tok, 502)
	r.noLeaks()
}

func TestFaultTLSCertificateNotTrusted(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	untrusted := httptest.NewUnstartedServer(mock)
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // "TLS handshake error" noise
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	r := newFaultRig(t, func(c *config.Config) {
		c.Providers["untrusted"] = config.Provider{BaseURL: untrusted.URL, Auth: "bearer"}
	}, untrusted)
	id, tok := r.faultToken("untrusted")
	relayError(t, r.call(tok, chatBody, nil), 502, "upstream_unreachable")
	if n := mock.Stats().Requests; n != 0 {
		t.Fatalf("%d requests reached a provider the relay must not trust", n)
	}
	r.settled(id, 0)
	r.leaseFree(tok, 502)
	r.noLeaks()
}

// A provider that accepts TCP but never completes the TLS handshake: the
// handshake times out after timeouts.upstream_dial — a TLS failure, so 502
// upstream_unreachable (504 is only for a provider that was reached but
// sent no headers in time).
func TestFaultTLSHandshakeStalls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepted
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	r := newFaultRig(t, func(c *config.Config) {
		c.Timeouts.UpstreamDial = config.Duration(300 * time.Millisecond)
		c.Providers["silent"] = config.Provider{BaseURL: "https://" + ln.Addr().String(), Auth: "bearer"}
	})
	id, tok := r.faultToken("silent")
	start := time.Now()
	relayError(t, r.call(tok, chatBody, nil), 502, "upstream_unreachable")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the handshake timeout took %v", took)
	}
	r.settled(id, 0)
	r.leaseFree(tok, 502)
	r.noLeaks()
}

func TestFaultTimeoutBeforeHeaders(t *testing.T) {
	r := newFaultRig(t, func(c *config.Config) {
		c.Timeouts.UpstreamResponseHeader = config.Duration(300 * time.Millisecond)
	})
	id, tok := r.faultToken("")
	start := time.Now()
	relayError(t, r.call(tok, chatBody, map[string]string{"x-mock-delay-ms": "30000"}), 504, "upstream_timeout")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the header timeout took %v", took)
	}
	r.up.canceledAt(t, 0, 5*time.Second) // the provider sees the request abandoned
	if n := r.mock.Stats().Requests; n != 1 {
		t.Fatalf("%d upstream attempts; a header timeout is not retried", n)
	}
	r.settled(id, 0)
	r.leaseFree(tok, 200)
	r.noLeaks()
}

func TestFault5xxIsRetriedThenPassedThroughAndRefunded(t *testing.T) {
	r := newFaultRig(t, nil)
	id, tok := r.faultToken("")
	got := r.call(tok, chatBody, map[string]string{"x-mock-status": "503"})
	var e struct {
		Error struct{ Message, Type string } `json:"error"`
	}
	if err := json.Unmarshal(got.body, &e); err != nil || got.status != 503 || e.Error.Type != "server_error" ||
		!strings.Contains(e.Error.Message, "x-mock-status 503") {
		t.Fatalf("the provider's 503 must pass through unchanged: %d %s", got.status, got.body)
	}
	if n := r.mock.Stats().Requests; n != 3 { // upstream.max_retries = 2
		t.Fatalf("%d upstream attempts, want 3", n)
	}
	r.settled(id, 0)
	// A 5xx that heals on the retry is answered and counted once.
	heal := map[string]string{"x-mock-status": "500", "x-mock-fail-first": "1", "x-mock-fault-id": id}
	if got := r.call(tok, chatBody, heal); got.status != 200 {
		t.Fatalf("after a healed 5xx: %d %s", got.status, got.body)
	}
	r.settled(id, 1)
	r.leaseFree(tok, 200)
	r.noLeaks()
}

func TestFault429RetryAfterIsHonouredWithinTheRetryWindow(t *testing.T) {
	r := newFaultRig(t, func(c *config.Config) {
		c.Upstream.RetryMaxTotal = config.Duration(5 * time.Second)
	})
	id, tok := r.faultToken("")
	headers := map[string]string{"x-mock-status": "429", "x-mock-retry-after": "1", "x-mock-fail-first": "1", "x-mock-fault-id": id}
	if got := r.call(tok, chatBody, headers); got.status != 200 {
		t.Fatalf("a 429 with Retry-After: 1 within retry_max_total must be retried: %d %s", got.status, got.body)
	}
	var reqs []mockprovider.Request
	eventually(t, "both upstream attempts to finish", func() bool {
		reqs = r.mock.Requests()
		return len(reqs) == 2 && reqs[1].Status != 0
	})
	if reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("upstream attempts %+v", reqs)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Fatalf("retried after %v, before the provider's Retry-After of 1s", gap)
	}
	r.settled(id, 1)
	r.leaseFree(tok, 200)
	r.noLeaks()
}

func TestFault429RetryAfterBeyondTheRetryWindowPassesThrough(t *testing.T) {
	r := newFaultRig(t, func(c *config.Config) {
		c.Upstream.RetryMaxTotal = config.Duration(5 * time.Second)
	})
	id, tok := r.faultToken("")
	start := time.Now()
	got := r.call(tok, chatBody, map[string]string{"x-mock-status": "429", "x-mock-retry-after": "30"})
	took := time.Since(start)
	var e struct {
		Error struct{ Type, Code string } `json:"error"`
	}
	if err := json.Unmarshal(got.body, &e); err != nil || got.status != 429 || e.Error.Code != "rate_limit_exceeded" ||
		got.header.Get("Retry-After") != "30" {
		t.Fatalf("the provider's 429 and its Retry-After must pass through: %d %v %s", got.status, got.header, got.body)
	}
	if n := r.mock.Stats().Requests; n != 1 || took > 3*time.Second {
		t.Fatalf("%d upstream attempts in %v; a Retry-After past retry_max_total is answered at once", n, took)
	}
	// A provider 4xx is not in the refund list (docs/api.md "Refunds").
	r.settled(id, 1)
	r.leaseFree(tok, 200)
	r.noLeaks()
}

func TestFaultStreamCutMidway(t *testing.T) {
	r := newFaultRig(t, nil)
	id, tok := r.faultToken("")
	rd, resp, cancel := r.openStream(tok, map[string]string{"x-mock-chunks": "10", "x-mock-disconnect-after": "3"}, 3)
	defer cancel()
	rest, err := io.ReadAll(rd)
	resp.Body.Close()
	if err == nil || bytes.Contains(rest, []byte("[DONE]")) {
		t.Fatalf("a cut stream must end with an error, not cleanly: err %v, rest %q", err, rest)
	}
	u := r.settled(id, 1) // bytes reached the client: the call stays spent
	if num(u["prompt_tokens"]) == 0 || num(u["completion_tokens"]) < 3 {
		t.Fatalf("the cut stream must be charged its estimate: %v", u)
	}
	rec := r.logged(id)
	if rec["estimated"] != true || rec["error_code"] != "upstream_unreachable" {
		t.Fatalf("request log %v", rec)
	}
	r.leaseFree(tok, 200)
	r.noLeaks()
}

// A client that leaves a stream: with on_disconnect=cancel the provider
// sees the cancel within cancelBound; with drain the relay keeps reading
// it (for exact usage) and stops at drain_timeout. The upstream stream
// either never ends or stalls after its headers and two chunks.
func TestFaultClientDisconnectsMidStream(t *testing.T) {
	const drainTimeout = time.Second
	for _, tc := range []struct {
		name    string
		drain   bool
		headers map[string]string
	}{
		{"cancel/never-ending", false, map[string]string{"x-mock-stream-forever": "1", "x-mock-chunk-delay-ms": "5"}},
		{"cancel/stalled", false, map[string]string{"x-mock-stall-after": "2"}},
		{"drain/never-ending", true, map[string]string{"x-mock-stream-forever": "1", "x-mock-chunk-delay-ms": "5"}},
		{"drain/stalled", true, map[string]string{"x-mock-stall-after": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFaultRig(t, func(c *config.Config) {
				if tc.drain {
					c.Accounting.OnDisconnect = "drain"
					c.Accounting.DrainTimeout = config.Duration(drainTimeout)
				}
			})
			id, tok := r.faultToken("")
			_, resp, cancel := r.openStream(tok, tc.headers, 2)
			left := time.Now()
			cancel()
			resp.Body.Close()
			latency := r.up.canceledAt(t, 0, drainTimeout+5*time.Second).Sub(left)
			t.Logf("client left → upstream cancelled: %v", latency)
			switch {
			case !tc.drain && latency > cancelBound:
				t.Fatalf("upstream cancelled %v after the client left, want ≤ %v", latency, cancelBound)
			case tc.drain && (latency < drainTimeout-50*time.Millisecond || latency > drainTimeout+cancelBound):
				t.Fatalf("drain ended %v after the client left, want drain_timeout %v (+ ≤ %v)", latency, drainTimeout, cancelBound)
			}
			u := r.settled(id, 1)
			if num(u["prompt_tokens"]) == 0 || num(u["completion_tokens"]) < 2 {
				t.Fatalf("the stream must be charged its estimate: %v", u)
			}
			if tc.drain && tc.headers["x-mock-stream-forever"] != "" && num(u["completion_tokens"]) < 12 {
				// The client saw 2 chunks (≤ 4 tokens); ~200 more came during the drain.
				t.Fatalf("drain mode did not keep reading the provider: %v", u)
			}
			if rec := r.logged(id); rec["estimated"] != true {
				t.Fatalf("request log %v", rec)
			}
			eventually(t, "the provider to count its stream abandoned", func() bool { return r.mock.Stats().Canceled == 1 })
			r.leaseFree(tok, 200)
			r.noLeaks()
		})
	}
}

// A huge answer streams through with bounded relay memory, and the usage
// meters never hold it: the JSON usage is read by a streaming scan, the
// SSE meter (and the budget stream's editor) keeps at most one event.
func TestFaultHugeResponse(t *testing.T) {
	const size = 100 << 20
	for _, tc := range []struct {
		name   string
		body   string
		growth uint64 // allowed HeapInuse growth
	}{
		// JSON: the ≤ 8 MiB usage copy grows by doubling, and the GC
		// lets garbage reach about twice the live heap.
		{"json", strings.Replace(chatBody, "gpt-4o", "huge-model", 1), 48 << 20},
		{"sse", strings.Replace(streamBody, "gpt-4o", "huge-model", 1), 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The mock ignores max_tokens for huge answers: let the clamp
			// be far above them, so the whole answer is relayed.
			r := newFaultRig(t, func(c *config.Config) {
				c.Accounting.OutputReserve, c.Accounting.UnknownModelOutput = 1<<30, 1<<30
			})
			id, tok := r.budgetToken("", 1<<30) // room for 100 MiB of content
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			resp, err := r.client.Do(r.request(context.Background(), tok, tc.body, map[string]string{"x-mock-huge-bytes": strconv.Itoa(size)}))
			if err != nil {
				close(stop)
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			close(stop)
			<-sampled
			if err != nil || resp.StatusCode != 200 || n < size {
				t.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
			}
			growth := peak.Load() - min(peak.Load(), before.HeapInuse)
			t.Logf("%d MiB relayed; HeapInuse %d MiB before, peak growth %.1f MiB", n>>20, before.HeapInuse>>20, float64(growth)/(1<<20))
			if growth > tc.growth {
				t.Fatalf("HeapInuse grew %d MiB for a %d MiB answer (limit %d MiB)", growth>>20, size>>20, tc.growth>>20)
			}
			u := r.settled(id, 1)
			if tc.name == "sse" && num(u["completion_tokens"]) != (size+3)/4 {
				// include_usage was set by the relay: the provider's own
				// final count, read after 100 MiB of content.
				t.Fatalf("usage %v", u)
			}
			r.leaseFree(tok, 200)
			r.noLeaks()
		})
	}
}

// fakeNXDOMAIN answers every DNS query on a loopback UDP port with
// NXDOMAIN and points the Go resolver at it (restored at cleanup), so the
// DNS fault never leaves the machine. It counts the queries naming host.
func fakeNXDOMAIN(t *testing.T, host string) *atomic.Int64 {
	t.Helper()
	if os.Getenv("HTTP_PROXY") != "" || os.Getenv("http_proxy") != "" {
		t.Skip("an HTTP proxy is configured: the relay would ask it, not DNS")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wire []byte
	for _, label := range strings.Split(host, ".") {
		wire = append(append(wire, byte(len(label))), label...)
	}
	var hits atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			msg := append([]byte(nil), buf[:n]...)
			if bytes.Contains(bytes.ToLower(msg[12:]), wire) {
				hits.Add(1)
			}
			msg[2] = 0x80 | msg[2]&0x79 // response; opcode and RD kept
			msg[3] = 0x80 | 3           // RA, NXDOMAIN
			copy(msg[6:10], []byte{0, 0, 0, 0})
			_, _ = pc.WriteTo(msg, addr)
		}
	}()
	res := net.DefaultResolver
	oldGo, oldDial := res.PreferGo, res.Dial
	res.PreferGo = true
	res.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		if network != "udp" {
			return nil, fmt.Errorf("fake DNS: %s not served", network)
		}
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}
	t.Cleanup(func() {
		res.PreferGo, res.Dial = oldGo, oldDial
		pc.Close()
		<-done
	})
	if _, err := net.DefaultResolver.LookupHost(context.Background(), host); !isNotFound(err) {
		t.Fatalf("fake DNS: lookup %v", err)
	}
	hits.Store(0)
	return &hits
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
