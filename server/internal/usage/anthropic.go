package usage

import "encoding/json"

// anthropicEvent is the part of an Anthropic stream event the meter reads.
type anthropicEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage *tokenCounts `json:"usage"`
	} `json:"message"`
	Usage *tokenCounts `json:"usage"`
	Delta struct {
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
	} `json:"delta"`
}

func (m *Meter) observeAnthropic(event, data []byte) {
	// Named events that carry nothing we read are not decoded; an event
	// without an event: line is decoded and judged by its "type".
	switch string(event) {
	case "ping", "content_block_start", "content_block_stop", "error":
		return
	case "message_stop":
		m.done = true
		return
	}
	var e anthropicEvent
	_ = json.Unmarshal(data, &e)
	switch e.Type {
	case "message_start":
		m.anthropicStart(e.Message.Usage)
	case "message_delta":
		m.anthropicDelta(e.Usage)
	case "content_block_delta":
		m.addEstimate(e.Delta.Text)
		m.addEstimate(e.Delta.PartialJSON)
		m.addEstimate(e.Delta.Thinking)
	case "message_stop":
		m.done = true
	}
}

// anthropicStart reads the prompt side; its output_tokens (usually 1) is
// only a floor for the completion until message_delta says more.
func (m *Meter) anthropicStart(t *tokenCounts) {
	if t == nil {
		return
	}
	m.prompt = max(m.prompt, t.anthropicPrompt())
	if !m.reported {
		m.completion = max(m.completion, t.OutputTokens.N)
	}
}

// anthropicDelta reads message_delta usage, whose counts are cumulative:
// the latest output_tokens is the completion. Newer API versions repeat
// the input counts there too; the larger prompt wins.
func (m *Meter) anthropicDelta(t *tokenCounts) {
	if t == nil {
		return
	}
	m.prompt = max(m.prompt, t.anthropicPrompt())
	if t.OutputTokens.OK {
		m.completion, m.reported = t.OutputTokens.N, true
	}
}
