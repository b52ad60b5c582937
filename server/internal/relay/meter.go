package relay

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/relayapi/relayapi/server/internal/usage"
)

// maxJSONUsageBody bounds how much of a non-streamed response is kept to
// read its usage; larger answers (files, audio) are counted as unreported.
const maxJSONUsageBody = 8 << 20

// meteredBody sits between the provider's response body and the proxy's
// copy loop: it feeds an SSE meter or keeps a bounded copy of a JSON body,
// cuts a stream that would pass the token budget, and on a client that
// left, drains the provider (drain mode) for its exact usage.
type meteredBody struct {
	rc      io.ReadCloser
	c       *call
	sse     *usage.Meter
	json    *bytes.Buffer
	cap     int64 // completion cap from the budget, 0 = none
	mu      sync.Mutex
	eof     bool
	cut     bool
	bytes   int64
	dropped bool // JSON body over maxJSONUsageBody

	// idle cancels the upstream when the provider sends nothing for
	// Options.UpstreamIdle; stalled records that it did.
	idle    *time.Timer
	idleFor time.Duration
	stalled bool
	failed  bool // the upstream body failed (not EOF); its code is recorded
}

func newMeteredBody(c *call, rc io.ReadCloser, eventStream bool) *meteredBody {
	m := &meteredBody{rc: rc, c: c, cap: c.grant.CompletionCap}
	if eventStream {
		m.sse = usage.NewMeter(c.format)
	} else {
		m.json = &bytes.Buffer{}
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
	n, err := m.rc.Read(p)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > 0 {
		if m.idle != nil && !m.stalled {
			m.idle.Reset(m.idleFor)
		}
		m.observe(p[:n])
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
	if m.sse != nil && m.cap > 0 && !m.sse.Usage().Reported && m.sse.EstimatedCompletion() > m.cap {
		// The provider ignored the clamped max_tokens: stop before the
		// budget is overshot.
		m.cut = true
		m.c.fields.Code = "budget_exceeded"
		return n, io.EOF
	}
	return n, err
}

func (m *meteredBody) observe(p []byte) {
	m.bytes += int64(len(p))
	if m.sse != nil {
		_, _ = m.sse.Write(p)
		return
	}
	if m.dropped {
		return
	}
	if m.json.Len()+len(p) > maxJSONUsageBody {
		m.dropped = true
		m.json = nil
		return
	}
	m.json.Write(p)
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
		_, _ = io.Copy(io.Discard, readerFunc(m.Read))
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

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// usage reports what the response said about tokens.
func (m *meteredBody) usage() usage.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sse != nil {
		_ = m.sse.Close()
		return m.sse.Usage()
	}
	if m.json == nil {
		return usage.Usage{}
	}
	return usage.FromJSON(m.c.format, m.json.Bytes())
}
