package relay

import (
	"io"
	"sync"
	"time"

	"github.com/relayapi/relayapi/server/internal/usage"
)

// meteredBody sits between the provider's response body and the proxy's
// copy loop. It reads the usage of a 2xx answer whatever its size or
// encoding — an SSE meter for streams, a streaming JSON scan for the rest
// (on a decompressed copy when the provider compressed the answer); on a
// budget token it edits the stream (events) and stops one that overruns
// its cap; on a client that left, it drains the provider (drain mode) for
// its exact usage.
type meteredBody struct {
	rc   io.ReadCloser
	c    *call
	sse  *usage.Meter     // event streams
	json *usage.BodyMeter // other 2xx answers
	// inflate feeds json a decompressed copy of a compressed answer.
	inflate *inflater
	// unreadable: the answer came in an encoding the relay cannot read,
	// so its usage is unknown (and a budget is charged the reservation).
	unreadable bool
	edit       *eventEdit // budget streams: edited event by event
	cap        int64      // completion cap from the budget, 0 = none

	mu    sync.Mutex
	eof   bool
	cut   bool
	bytes int64

	// idle cancels the upstream when the provider sends nothing for
	// Options.UpstreamIdle; stalled records that it did.
	idle    *time.Timer
	idleFor time.Duration
	stalled bool
	failed  bool // the upstream body failed (not EOF); its code is recorded
}

// meterKind is what kind of meter a response gets.
type meterKind int

const (
	meterNone   meterKind = iota // not a 2xx: nothing to meter
	meterStream                  // an event stream
	meterJSON                    // any other answer
)

func newMeteredBody(c *call, rc io.ReadCloser, kind meterKind, encoding string) *meteredBody {
	m := &meteredBody{rc: rc, c: c, cap: c.grant.CompletionCap}
	switch {
	case kind == meterNone:
	case encoding != "" && (kind == meterStream || encoding != "gzip"):
		m.unreadable = true
	case kind == meterStream:
		m.sse = usage.NewMeter(c.format)
		if c.claims.TokenBudget > 0 {
			m.edit = newEventEdit(c)
		}
	case encoding == "gzip":
		m.json = usage.NewBodyMeter(c.format)
		m.inflate = newInflater(m.json)
	default:
		m.json = usage.NewBodyMeter(c.format)
	}
	if d := c.h.opts.UpstreamIdle; d > 0 && c.cancelUp != nil {
		m.idleFor = d
		m.idle = time.AfterFunc(d, m.onIdle)
	}
	return m
}

// onIdle runs when the provider has been silent for UpstreamIdle.
func (m *meteredBody) onIdle() {
	m.mu.Lock()
	m.stalled = true
	m.mu.Unlock()
	m.c.cancelUp()
}

func (m *meteredBody) stopIdle() {
	if m.idle != nil {
		m.idle.Stop()
	}
}

func (m *meteredBody) Read(p []byte) (int, error) {
	if m.edit != nil {
		return m.readEdited(p)
	}
	n, err := m.pull(p)
	if n > 0 {
		m.mu.Lock()
		m.observe(p[:n])
		m.mu.Unlock()
	}
	return n, err
}

// pull reads the provider's body, keeping the idle timer and the outcome
// (end, failure and why) up to date.
func (m *meteredBody) pull(p []byte) (int, error) {
	n, err := m.rc.Read(p)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bytes += int64(n)
	if n > 0 && m.idle != nil && !m.stalled {
		m.idle.Reset(m.idleFor)
	}
	if err == io.EOF {
		m.eof = true
	}
	if err != nil && err != io.EOF && !m.failed {
		// The answer breaks off: say why in the request log and the
		// token's last_error, unless it is the client that left.
		m.failed = true
		switch {
		case m.stalled:
			m.c.fields.Code = "upstream_timeout"
		case !m.c.clientGone():
			m.c.fields.Code = "upstream_unreachable"
		}
	}
	return n, err
}

func (m *meteredBody) observe(p []byte) {
	switch {
	case m.sse != nil:
		_, _ = m.sse.Write(p)
	case m.inflate != nil:
		m.inflate.Write(p)
	case m.json != nil:
		_, _ = m.json.Write(p)
	}
}

// Close drains the rest of a stream when the client left early and the
// relay is in drain mode, so the provider's own usage can be recorded.
func (m *meteredBody) Close() error {
	m.mu.Lock()
	drain := !m.eof && !m.cut && m.c.h.opts.Drain && m.sse != nil
	m.mu.Unlock()
	if drain {
		// Bounded by DrainTimeout from when the client left (startDrain
		// usually ran already, when the client's context ended).
		m.c.startDrain()
		buf := make([]byte, copyBufferSize)
		for {
			n, err := m.pull(buf)
			m.mu.Lock()
			m.observe(buf[:n])
			m.mu.Unlock()
			if err != nil {
				break
			}
		}
	}
	m.stopIdle()
	return m.rc.Close()
}

// WaitReadable passes through the upstream body's wait for data (see
// copyBody).
func (m *meteredBody) WaitReadable() {
	if w, ok := m.rc.(waitReadabler); ok {
		w.WaitReadable()
	}
}

// outcome reports what the answer said about tokens, whether the relay
// cut the stream, and whether the answer broke off before its end (the
// client left, the provider failed or stalled).
func (m *meteredBody) outcome() (u usage.Usage, cut, broken bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.unreadable:
	case m.sse != nil:
		_ = m.sse.Close()
		u = m.sse.Usage()
	case m.json != nil:
		if m.inflate != nil {
			m.inflate.Close()
		}
		u = m.json.Usage()
	}
	return u, m.cut, m.failed || !m.eof
}

// release stops what the meter runs on its own (the decompressor).
func (m *meteredBody) release() {
	if m.inflate != nil {
		m.inflate.Close()
	}
}
