package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/bench/internal/bareproxy"
	"github.com/relayapi/relayapi/bench/internal/mock"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, time.Duration(i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 500}, {0.9, 900}, {0.99, 990}, {0.999, 999}, {1, 1000}, {0.0001, 1}} {
		if got := percentile(s, tc.p); got != tc.want {
			t.Errorf("p%g = %d, want %d", tc.p, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty percentile not 0")
	}
	if got := ms(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("ms = %g", got)
	}
}

func TestParseHeader(t *testing.T) {
	name, value, err := ParseHeader(" x-api-key :  abc: def ")
	if err != nil || name != "X-Api-Key" || value != "abc: def" {
		t.Errorf("got %q %q %v", name, value, err)
	}
	for _, bad := range []string{"novalue", ": v", "a b: v"} {
		if _, _, err := ParseHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, _, err = ParseHeader("Authorization Bearer sk-secret")
	if err == nil || strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("error %v leaks the value", err)
	}
}

func chatRequest(url string, stream bool) Request {
	body := `{"model":"m","messages":[]}`
	if stream {
		body = `{"model":"m","messages":[],"stream":true}`
	}
	return Request{Method: http.MethodPost, URL: url, Header: http.Header{"Authorization": {"Bearer t"}}, Body: []byte(body)}
}

func TestRateCounts(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer t" || r.ContentLength == 0 {
			w.WriteHeader(http.StatusBadRequest)
		}
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()

	r, err := Rate(context.Background(), RateOptions{
		Request: chatRequest(srv.URL, false),
		Rate:    400, Duration: 250 * time.Millisecond, Warmup: 100 * time.Millisecond, Conns: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "rate" || r.Sent != 100 || r.OK != 100 || r.Errors != 0 || r.Non2xx != 0 {
		t.Errorf("result %+v", r)
	}
	if hits.Load() != 140 {
		t.Errorf("server saw %d requests, want 100 + 40 warm-up", hits.Load())
	}
	if !(r.P50Ms > 0 && r.P50Ms <= r.P90Ms && r.P90Ms <= r.P99Ms && r.P99Ms <= r.P999Ms && r.P999Ms <= r.MaxMs) {
		t.Errorf("percentiles out of order: %+v", r)
	}
	// Loose: the window includes the last response's latency.
	if r.AchievedRPS < 200 || r.AchievedRPS > 420 {
		t.Errorf("achieved %g req/s at 400", r.AchievedRPS)
	}
}

func TestRateFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	opts := RateOptions{Rate: 500, Duration: 100 * time.Millisecond, Conns: 4}

	opts.Request = chatRequest(srv.URL, false)
	var log bytes.Buffer
	opts.Log = &log
	r, err := Rate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 50 || r.Non2xx != 50 || r.OK != 0 || r.AchievedRPS != 0 || r.MaxMs != 0 {
		t.Errorf("503s: %+v", r)
	}
	if strings.Contains(log.String(), "Bearer") || !strings.Contains(log.String(), "status 503") {
		t.Errorf("log: %s", log.String())
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	opts.Request = chatRequest(dead.URL, false)
	if r, err = Rate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if r.Sent != 50 || r.Errors != 50 || r.OK != 0 {
		t.Errorf("refused: %+v", r)
	}

	if _, err := Rate(context.Background(), RateOptions{Request: opts.Request, Rate: 0, Duration: time.Second, Conns: 1}); err == nil {
		t.Error("rate 0 accepted")
	}
}

// TestRateCorrectsCoordinatedOmission offers 1000 req/s to a server that
// manages 100: queued requests must be charged from their intended send
// time, not from when a connection freed up.
func TestRateCorrectsCoordinatedOmission(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		time.Sleep(10 * time.Millisecond) // the server's service time, not synchronisation
	}))
	defer srv.Close()
	r, err := Rate(context.Background(), RateOptions{
		Request: chatRequest(srv.URL, false), Rate: 1000, Duration: 60 * time.Millisecond, Conns: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	// 60 requests served one at a time take >= 600 ms; the last was due at
	// 59 ms, so it waited at least about 540 ms.
	if r.OK != 60 || r.MaxMs < 450 || r.P50Ms < 200 {
		t.Errorf("latencies not corrected: %+v", r)
	}
}

// syncBuffer is a log shared by Stream's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mockServer(t *testing.T, cfg mock.Config) *httptest.Server {
	t.Helper()
	h, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestStream(t *testing.T) {
	srv := mockServer(t, mock.Config{Chunks: 4, Delay: 20 * time.Millisecond})
	for _, expect := range []time.Duration{20 * time.Millisecond, 0} {
		var log syncBuffer
		r, err := Stream(context.Background(), StreamOptions{
			Request: chatRequest(srv.URL+"/v1/chat/completions", true),
			Streams: 50, ExpectDelay: expect, Timeout: 10 * time.Second, Log: &log,
		})
		if err != nil {
			t.Fatal(err)
		}
		// 4 chunks + usage + [DONE].
		if r.Mode != "stream" || r.Streams != 50 || r.OK != 50 || r.Errors != 0 || r.Non2xx != 0 ||
			r.EventsMin != 6 || r.EventsMax != 6 || r.IncrementalFraction != 1 {
			t.Errorf("expect %s: %+v", expect, r)
		}
		// Three 20 ms pauses: the body takes at least 60 ms, the first
		// event does not wait for them.
		if r.TotalP50Ms < 60 || r.TTFBP50Ms >= r.TotalP50Ms || r.TTFBMaxMs < r.TTFBP99Ms || r.AllOpenAfterMs <= 0 {
			t.Errorf("timings: %+v", r)
		}
		if !strings.Contains(log.String(), AllOpenLine+" 50\n") {
			t.Errorf("log lacks ALL_OPEN 50: %q", log.String())
		}
	}
}

// TestStreamDetectsBuffering feeds a stream that arrives in one piece, as
// from a relay that buffers the whole answer.
func TestStreamDetectsBuffering(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, strings.Repeat("data: {}\n\n", 10)+"data: [DONE]\n\n")
	}))
	defer srv.Close()
	r, err := Stream(context.Background(), StreamOptions{
		Request: chatRequest(srv.URL, true), Streams: 5, ExpectDelay: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 5 || r.EventsMin != 11 || r.IncrementalFraction != 0 {
		t.Errorf("%+v", r)
	}
}

func TestStreamFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			return // 200 without events
		}
		http.Error(w, "quota exceeded", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	for _, tc := range []struct {
		url            string
		errors, non2xx int
		logHas         string
	}{
		{url: srv.URL, non2xx: 3, logHas: "status 429: quota exceeded"},
		{url: srv.URL + "/empty", errors: 3, logHas: errNoEvents.Error()},
		{url: dead.URL, errors: 3, logHas: "connect"},
	} {
		var log syncBuffer
		r, err := Stream(context.Background(), StreamOptions{Request: chatRequest(tc.url, true), Streams: 3, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != 0 || r.Errors != tc.errors || r.Non2xx != tc.non2xx {
			t.Errorf("%s: %+v", tc.url, r)
		}
		if !strings.Contains(log.String(), AllOpenLine+" 0\n") || !strings.Contains(log.String(), tc.logHas) {
			t.Errorf("%s: log %q", tc.url, log.String())
		}
	}
}

// TestStreamThousandsOfConnections opens 2000 streams through the bare
// proxy: 8000 sockets in this process, each stream on its own connection.
func TestStreamThousandsOfConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 8000 sockets")
	}
	const n = 2000
	up := mockServer(t, mock.Config{Chunks: 2, Delay: 50 * time.Millisecond})
	var conns atomic.Int64
	u, _ := url.Parse(up.URL)
	p := httptest.NewUnstartedServer(bareproxy.New(u, "k"))
	p.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	p.Start()
	defer p.Close()

	var log syncBuffer
	r, err := Stream(context.Background(), StreamOptions{
		Request: chatRequest(p.URL+"/v1/chat/completions", true),
		Streams: n, Timeout: 15 * time.Second, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != n || r.EventsMin != 4 || r.EventsMax != 4 {
		t.Errorf("%+v\n%s", r, log.String())
	}
	if got := conns.Load(); got != n {
		t.Errorf("%d client connections, want one per stream", got)
	}
	if !strings.Contains(log.String(), fmt.Sprintf("%s %d\n", AllOpenLine, n)) {
		t.Errorf("log: %q", log.String())
	}
}
