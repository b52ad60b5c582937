package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// AllOpenLine starts the stderr line printed once every stream has received
// its first event or failed: an orchestrator samples the server's memory
// then, while all streams are open.
const AllOpenLine = "ALL_OPEN"

// StreamOptions configures a concurrent-streams run.
type StreamOptions struct {
	Request Request
	Streams int
	// ExpectDelay is the server's pause between chunks; 0 skips the timing
	// check of incremental delivery (see StreamResult).
	ExpectDelay time.Duration
	Timeout     time.Duration // for the whole run, 0 for none
	Log         io.Writer     // ALL_OPEN and diagnostics, nil to discard
}

// StreamResult is the JSON report of a Stream run. Statistics cover ok
// streams: 2xx answers read to the end with at least one data: line.
//
// A stream is incremental when its events were spread over time: the span
// from first to last event is at least half of (events-2) × ExpectDelay
// (the 2 being the usage chunk and [DONE], sent without delay). With no
// ExpectDelay it is incremental when its events arrived in more than one
// read, which tells a buffering relay from a streaming one only coarsely.
type StreamResult struct {
	Mode                string  `json:"mode"`
	Streams             int     `json:"streams"`
	OK                  int     `json:"ok"`
	Errors              int     `json:"errors"`
	Non2xx              int     `json:"non_2xx"`
	TTFBP50Ms           float64 `json:"ttfb_p50_ms"`
	TTFBP99Ms           float64 `json:"ttfb_p99_ms"`
	TTFBMaxMs           float64 `json:"ttfb_max_ms"`
	TotalP50Ms          float64 `json:"total_p50_ms"`
	TotalP99Ms          float64 `json:"total_p99_ms"`
	EventsMin           int     `json:"events_min"`
	EventsMax           int     `json:"events_max"`
	IncrementalFraction float64 `json:"incremental_fraction"`
	AllOpenAfterMs      float64 `json:"all_open_after_ms"`
}

// streamStat is what one stream saw.
type streamStat struct {
	status      int
	err         error
	ttfb, total time.Duration
	events      int
	incremental bool
}

var errNoEvents = errors.New("stream ended without data: events")

// Stream opens o.Streams streaming requests at once, each on its own TCP
// connection, and reads them to the end.
func Stream(ctx context.Context, o StreamOptions) (StreamResult, error) {
	if err := o.validate(); err != nil {
		return StreamResult{}, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}

	stats := make([]streamStat, o.Streams)
	var (
		ready, opened, finished sync.WaitGroup
		nOpen                   atomic.Int64
	)
	gate := make(chan struct{})
	ready.Add(o.Streams)
	opened.Add(o.Streams)
	finished.Add(o.Streams)
	for i := range stats {
		go func() {
			defer finished.Done()
			// Own transport, own pool: no two streams can share a
			// connection, and none is set up before the gate opens.
			tr := streamTransport()
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, CheckRedirect: noRedirect}
			req, err := o.Request.build(ctx)
			ready.Done()
			if err != nil {
				stats[i] = streamStat{err: err}
				opened.Done()
				return
			}
			<-gate
			stats[i] = readStream(client, req, o.ExpectDelay, func(ok bool) {
				if ok {
					nOpen.Add(1)
				}
				opened.Done()
			})
		}()
	}

	ready.Wait()
	start := time.Now()
	close(gate)
	opened.Wait()
	allOpen := time.Since(start)
	// One Write on an unbuffered *os.File: the line is out when it returns.
	fmt.Fprintf(log, "%s %d\n", AllOpenLine, nOpen.Load())
	finished.Wait()
	return o.result(stats, allOpen, log), nil
}

func (o *StreamOptions) validate() error {
	switch {
	case o.Streams <= 0:
		return fmt.Errorf("streams %d must be positive", o.Streams)
	case o.ExpectDelay < 0:
		return fmt.Errorf("expect-delay %s must not be negative", o.ExpectDelay)
	case o.Timeout < 0:
		return fmt.Errorf("timeout %s must not be negative", o.Timeout)
	}
	if o.Request.Header == nil {
		o.Request.Header = http.Header{}
	}
	return o.Request.Validate()
}

func streamTransport() *http.Transport {
	return &http.Transport{
		DialContext:        (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:    1,
		DisableCompression: true,
	}
}

// countingReader counts the reads that returned data, so that lines can
// be told apart by the read that delivered them.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads++
	}
	return n, err
}

// readStream sends req and reads the SSE body line by line, time-stamping
// each data: line. first is called exactly once: with true at the first
// event, with false if the stream fails before one.
func readStream(client *http.Client, req *http.Request, expectDelay time.Duration, first func(ok bool)) streamStat {
	signalled := false
	signal := func(ok bool) {
		if !signalled {
			signalled = true
			first(ok)
		}
	}
	defer signal(false)

	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return streamStat{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A short excerpt says why (it is the server's answer, no secret).
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return streamStat{status: resp.StatusCode, err: fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))}
	}

	st := streamStat{status: resp.StatusCode}
	cr := &countingReader{r: resp.Body}
	br := bufio.NewReaderSize(cr, 16<<10)
	var firstAt, lastAt time.Time
	var firstRead, lastRead int
	lineStart := true
	for {
		line, err := br.ReadSlice('\n')
		now := time.Now()
		if lineStart && bytes.HasPrefix(line, []byte("data:")) {
			st.events++
			if st.events == 1 {
				firstAt, firstRead = now, cr.reads
				st.ttfb = now.Sub(sent)
				signal(true)
			}
			lastAt, lastRead = now, cr.reads
		}
		// A line longer than the buffer comes in pieces; only the first
		// piece starts a line.
		lineStart = !errors.Is(err, bufio.ErrBufferFull)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			st.err = fmt.Errorf("read stream after %d events: %w", st.events, err)
			return st
		}
	}
	st.total = time.Since(sent)
	if st.events == 0 {
		st.err = errNoEvents
		return st
	}
	if expectDelay > 0 {
		want := time.Duration(0.5 * float64(st.events-2) * float64(expectDelay))
		st.incremental = lastAt.Sub(firstAt) >= want
	} else {
		st.incremental = st.events > 1 && lastRead != firstRead
	}
	return st
}

func (o *StreamOptions) result(stats []streamStat, allOpen time.Duration, log io.Writer) StreamResult {
	r := StreamResult{Mode: "stream", Streams: o.Streams, AllOpenAfterMs: ms(allOpen)}
	var ttfb, total []time.Duration
	incremental := 0
	var firstErr error
	for _, s := range stats {
		switch {
		case s.status != 0 && (s.status < 200 || s.status > 299):
			r.Non2xx++
		case s.err != nil:
			r.Errors++
		default:
			r.OK++
			ttfb = append(ttfb, s.ttfb)
			total = append(total, s.total)
			if r.OK == 1 || s.events < r.EventsMin {
				r.EventsMin = s.events
			}
			r.EventsMax = max(r.EventsMax, s.events)
			if s.incremental {
				incremental++
			}
		}
		if firstErr == nil {
			firstErr = s.err
		}
	}
	if firstErr != nil {
		fmt.Fprintf(log, "stream: %d errors, %d non-2xx; first: %v\n", r.Errors, r.Non2xx, firstErr)
	}
	if r.OK > 0 {
		r.IncrementalFraction = float64(incremental) / float64(r.OK)
	}
	slices.Sort(ttfb)
	slices.Sort(total)
	r.TTFBP50Ms = ms(percentile(ttfb, 0.50))
	r.TTFBP99Ms = ms(percentile(ttfb, 0.99))
	r.TTFBMaxMs = ms(percentile(ttfb, 1))
	r.TotalP50Ms = ms(percentile(total, 0.50))
	r.TotalP99Ms = ms(percentile(total, 0.99))
	return r
}
