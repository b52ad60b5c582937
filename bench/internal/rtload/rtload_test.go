package rtload

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/relayapi/relayapi/bench/internal/rtmock"
)

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

func mockURL(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + rtmock.Path + "?model=gpt-realtime"
}

func TestPings(t *testing.T) {
	var log syncBuffer
	r, err := Run(context.Background(), Options{
		URL: mockURL(t, &rtmock.Handler{}), Sessions: 5, Interval: 20 * time.Millisecond,
		Duration: 200 * time.Millisecond, Warmup: 40 * time.Millisecond, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 5 || r.Sent != 50 || r.Received != 50 || r.Lost != 0 || r.Unexpected != 0 || r.Dropped != 0 {
		t.Errorf("%+v", r)
	}
	if r.P50Ms <= 0 || r.P99Ms < r.P50Ms || r.MaxMs < r.P99Ms || r.OpenP50Ms <= 0 || r.AchievedMPS != 250 {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(log.String(), AllOpenLine+" 5\n") {
		t.Errorf("log %q", log.String())
	}
}

func TestHold(t *testing.T) {
	var log syncBuffer
	start := time.Now()
	r, err := Run(context.Background(), Options{
		URL: mockURL(t, &rtmock.Handler{}), Sessions: 300, Hold: 100 * time.Millisecond, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 300 || r.Sent != 0 || r.Dropped != 0 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(log.String(), AllOpenLine+" 300\n") {
		t.Errorf("log %q", log.String())
	}
}

func TestFailures(t *testing.T) {
	// Refused handshakes (no ?model=) are counted, with the server's reason.
	var log syncBuffer
	u := strings.TrimSuffix(mockURL(t, &rtmock.Handler{}), "?model=gpt-realtime")
	r, err := Run(context.Background(), Options{URL: u, Sessions: 3, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 0 || r.Refused != 3 || !strings.Contains(log.String(), "missing model") ||
		!strings.Contains(log.String(), AllOpenLine+" 0\n") {
		t.Errorf("%+v\n%s", r, log.String())
	}

	// A server that never answers pings: every measured ping is lost; one
	// that closes the session early: it is dropped.
	silent := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = c.Write(req.Context(), websocket.MessageText, []byte(`{"type":"session.created"}`))
		if req.URL.Query().Get("model") == "quit" {
			_ = c.Close(websocket.StatusGoingAway, "bye")
			return
		}
		for {
			if _, _, err := c.Read(req.Context()); err != nil {
				return
			}
		}
	})
	base := mockURL(t, silent)
	r, err = Run(context.Background(), Options{URL: base, Sessions: 2, Interval: 10 * time.Millisecond,
		Duration: 50 * time.Millisecond, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 2 || r.Sent != 10 || r.Received != 0 || r.Lost != 10 || r.Dropped != 0 {
		t.Errorf("silent: %+v", r)
	}
	r, err = Run(context.Background(), Options{URL: strings.Replace(base, "gpt-realtime", "quit", 1), Sessions: 2,
		Hold: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != 2 || r.Dropped != 2 {
		t.Errorf("quit: %+v", r)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{URL: "ws://x/v1/realtime", Sessions: 0},
		{URL: "ws://x/v1/realtime", Sessions: 1, Interval: time.Millisecond},
		{URL: "ftp://x/v1/realtime", Sessions: 1},
		{URL: "ws://x/v1/realtime", Sessions: 1, Hold: -1},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
