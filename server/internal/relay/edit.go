package relay

import (
	"io"

	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/streamedit"
	"github.com/relayapi/relayapi/server/internal/usage"
)

// A budget stream is relayed event by event: each whole event is
// metered, edited (the relay's own usage reporting taken out), and
// checked against the cap, so the stream can be stopped between two
// events and ended the way the provider ends a length-limited answer.
//
// The cut is a safety net for providers that ignore the clamped cap; a
// well-behaved stream must never trip it. So it fires on facts that are
// lower bounds of the tokens produced — each content event carries at
// least one token, and no real text averages more than cutBytesPerToken
// bytes a token — and only past the cap plus a margin of a quarter and
// cutSlack tokens.
const (
	cutBytesPerToken = 8
	cutSlack         = 16
)

// eventEdit is the state of one edited stream.
type eventEdit struct {
	split  streamedit.Splitter
	editor *streamedit.Editor
	pieces []streamedit.Piece
	buf    []byte // reads from the provider
	out    []byte // edited bytes, read by the client from pos on
	pos    int
	ended  bool
	endErr error
}

func newEventEdit(c *call) *eventEdit {
	return &eventEdit{
		editor: streamedit.NewEditor(dialectOf(c.route), c.stripUsage, c.answers),
		buf:    make([]byte, copyBufferSize),
	}
}

func dialectOf(r endpoint.Route) streamedit.Dialect {
	switch {
	case !r.Known():
		return streamedit.Chat
	case r.Cap == endpoint.ResponsesCap:
		return streamedit.Responses
	case r.Cap == endpoint.GeminiCap:
		return streamedit.Gemini
	case r.Format == usage.Anthropic:
		return streamedit.Messages
	case r.Cap == endpoint.MaxTokensCap:
		return streamedit.Completions
	}
	return streamedit.Chat
}

// readEdited gives the client the edited stream.
func (m *meteredBody) readEdited(p []byte) (int, error) {
	e := m.edit
	for e.pos == len(e.out) {
		e.out, e.pos = e.out[:0], 0
		if e.ended {
			return 0, e.endErr
		}
		n, err := m.pull(e.buf)
		m.mu.Lock()
		m.feedEvents(e.buf[:n])
		if err != nil && !e.ended {
			rest := e.split.Rest()
			_, _ = m.sse.Write(rest.Bytes)
			e.out = append(e.out, rest.Bytes...)
			e.ended, e.endErr = true, err
		}
		m.mu.Unlock()
	}
	n := copy(p, e.out[e.pos:])
	e.pos += n
	return n, nil
}

// feedEvents meters and edits the whole events in data, and stops the
// stream once it has provably overrun its cap.
func (m *meteredBody) feedEvents(data []byte) {
	e := m.edit
	e.pieces = e.split.Feed(data, e.pieces[:0])
	for _, piece := range e.pieces {
		if e.ended {
			return
		}
		_, _ = m.sse.Write(piece.Bytes)
		out := piece.Bytes
		if !piece.Raw {
			out = e.editor.Event(piece.Bytes)
		}
		e.out = append(e.out, out...)
		if m.overran() {
			m.stop()
		}
	}
}

// overran reports a stream past its cap by the margin, on lower bounds.
func (m *meteredBody) overran() bool {
	if m.cap <= 0 || m.sse.Usage().Reported {
		return false
	}
	p := m.sse.Progress()
	produced := max(p.Events, (p.TextBytes+cutBytesPerToken-1)/cutBytesPerToken)
	return produced > m.cap+m.cap/4+cutSlack
}

// stop ends the stream for the client as the provider would at its
// length limit, and cancels the provider.
func (m *meteredBody) stop() {
	e := m.edit
	m.cut = true
	u := m.cutUsageLocked()
	e.out = append(e.out, e.editor.End(streamedit.Usage{Prompt: u.Prompt, Completion: u.Completion}, m.c.clientUsage)...)
	e.ended, e.endErr = true, io.EOF
	m.c.fields.Code = "budget_exceeded"
	m.c.cancelUp()
}

// cutUsage is what a stream the relay stopped is charged: the prompt the
// provider reported (else the estimate) and, for the completion, the
// clamp or the estimate of what was streamed, whichever is more, but at
// most twice the clamp. The stop comes once the overrun is certain, at
// about 1.25 times the clamp on lower bounds, so the provider produced
// somewhere between that and the estimate; twice the clamp covers it,
// and keeps a token's charge within its budget plus one call's clamp.
func (m *meteredBody) cutUsage() usage.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cutUsageLocked()
}

func (m *meteredBody) cutUsageLocked() usage.Usage {
	u := m.sse.Usage()
	prompt := u.Prompt
	if prompt == 0 {
		prompt = m.c.promptEstimate
	}
	est := max(m.sse.EstimatedCompletion(), u.Completion)
	return usage.Usage{Prompt: prompt, Completion: max(m.cap, min(est, 2*m.cap))}
}
