package usage

// Meter watches a server-sent-events response stream as it is relayed and
// keeps the usage the provider reports, plus the progress of the
// completion streamed so far (Progress) for when it reports none yet, or
// never (the stream is cut short).
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
	progress           Progress
	done               bool
}

// Progress is what a stream has delivered of its completion so far, in
// exact facts rather than an estimate.
type Progress struct {
	// Events counts the events that carried at least one non-empty
	// content delta: OpenAI chat delta.content, reasoning_content,
	// reasoning, refusal and tool call arguments, legacy completions'
	// text, Responses API text and argument .delta events; Anthropic
	// content_block_delta text, partial_json and thinking; Gemini
	// candidates' parts text (thoughts included) and function call args.
	// A provider never streams a content event of less than one token, so
	// Events is a lower bound of the completion tokens.
	Events int64
	// TextBytes is the decoded length of all those deltas.
	TextBytes int64
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
// without it) Reported is false and Completion the larger of the
// estimate and any partial count.
func (m *Meter) Usage() Usage {
	if m.reported {
		return Usage{Prompt: m.prompt, Completion: m.completion, Reported: true}
	}
	return Usage{Prompt: m.prompt, Completion: max(m.completion, m.EstimatedCompletion())}
}

// Progress is the completion's progress so far.
func (m *Meter) Progress() Progress { return m.progress }

// EstimatedCompletion is the completion streamed so far, estimated from
// the whole stream's progress: max(Events, ceil(TextBytes/4)). Typical
// text is about 4 bytes a token, and each content event is at least one.
// Rounding each delta up instead, as before, added up to 3/4 of a token
// per event: providers stream a token or so per event, so a well-behaved
// stream was over-estimated by about half (twice, for 5-byte tokens), and
// the relay cut it well before its budget.
func (m *Meter) EstimatedCompletion() int64 {
	return max(m.progress.Events, (m.progress.TextBytes+3)/4)
}

// Done reports whether the stream ended normally: OpenAI's [DONE] (or a
// Responses API terminal event), Anthropic's message_stop, a Gemini
// event with a finishReason.
func (m *Meter) Done() bool { return m.done }

// addContent counts one event whose content deltas total n decoded bytes
// (an event without any has n == 0).
func (m *Meter) addContent(n int64) {
	if n > 0 {
		m.progress.Events++
		m.progress.TextBytes += n
	}
}
