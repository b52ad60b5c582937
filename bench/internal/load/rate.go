package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"time"
)

// RateOptions configures an open-loop, fixed-rate run.
type RateOptions struct {
	Request  Request
	Rate     float64       // requests per second
	Duration time.Duration // measured window, after Warmup
	Warmup   time.Duration // sent at Rate first, not recorded
	Conns    int           // connection cap, and as many workers
	Timeout  time.Duration // per request, 0 for none
	Log      io.Writer     // diagnostics, nil to discard
}

// RateResult is the JSON report of a Rate run. Latencies cover ok
// requests only and run from the intended send time to the end of the body.
type RateResult struct {
	Mode        string  `json:"mode"`
	Rate        float64 `json:"rate"`
	DurationS   float64 `json:"duration_s"`
	Sent        int     `json:"sent"`
	OK          int     `json:"ok"`
	Errors      int     `json:"errors"`
	Non2xx      int     `json:"non_2xx"`
	AchievedRPS float64 `json:"achieved_rps"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	P99Ms       float64 `json:"p99_ms"`
	P999Ms      float64 `json:"p999_ms"`
	MaxMs       float64 `json:"max_ms"`
}

// job is one request and the time it should have been sent.
type job struct {
	at       time.Time
	measured bool
}

// tally is one worker's private record, merged once the run ends so the
// hot path takes no lock.
type tally struct {
	sent, ok, errors, non2xx int
	lat                      []time.Duration
	lastEnd                  time.Time
	firstErr                 error
}

// Rate sends requests at fixed intended times start + i/rate whatever the
// server does (open loop). Latency is measured from the intended time, so a
// server that stalls is charged for every request it delayed
// (coordinated-omission correction) rather than slowing the load down.
func Rate(ctx context.Context, o RateOptions) (RateResult, error) {
	if err := o.validate(); err != nil {
		return RateResult{}, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     o.Conns,
		MaxIdleConns:        o.Conns,
		MaxIdleConnsPerHost: o.Conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: noRedirect}

	interval := float64(time.Second) / o.Rate
	warm := int(math.Ceil(o.Warmup.Seconds() * o.Rate))
	total := warm + int(math.Round(o.Duration.Seconds()*o.Rate))
	fmt.Fprintf(log, "rate: %g req/s, %d requests (%d warm-up), %d conns\n", o.Rate, total, warm, o.Conns)

	jobs := make(chan job, o.Conns)
	tallies := make([]tally, o.Conns)
	done := make(chan struct{})
	for w := range tallies {
		go func() {
			defer func() { done <- struct{}{} }()
			t := &tallies[w]
			for j := range jobs {
				t.record(j, send(ctx, client, o.Request))
			}
		}()
	}

	start := time.Now()
	schedule(ctx, jobs, start, interval, warm, total)
	close(jobs)
	for range tallies {
		<-done
	}
	return o.result(tallies, start.Add(time.Duration(float64(warm)*interval)), log), nil
}

func (o *RateOptions) validate() error {
	switch {
	case o.Rate <= 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate):
		return fmt.Errorf("rate %g must be positive", o.Rate)
	case o.Duration <= 0:
		return fmt.Errorf("duration %s must be positive", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("warmup %s must not be negative", o.Warmup)
	case o.Conns <= 0:
		return fmt.Errorf("conns %d must be positive", o.Conns)
	}
	if o.Request.Header == nil {
		// A nil header makes the client copy the request on every send.
		o.Request.Header = http.Header{}
	}
	return o.Request.Validate()
}

// schedule hands out jobs at their intended times. A late wake-up (or busy
// workers) sends the overdue jobs back to back; their latency still counts
// from when they were due.
func schedule(ctx context.Context, jobs chan<- job, start time.Time, interval float64, warm, total int) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := range total {
		at := start.Add(time.Duration(float64(i) * interval))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case jobs <- job{at: at, measured: i >= warm}:
		}
	}
}

// outcome of one request.
type outcome struct {
	end    time.Time
	status int
	err    error
}

func send(ctx context.Context, client *http.Client, r Request) outcome {
	req, err := r.build(ctx)
	if err != nil {
		return outcome{end: time.Now(), err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return outcome{end: time.Now(), err: err}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = fmt.Errorf("read body: %w", err)
	}
	return outcome{end: time.Now(), status: resp.StatusCode, err: err}
}

func (t *tally) record(j job, o outcome) {
	if !j.measured {
		return
	}
	t.sent++
	switch {
	case o.err != nil:
		t.errors++
		if t.firstErr == nil {
			t.firstErr = o.err
		}
	case o.status < 200 || o.status > 299:
		t.non2xx++
		if t.firstErr == nil {
			t.firstErr = fmt.Errorf("status %d", o.status)
		}
	default:
		t.ok++
		t.lat = append(t.lat, o.end.Sub(j.at))
		if o.end.After(t.lastEnd) {
			t.lastEnd = o.end
		}
	}
}

func (o *RateOptions) result(tallies []tally, measureStart time.Time, log io.Writer) RateResult {
	r := RateResult{Mode: "rate", Rate: o.Rate, DurationS: o.Duration.Seconds()}
	var all []time.Duration
	var lastEnd time.Time
	var firstErr error
	for _, t := range tallies {
		r.Sent += t.sent
		r.OK += t.ok
		r.Errors += t.errors
		r.Non2xx += t.non2xx
		all = append(all, t.lat...)
		if t.lastEnd.After(lastEnd) {
			lastEnd = t.lastEnd
		}
		if firstErr == nil {
			firstErr = t.firstErr
		}
	}
	if firstErr != nil {
		fmt.Fprintf(log, "rate: %d errors, %d non-2xx; e.g. %v\n", r.Errors, r.Non2xx, firstErr)
	}
	if window := max(lastEnd.Sub(measureStart), o.Duration); r.OK > 0 {
		// Completions over the time they took, but never over less than
		// the window they were offered in: a server that falls behind
		// stretches the window and lowers the rate; one that keeps up
		// reaches -rate, not a hair above it.
		r.AchievedRPS = math.Round(float64(r.OK)/window.Seconds()*10) / 10
	}
	slices.Sort(all)
	r.P50Ms = ms(percentile(all, 0.50))
	r.P90Ms = ms(percentile(all, 0.90))
	r.P99Ms = ms(percentile(all, 0.99))
	r.P999Ms = ms(percentile(all, 0.999))
	r.MaxMs = ms(percentile(all, 1))
	return r
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
