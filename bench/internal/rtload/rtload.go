// Package rtload drives Realtime (WebSocket) sessions for the relay
// benchmarks: it opens many sessions, then either sends each a small event
// at a fixed interval and times every answer (latency), or holds them idle
// (memory per open session, measured from outside).
package rtload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/relayapi/relayapi/bench/internal/rtmock"
)

// AllOpenLine starts the stderr line printed once every session has
// received its session.created or failed (as load.AllOpenLine).
const AllOpenLine = "ALL_OPEN"

// idPrefix starts the event_id of every ping; the ping's number follows.
const idPrefix = "bp_"

// Options configures a run.
type Options struct {
	URL      string      // ws://, wss://, http:// or https://, with ?model=
	Header   http.Header // handshake headers (may hold tokens: never printed)
	Sessions int
	// Interval between two pings of one session; 0 sends none (the
	// sessions are only opened, held for Hold and closed).
	Interval time.Duration
	Duration time.Duration // measured window of pings, after Warmup
	Warmup   time.Duration // pings sent first, not recorded
	// Hold keeps the sessions open, idle, after the pings (or after they
	// all opened, with no pings) before closing them.
	Hold time.Duration
	// OpenConcurrency handshakes at once (default 64).
	OpenConcurrency int
	// EventType of the pings (default bench.ping, which the relay streams
	// through unread; response.create is one it reads whole first).
	EventType string
	// Timeout bounds each handshake and first event, and the wait for the
	// last answers after the last ping (default 10 s).
	Timeout time.Duration
	Log     io.Writer // ALL_OPEN and diagnostics, nil to discard
}

// Result is the JSON report. Latencies run from each ping's intended send
// time (open loop: a stalled session is charged for every ping it
// delayed) to its answer's arrival.
type Result struct {
	Mode           string  `json:"mode"`
	Sessions       int     `json:"sessions"`
	Opened         int     `json:"opened"`
	OpenErrors     int     `json:"open_errors"`
	Refused        int     `json:"refused"` // handshakes answered with an HTTP status, not 101
	OpenP50Ms      float64 `json:"open_p50_ms"`
	OpenP99Ms      float64 `json:"open_p99_ms"`
	OpenMaxMs      float64 `json:"open_max_ms"`
	AllOpenAfterMs float64 `json:"all_open_after_ms"`
	IntervalMs     float64 `json:"interval_ms"`
	DurationS      float64 `json:"duration_s"`
	HoldS          float64 `json:"hold_s"`
	Sent           int     `json:"sent"`     // measured pings
	Received       int     `json:"received"` // their answers
	Lost           int     `json:"lost"`     // measured pings never answered
	Unexpected     int     `json:"unexpected"`
	Dropped        int     `json:"dropped"` // sessions that ended before we closed them
	AchievedMPS    float64 `json:"achieved_mps"`
	P50Ms          float64 `json:"p50_ms"`
	P90Ms          float64 `json:"p90_ms"`
	P99Ms          float64 `json:"p99_ms"`
	P999Ms         float64 `json:"p999_ms"`
	MaxMs          float64 `json:"max_ms"`
}

// session is one connection and what it saw.
type session struct {
	c        *websocket.Conn
	open     time.Duration
	status   int
	err      error
	closing  atomic.Bool   // set before we close it: its end is then no drop
	dropped  error         // the reader's error, when the session ended early
	ended    chan struct{} // closed when the reader returns
	answered chan struct{} // closed when every ping is answered
	lat      []time.Duration
	sent     int // measured pings written
	unexp    int
}

// Run opens o.Sessions sessions, prints ALL_OPEN, sends pings (if
// o.Interval > 0), holds, and closes them.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	// No proxy from the environment; each handshake takes its own
	// connection (one answered 101 is never pooled).
	client := &http.Client{Transport: &http.Transport{
		DialContext:        (&net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression: true,
	}}
	ss := make([]*session, o.Sessions)
	for i := range ss {
		ss[i] = &session{}
	}

	start := time.Now()
	sem := make(chan struct{}, o.OpenConcurrency)
	var wg sync.WaitGroup
	for _, s := range ss {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.dial(ctx, client, o)
		}()
	}
	wg.Wait()
	allOpen := time.Since(start)
	r := Result{Mode: "realtime", Sessions: o.Sessions, AllOpenAfterMs: ms(allOpen),
		IntervalMs: ms(o.Interval), HoldS: o.Hold.Seconds()}
	var opens []time.Duration
	var firstErr error
	live := ss[:0:0]
	for _, s := range ss {
		switch {
		case s.err == nil:
			r.Opened++
			opens = append(opens, s.open)
			live = append(live, s)
		case s.status != 0:
			r.Refused++
		default:
			r.OpenErrors++
		}
		if firstErr == nil && s.err != nil {
			firstErr = s.err
		}
	}
	if firstErr != nil {
		fmt.Fprintf(log, "realtime: %d of %d sessions failed to open; first: %v\n", o.Sessions-r.Opened, o.Sessions, firstErr)
	}
	slices.Sort(opens)
	r.OpenP50Ms, r.OpenP99Ms = ms(percentile(opens, 0.50)), ms(percentile(opens, 0.99))
	if len(opens) > 0 {
		r.OpenMaxMs = ms(opens[len(opens)-1])
	}
	// One Write on an unbuffered *os.File: the line is out when it returns.
	fmt.Fprintf(log, "%s %d\n", AllOpenLine, r.Opened)

	var per, warm int
	if o.Interval > 0 {
		r.DurationS = o.Duration.Seconds()
		per, warm = int((o.Warmup+o.Duration)/o.Interval), int(o.Warmup/o.Interval)
	}
	// Sessions are spread evenly over one interval so the pings do not
	// come in bursts.
	first := time.Now().Add(10 * time.Millisecond)
	for i, s := range live {
		if o.Interval > 0 {
			s.lat = make([]time.Duration, 0, per-warm)
		}
		offset := time.Duration(int64(o.Interval) * int64(i) / int64(len(live)))
		s.ended, s.answered = make(chan struct{}), make(chan struct{})
		go s.read(first.Add(offset), o.Interval, warm, per)
	}
	if per > 0 {
		var wg sync.WaitGroup
		for i, s := range live {
			offset := time.Duration(int64(o.Interval) * int64(i) / int64(len(live)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.ping(ctx, first.Add(offset), o.Interval, warm, per, o.EventType, o.Timeout)
			}()
		}
		wg.Wait()
	}
	if o.Hold > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(o.Hold):
		}
	}
	closeAll(live, o.OpenConcurrency)

	var lat []time.Duration
	for _, s := range live {
		r.Sent += s.sent
		r.Unexpected += s.unexp
		lat = append(lat, s.lat...)
		if s.dropped != nil {
			r.Dropped++
			if r.Dropped == 1 {
				fmt.Fprintf(log, "realtime: a session ended before the close: %v\n", s.dropped)
			}
		}
	}
	r.Received = len(lat)
	r.Lost = r.Sent - r.Received
	if o.Interval > 0 && o.Duration > 0 {
		r.AchievedMPS = math.Round(float64(r.Received)/o.Duration.Seconds()*10) / 10
	}
	slices.Sort(lat)
	r.P50Ms, r.P90Ms = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.90))
	r.P99Ms, r.P999Ms = ms(percentile(lat, 0.99)), ms(percentile(lat, 0.999))
	if len(lat) > 0 {
		r.MaxMs = ms(lat[len(lat)-1])
	}
	if r.Lost > 0 || r.Unexpected > 0 {
		fmt.Fprintf(log, "realtime: %d pings unanswered, %d unexpected events\n", r.Lost, r.Unexpected)
	}
	return r, nil
}

func (o *Options) validate() error {
	switch {
	case o.Sessions <= 0:
		return fmt.Errorf("sessions %d must be positive", o.Sessions)
	case o.Interval < 0 || o.Warmup < 0 || o.Hold < 0 || o.Timeout < 0:
		return errors.New("interval, warmup, hold and timeout must not be negative")
	case o.Interval > 0 && o.Duration <= 0:
		return fmt.Errorf("duration %s must be positive with pings", o.Duration)
	case o.OpenConcurrency < 0:
		return fmt.Errorf("open concurrency %d must not be negative", o.OpenConcurrency)
	}
	if o.OpenConcurrency == 0 {
		o.OpenConcurrency = 64
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.EventType == "" {
		o.EventType = rtmock.PingType
	}
	if o.Header == nil {
		o.Header = http.Header{}
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return fmt.Errorf("parse url: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("url %q: scheme must be ws, wss, http or https", o.URL)
	}
	return nil
}

// dial opens the session and waits for its first event, session.created.
func (s *session) dial(ctx context.Context, client *http.Client, o Options) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, o.URL, &websocket.DialOptions{
		HTTPClient: client, HTTPHeader: o.Header, Subprotocols: []string{"realtime"},
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			s.status = resp.StatusCode
			// A short excerpt says why (the server's answer, no secret).
			var excerpt []byte
			if resp.Body != nil {
				excerpt, _ = io.ReadAll(io.LimitReader(resp.Body, 200))
			}
			s.err = fmt.Errorf("handshake status %d: %s", resp.StatusCode, excerpt)
			return
		}
		s.err = fmt.Errorf("handshake: %w", err)
		return
	}
	c.SetReadLimit(1 << 20)
	_, b, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		s.err = fmt.Errorf("first event: %w", err)
		return
	}
	if t := rtmock.StringField(b, "type"); string(t) != "session.created" {
		c.CloseNow()
		s.err = fmt.Errorf("first event is %q, not session.created", t)
		return
	}
	s.c, s.open = c, time.Since(t0)
}

// ping writes ping k at first + k×interval (late ones back to back, still
// timed from when they were due), then waits for the reader to see every
// answer, up to timeout.
func (s *session) ping(ctx context.Context, first time.Time, interval time.Duration, warm, per int, typ string,
	timeout time.Duration) {
	msg := make([]byte, 0, 96)
	timer := time.NewTimer(time.Until(first))
	defer timer.Stop()
	for k := range per {
		due := first.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-s.ended:
				return
			case <-timer.C:
			}
		}
		msg = append(msg[:0], `{"type":"`...)
		msg = append(msg, typ...)
		msg = append(msg, `","event_id":"`+idPrefix...)
		msg = strconv.AppendInt(msg, int64(k), 10)
		msg = append(msg, `"}`...)
		if err := s.c.Write(ctx, websocket.MessageText, msg); err != nil {
			return // the reader reports the session's end
		}
		if k >= warm {
			s.sent++
		}
	}
	timer.Reset(timeout)
	select {
	case <-s.answered:
	case <-s.ended:
	case <-timer.C:
	case <-ctx.Done():
	}
}

// read reads the session until it ends, timing the answers to the per
// pings; answered is closed once they all came, ended when it returns.
func (s *session) read(first time.Time, interval time.Duration, warm, per int) {
	defer close(s.ended)
	got := make([]bool, per)
	left := per
	if left == 0 {
		close(s.answered)
	}
	for {
		_, b, err := s.c.Read(context.Background())
		now := time.Now()
		if err != nil {
			if !s.closing.Load() {
				s.dropped = err
			}
			return
		}
		id := rtmock.StringField(b, "event_id")
		n, perr := strconv.Atoi(string(id[min(len(id), len(idPrefix)):]))
		if len(id) <= len(idPrefix) || string(id[:len(idPrefix)]) != idPrefix || perr != nil ||
			n < 0 || n >= per || got[n] || string(rtmock.StringField(b, "type")) != rtmock.ReplyType {
			s.unexp++
			continue
		}
		got[n] = true
		if n >= warm {
			s.lat = append(s.lat, now.Sub(first.Add(time.Duration(n)*interval)))
		}
		if left--; left == 0 {
			close(s.answered)
		}
	}
}

// closeAll closes every session with 1000 (the close handshake, so the
// server sees a normal end), at most conc at a time.
func closeAll(ss []*session, conc int) {
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, s := range ss {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A session whose peer already left returns at once.
			s.closing.Store(true)
			_ = s.c.Close(websocket.StatusNormalClosure, "bench done")
			<-s.ended
		}()
	}
	wg.Wait()
}

// percentile is the nearest-rank p-quantile of sorted (0 when empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms converts to milliseconds rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
