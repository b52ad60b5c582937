package usage

import (
	"encoding/json"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// anthropicEvent is the part of an Anthropic stream event the meter reads:
//
//	{"type": "…", "message": {"usage": {…}}, "usage": {…},
//	 "delta": {"text", "partial_json", "thinking": "…"}}
//
// The delta's strings are kept as decoded lengths.
type anthropicEvent struct {
	typ                       anthropicType
	messageUsage, usage       tokenCounts
	text, partialJSON, thinks int
}

// anthropicType is an event "type" the meter acts on.
type anthropicType int

const (
	otherEvent anthropicType = iota
	messageStart
	messageDelta
	contentBlockDelta
	messageStop
)

func anthropicTypeOf(value []byte) anthropicType {
	var buf typeBuf
	switch string(appendDecoded(buf[:0], value)) {
	case "message_start":
		return messageStart
	case "message_delta":
		return messageDelta
	case "content_block_delta":
		return contentBlockDelta
	case "message_stop":
		return messageStop
	}
	return otherEvent
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
	if !json.Valid(data) {
		return
	}
	var e anthropicEvent
	e.read(data)
	switch e.typ {
	case messageStart:
		m.anthropicStart(&e.messageUsage)
	case messageDelta:
		m.anthropicDelta(&e.usage)
	case contentBlockDelta:
		m.addContent(int64(e.text) + int64(e.partialJSON) + int64(e.thinks))
	case messageStop:
		m.done = true
	}
}

// read scans the event, which must be valid JSON (see scan.go), in
// nested loops: one frame however deep the input.
func (e *anthropicEvent) read(data []byte) {
	var buf keyBuf
	for root := jsonscan.Object(data); ; {
		key, value, ok := root.Member()
		if !ok {
			return
		}
		switch string(memberName(key, &buf)) {
		case "type":
			if isString(value) {
				e.typ = anthropicTypeOf(value)
			}
		case "message":
			for msg := jsonscan.Object(value); ; {
				key, value, ok := msg.Member()
				if !ok {
					break
				}
				if string(memberName(key, &buf)) == "usage" {
					e.messageUsage.read(value)
				}
			}
		case "usage":
			e.usage.read(value)
		case "delta":
			for delta := jsonscan.Object(value); ; {
				key, value, ok := delta.Member()
				if !ok {
					break
				}
				switch string(memberName(key, &buf)) {
				case "text":
					setLen(&e.text, value)
				case "partial_json":
					setLen(&e.partialJSON, value)
				case "thinking":
					setLen(&e.thinks, value)
				}
			}
		}
	}
}

// anthropicStart reads the prompt side; its output_tokens (usually 1) is
// only a floor for the completion until message_delta says more.
func (m *Meter) anthropicStart(t *tokenCounts) {
	m.prompt = max(m.prompt, t.anthropicPrompt())
	if !m.reported {
		m.completion = max(m.completion, t.OutputTokens.N)
	}
}

// anthropicDelta reads message_delta usage, whose counts are cumulative:
// the latest output_tokens is the completion. Newer API versions repeat
// the input counts there too; the larger prompt wins.
func (m *Meter) anthropicDelta(t *tokenCounts) {
	m.prompt = max(m.prompt, t.anthropicPrompt())
	if t.OutputTokens.OK {
		m.completion, m.reported = t.OutputTokens.N, true
	}
}
