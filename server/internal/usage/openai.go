package usage

import (
	"bytes"
	"encoding/json"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// openAIEvent is the part of an OpenAI-compatible stream event the meter
// reads: chat and legacy completion chunks, and Responses API events.
//
//	{"type": "response.output_text.delta",  // Responses API event type
//	 "delta": "text",                       // Responses API text delta
//	 "usage": {…},                          // chat: final or running usage
//	 "response": {"usage": {…}},            // Responses API terminal events
//	 "choices": [{"text": "…",              // legacy completions
//	              "delta": {"content", "reasoning_content", "reasoning",
//	                        "refusal": "…",
//	                        "tool_calls": [{"function": {"arguments": "…"}}],
//	                        "function_call": {"arguments": "…"}}}]}
//
// Strings are kept as decoded lengths, never decoded; the type as what
// it means.
type openAIEvent struct {
	textDelta     bool // "type" names a Responses API text delta
	terminal      bool // "type" names a Responses API terminal event
	delta         int  // decoded length of the top-level "delta"
	usage         tokenCounts
	responseUsage tokenCounts
	choices       int64 // the decoded bytes of the content of "choices"
}

// openAIChoice is one element of "choices": the decoded length of each
// text it may carry, and the total of its tool calls' arguments.
type openAIChoice struct {
	text, content, reasoningContent, reasoning, refusal, functionCall int
	toolCalls                                                         int64
}

var (
	doneMarker = []byte("[DONE]")
	// An event holding none of these keys carries nothing the meter
	// reads; it is not decoded.
	openAIKeys = [][]byte{[]byte(`"usage"`), []byte(`"delta"`), []byte(`"text"`), []byte(`"response`)}
)

func (m *Meter) observeOpenAI(data []byte) {
	if bytes.Equal(bytes.TrimSpace(data), doneMarker) {
		m.done = true
		return
	}
	if !containsAny(data, openAIKeys) || !json.Valid(data) {
		return
	}
	var e openAIEvent
	e.read(data)
	m.openAIUsage(&e.usage)
	m.openAIUsage(&e.responseUsage)
	content := e.choices
	if e.textDelta {
		content += int64(e.delta)
	}
	m.addContent(content)
	if e.terminal {
		m.done = true
	}
}

// setType reads the event type (a string value).
func (e *openAIEvent) setType(value []byte) {
	var buf typeBuf
	typ := appendDecoded(buf[:0], value)
	// Audio deltas are base64, not text: bytes/4 would mean nothing.
	e.textDelta = bytes.HasSuffix(typ, []byte(".delta")) && !bytes.Contains(typ, []byte("audio"))
	switch string(typ) {
	case "response.completed", "response.incomplete", "response.failed":
		e.terminal = true
	default:
		e.terminal = false
	}
}

// openAIUsage keeps the latest usage object: some providers repeat a
// running total in every chunk, OpenAI sends one final chunk.
func (m *Meter) openAIUsage(t *tokenCounts) {
	if u, ok := t.openAI(); ok {
		m.prompt, m.completion, m.reported = u.Prompt, u.Completion, true
	}
}

// read scans the event, which must be valid JSON (see scan.go for the
// rules every read follows). Nested values are read by nested loops, a
// function per level at most: the stack it takes is fixed by the shape
// above, never by the input's depth.
func (e *openAIEvent) read(data []byte) {
	var buf keyBuf
	for root := jsonscan.Object(data); ; {
		key, value, ok := root.Member()
		if !ok {
			return
		}
		switch string(memberName(key, &buf)) {
		case "type":
			if isString(value) {
				e.setType(value)
			}
		case "delta":
			setLen(&e.delta, value)
		case "usage":
			e.usage.read(value)
		case "response":
			for r := jsonscan.Object(value); ; {
				key, value, ok := r.Member()
				if !ok {
					break
				}
				if string(memberName(key, &buf)) == "usage" {
					e.responseUsage.read(value)
				}
			}
		case "choices":
			// An array replaces an earlier duplicate, null clears it,
			// another type leaves it.
			switch {
			case isNull(value):
				e.choices = 0
			case isArray(value):
				e.choices = 0
				for a := jsonscan.Array(value); ; {
					choice, ok := a.Element()
					if !ok {
						break
					}
					e.choices += choiceContent(choice)
				}
			}
		}
	}
}

// choiceContent is the content bytes of one element of "choices".
func choiceContent(value []byte) int64 {
	var c openAIChoice
	var buf keyBuf
	for choice := jsonscan.Object(value); ; {
		key, value, ok := choice.Member()
		if !ok {
			return c.bytes()
		}
		switch string(memberName(key, &buf)) {
		case "text":
			setLen(&c.text, value)
		case "delta":
			for delta := jsonscan.Object(value); ; {
				key, value, ok := delta.Member()
				if !ok {
					break
				}
				switch string(memberName(key, &buf)) {
				case "content":
					setLen(&c.content, value)
				case "reasoning_content":
					setLen(&c.reasoningContent, value)
				case "reasoning":
					setLen(&c.reasoning, value)
				case "refusal":
					setLen(&c.refusal, value)
				case "function_call":
					readArguments(&c.functionCall, value)
				case "tool_calls":
					switch {
					case isNull(value):
						c.toolCalls = 0
					case isArray(value):
						c.toolCalls = toolCallsContent(value)
					}
				}
			}
		}
	}
}

// toolCallsContent is the arguments bytes of a "tool_calls" array.
func toolCallsContent(value []byte) int64 {
	var total int64
	var buf keyBuf
	for calls := jsonscan.Array(value); ; {
		call, ok := calls.Element()
		if !ok {
			return total
		}
		n := 0
		for members := jsonscan.Object(call); ; {
			key, value, ok := members.Member()
			if !ok {
				break
			}
			if string(memberName(key, &buf)) == "function" {
				readArguments(&n, value)
			}
		}
		total += int64(n)
	}
}

// readArguments reads the "arguments" of a function object into n.
func readArguments(n *int, value []byte) {
	var buf keyBuf
	for members := jsonscan.Object(value); ; {
		key, value, ok := members.Member()
		if !ok {
			return
		}
		if string(memberName(key, &buf)) == "arguments" {
			setLen(n, value)
		}
	}
}

func (c *openAIChoice) bytes() int64 {
	return int64(c.text+c.content+c.reasoningContent+c.reasoning+c.refusal+c.functionCall) + c.toolCalls
}

func containsAny(data []byte, keys [][]byte) bool {
	for _, k := range keys {
		if bytes.Contains(data, k) {
			return true
		}
	}
	return false
}
