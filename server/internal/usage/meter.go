package usage

// Meter watches a server-sent-events response stream as it is relayed and
// keeps the usage the provider reports, plus an estimate of the completion
// streamed so far for when it reports none (or the stream is cut short).
// Feed it the exact response bytes, split anywhere. It is not safe for
// concurrent use.
type Meter struct {
	format Format
	lines  lineReader

	// The event being assembled.
	event  []byte // its event: field
	data   []byte // its data: lines, each followed by '\n'
	broken bool   // one of its lines was dropped: the event is ignored

	prompt, completion int64
	reported           bool
	estimate           int64
	done               bool
}

// NewMeter returns a Meter for a stream in format f.
func NewMeter(f Format) *Meter {
	return &Meter{format: f}
}

// Write observes the next bytes of the stream. It never fails.
func (m *Meter) Write(p []byte) (int, error) {
	m.lines.feed(p, m.line)
	return len(p), nil
}

// Close ends the stream: a last event the provider did not terminate with
// a blank line is still counted. Call it before the final Usage.
func (m *Meter) Close() error {
	m.lines.flush(m.line)
	m.dispatch()
	return nil
}

// Usage is the provider's reported usage once seen; before that (or
// without it) Reported is false and Completion the larger of the estimate
// and any partial count.
func (m *Meter) Usage() Usage {
	if m.reported {
		return Usage{Prompt: m.prompt, Completion: m.completion, Reported: true}
	}
	return Usage{Prompt: m.prompt, Completion: max(m.completion, m.estimate)}
}

// EstimatedCompletion is the completion streamed so far, estimated from
// the content deltas: ceil(bytes/4) per delta.
func (m *Meter) EstimatedCompletion() int64 { return m.estimate }

// Done reports whether the stream ended normally: OpenAI's [DONE] (or a
// Responses API terminal event), Anthropic's message_stop.
func (m *Meter) Done() bool { return m.done }

// estimateOf is the estimate for one content delta of n bytes (decoded).
// Typical text is ~4 bytes a token; any non-empty delta is at least one
// token.
func estimateOf(n int) int64 {
	return int64((n + 3) / 4)
}
