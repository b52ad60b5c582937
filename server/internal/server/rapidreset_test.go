package server_test

// HTTP/2 rapid reset (CVE-2023-44487) and MadeYouReset (CVE-2025-8671):
// a client opens streams and has them reset at once — by its own
// RST_STREAM, or by provoking the relay into resetting them — thousands of
// times. Each stream costs the relay a handler; a reset one must not keep
// costing it (a concurrency slot, a lease, a goroutine, an upstream
// request), must not let handlers pile up past the stream limit, and must
// not starve other clients.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
)

// holdingUpstream answers at once, except requests marked x-mock-hold,
// which it holds until the relay cancels them (or the test ends). It
// counts them by the provider key they carry, which tells the tokens apart.
type holdingUpstream struct {
	stop chan struct{}

	inFlight, maxInFlight atomic.Int64

	mu       sync.Mutex
	seen     map[string]int   // held requests by key
	held     map[string]int64 // in flight by key
	maxByKey map[string]int64
}

func newHoldingUpstream() *holdingUpstream {
	return &holdingUpstream{stop: make(chan struct{}), seen: map[string]int{}, held: map[string]int64{}, maxByKey: map[string]int64{}}
}

func (u *holdingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if r.Header.Get("X-Mock-Hold") == "" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
		return
	}
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	n := u.inFlight.Add(1)
	defer u.inFlight.Add(-1)
	for m := u.maxInFlight.Load(); n > m; m = u.maxInFlight.Load() {
		if u.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	u.mu.Lock()
	u.seen[key]++
	u.held[key]++
	u.maxByKey[key] = max(u.maxByKey[key], u.held[key])
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.held[key]--
		u.mu.Unlock()
	}()
	select {
	case <-r.Context().Done():
	case <-u.stop:
	}
}

func (u *holdingUpstream) counts(key string) (seen int, maxHeld int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[key], u.maxByKey[key]
}

// healthyCall is one ordinary client request, timed.
func healthyCall(s *liveStack, tok string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/t/"+tok+"/v1/chat/completions", strings.NewReader(chatBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client().Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && (resp.StatusCode != 200 || resp.ProtoMajor != s.proto.major()) {
		err = fmt.Errorf("%s %d %s", resp.Proto, resp.StatusCode, body)
	}
	return time.Since(start), err
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)*99)/100]
}

// healthyLoad calls until stop is closed, recording latencies; the first
// failure ends it.
type healthyLoad struct {
	lat   []time.Duration
	err   error
	calls atomic.Int64
	done  chan struct{}
}

func startHealthyLoad(s *liveStack, tok string, stop <-chan struct{}) *healthyLoad {
	l := &healthyLoad{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			d, err := healthyCall(s, tok)
			if err != nil {
				l.err = err
				return
			}
			l.lat = append(l.lat, d)
			l.calls.Add(1)
		}
	}()
	return l
}

// burstStats is what a burst did and what the relay answered it with.
type burstStats struct {
	streams, conns int
	goAways        map[http2.ErrCode]int
	closedEarly    int // connections the relay ended without a GOAWAY
}

// resetEnd ends a stream the moment its request is out: the client's own
// RST_STREAM, or a frame the relay must reset the stream for.
type resetEnd func(fr *http2.Framer, id uint32) error

var holdHeaders = []h2Field{{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(chatBody))}, {"x-mock-hold", "1"}}

// resetBurst opens streams (batch by batch, while more says so) on conns
// connections at a time, each stream a held chat call for
// toks[i%len(toks)] that end() resets right after its body. A connection
// the relay ends is replaced by a fresh one. Each connection still open at
// the end must answer an ordinary request after its burst: the relay
// got through the burst's frames and serves it.
func resetBurst(t *testing.T, s *liveStack, more func(streams int) bool, conns int, toks []string, end resetEnd) burstStats {
	t.Helper()
	const batch, resetLag = 64, 8
	st := burstStats{goAways: map[http2.ErrCode]int{}}
	type abuser struct {
		h      *h2Conn
		nextID uint32
	}
	dial := func() *abuser {
		st.conns++
		return &abuser{h: dialH2(t, s, h2Options{}), nextID: 1}
	}
	retire := func(a *abuser) {
		if g := a.h.goAwayFrame(); g != nil {
			st.goAways[g.code]++
		} else if a.h.closed() {
			st.closedEarly++
		}
		a.h.close()
	}
	pool := make([]*abuser, conns)
	for i := range pool {
		pool[i] = dial()
	}
	for i := 0; more(st.streams); i++ {
		a := pool[i%conns]
		err := a.h.write(func(fr *http2.Framer) error {
			for range batch {
				id := a.nextID
				a.nextID += 2
				tok := toks[st.streams%len(toks)]
				if err := a.h.writeHeaders(id, a.h.block("POST", "/t/"+tok+"/v1/chat/completions", holdHeaders), false); err != nil {
					return err
				}
				if err := fr.WriteData(id, true, []byte(chatBody)); err != nil {
					return err
				}
				// The reset follows a few streams later: the relay gets a
				// moment to start work on each.
				if id > 2*resetLag {
					if err := end(fr, id-2*resetLag); err != nil {
						return err
					}
				}
				st.streams++
			}
			return nil
		})
		// Every few batches, wait for the relay to have read them: the
		// burst goes at the pace the relay takes it, not the kernel's.
		if err != nil || i%4 == 3 && !a.h.sync(20*time.Second) || a.h.closed() || a.h.goAwayFrame() != nil {
			retire(a)
			pool[i%conns] = dial()
		}
	}
	for _, a := range pool {
		id := a.nextID
		if err := a.h.tryRequest(id, "GET", "/health", nil, nil, false); err == nil {
			if r := a.h.await(id, 20*time.Second); !a.h.closed() && a.h.goAwayFrame() == nil && r.status != 200 {
				t.Fatalf("after its burst, a connection got %+v", r)
			}
		}
		retire(a)
	}
	return st
}

// resetAfterForward runs rounds of perRound held streams on one
// connection: once each has reached the provider or been answered, end()
// resets them all, and the provider's requests must be cancelled.
func resetAfterForward(t *testing.T, s *liveStack, up *holdingUpstream, rounds, perRound int, toks []string, end resetEnd) {
	t.Helper()
	h := dialH2(t, s, h2Options{})
	id := uint32(1)
	for r := range rounds {
		first := id
		for i := range perRound {
			h.request(id, "POST", "/t/"+toks[(r*perRound+i)%len(toks)]+"/v1/chat/completions", holdHeaders, []byte(chatBody), false)
			id += 2
		}
		waitUntil(t, 10*time.Second, "the round's streams to be forwarded or answered", func() bool {
			answered := 0
			for sid := first; sid < id; sid += 2 {
				if st := h.snapshot(sid); st.ended || st.reset {
					answered++
				}
			}
			return int64(answered)+up.inFlight.Load() == int64(perRound)
		})
		if err := h.write(func(fr *http2.Framer) error {
			for sid := first; sid < id; sid += 2 {
				if err := end(fr, sid); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "the reset streams' provider requests to be cancelled", func() bool { return up.inFlight.Load() == 0 })
	}
	h.close()
}

// goroutineDump is the stacks of every goroutine, for a failure message.
func goroutineDump() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String()
}

func TestRapidResetBurstsLeaveTheRelayServingOthersAndHoldingNothing(t *testing.T) {
	const (
		maxStreams = 16
		conns      = 2
		minStreams = 2000
		// The healthy client's calls during the burst, and the most
		// streams the burst goes on for to let it make them.
		minCalls, maxStreamsSent = 10, 100_000
		maxCalls                 = 12
	)
	variants := []struct {
		name string
		end  resetEnd
	}{
		// The client resets its own stream (CVE-2023-44487).
		{"rapid reset", func(fr *http2.Framer, id uint32) error { return fr.WriteRSTStream(id, http2.ErrCodeCancel) }},
		// The client makes the relay reset it: a WINDOW_UPDATE of 0 on
		// the stream is a stream error the relay answers with RST_STREAM
		// (CVE-2025-8671, "MadeYouReset").
		{"made you reset", func(fr *http2.Framer, id uint32) error { return fr.WriteWindowUpdate(id, 0) }},
	}
	for _, proto := range []protocol{h2TLS, h2C} {
		for _, v := range variants {
			t.Run(string(proto)+"/"+v.name, func(t *testing.T) {
				up := newHoldingUpstream()
				s := newLiveStackOver(t, proto, up, func(c *config.Config) {
					c.HTTP2.MaxConcurrentStreams = maxStreams
					quickShutdown(c)
				})
				t.Cleanup(func() { close(up.stop) })
				keyed := func(key string, mutate func(*token.Claims)) (tok, id string) {
					id = cliID()
					return s.token(func(c *token.Claims) {
						c.ID, c.APIKey = id, key
						if mutate != nil {
							mutate(c)
						}
					}), id
				}
				const freeKey, singleKey, cappedKey, roomyKey = "sk-free-0123456789", "sk-single-0123456789", "sk-capped-0123456789", "sk-roomy-0123456789"
				free, _ := keyed(freeKey, nil)
				single, _ := keyed(singleKey, func(c *token.Claims) { c.Concurrency = 1 })
				capped, cappedID := keyed(cappedKey, func(c *token.Claims) { c.MaxCalls = maxCalls })
				roomy, roomyID := keyed(roomyKey, func(c *token.Claims) { c.MaxCalls = 100000 })
				healthy := s.token(nil)
				toks := []string{free, single, capped}

				// Before: the healthy client's latency, and the goroutines
				// of a relay with one client connection.
				var before []time.Duration
				for range 40 {
					d, err := healthyCall(s, healthy)
					if err != nil {
						t.Fatal(err)
					}
					before = append(before, d)
				}
				baseline := runtime.NumGoroutine()

				// Streams reset once their call reached the provider: the
				// provider's request is cancelled every time.
				resetAfterForward(t, s, up, 6, 6, toks, v.end)
				if seen, _ := up.counts(freeKey); seen != 12 {
					t.Fatalf("%d of the free token's 12 streams reached the provider before their reset", seen)
				}
				// Of each round's two streams for the concurrency-1 token,
				// one was forwarded and the other refused.
				if seen, held := up.counts(singleKey); seen != 6 || held != 1 {
					t.Fatalf("the concurrency-1 token: %d of 12 streams forwarded, %d at once", seen, held)
				}

				// Streams reset at once, thousands of them, while a healthy
				// client calls on its own connection.
				stop := make(chan struct{})
				load := startHealthyLoad(s, healthy, stop)
				start := time.Now()
				// At least minStreams, and as many more as it takes for the
				// healthy client to make minCalls calls meanwhile.
				more := func(streams int) bool {
					return streams < minStreams || load.calls.Load() < minCalls && streams < maxStreamsSent
				}
				st := resetBurst(t, s, more, conns, append(toks, roomy), v.end)
				took := time.Since(start)
				close(stop)
				<-load.done
				handled := strings.Count(s.logs.String(), `"msg":"request"`)
				t.Logf("%d streams on %d connections in %v (%d requests handled): GOAWAYs %v, %d closed without one; the provider held at most %d at once",
					st.streams, st.conns, took, handled, st.goAways, st.closedEarly, up.maxInFlight.Load())
				t.Logf("healthy client: p99 %v over %d calls before, %v over %d calls during the burst",
					p99(before), len(before), p99(load.lat), len(load.lat))
				if load.err != nil {
					t.Fatalf("a healthy client failed during the burst: %v", load.err)
				}
				if len(load.lat) < minCalls {
					t.Fatalf("the healthy client made %d calls during the burst", len(load.lat))
				}
				if d := p99(load.lat); d > 2*time.Second {
					t.Fatalf("the healthy client's p99 during the burst is %v (before: %v)", d, p99(before))
				}

				// Handlers per connection stay within the stream limit: so
				// do the provider requests they make.
				if n := up.maxInFlight.Load(); n > conns*maxStreams {
					t.Fatalf("%d provider requests in flight at once from %d connections with %d streams each", n, conns, maxStreams)
				}

				// Afterwards nothing is held: no provider request, no
				// goroutine, no concurrency slot, no lease.
				waitUntil(t, 10*time.Second, "the provider requests to be cancelled", func() bool { return up.inFlight.Load() == 0 })
				deadline := time.Now().Add(10 * time.Second)
				for runtime.NumGoroutine() > baseline+4 {
					if time.Now().After(deadline) {
						t.Fatalf("%d goroutines after the burst, %d before:\n%s", runtime.NumGoroutine(), baseline, goroutineDump())
					}
					time.Sleep(10 * time.Millisecond)
				}
				if _, err := healthyCall(s, single); err != nil {
					t.Fatalf("the concurrency-1 token cannot call after the burst (%v): its slot is still held", err)
				}

				// max_calls: the capped token spent its calls on streams that
				// reached the provider before their reset; the burst's
				// streams got no call more, charged or forwarded.
				seen, _ := up.counts(cappedKey)
				calls := num(s.adminUsage(cappedID)["calls"])
				if calls != maxCalls || seen != maxCalls {
					t.Fatalf("max_calls %d: %d charged, %d forwarded", maxCalls, calls, seen)
				}
				// A token with calls to spare is charged exactly the calls
				// that reached the provider: none forwarded uncharged, and a
				// stream reset before its call had a provider connection is
				// given back.
				seen, _ = up.counts(roomyKey)
				calls = num(s.adminUsage(roomyID)["calls"])
				t.Logf("a token without a tight max_calls: %d calls charged, %d reached the provider", calls, seen)
				if int64(seen) != calls {
					t.Fatalf("%d calls reached the provider but %d were charged", seen, calls)
				}
			})
		}
	}
}
