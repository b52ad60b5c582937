package usage

import (
	"encoding/json"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// geminiEvent is the part of a Gemini stream event (streamGenerateContent
// with alt=sse: each event is "data: " and a GenerateContentResponse, the
// events ended by "\r\n\r\n") the meter reads:
//
//	{"candidates": [{"content": {"parts": [{"text": "…", "thought": true},
//	                                       {"functionCall": {"args": {…}}}]},
//	                 "finishReason": "STOP"}],
//	 "usageMetadata": {…}}
//
// Text is kept as decoded lengths, a function call's args (an object,
// sent whole) as its length in JSON, like OpenAI's arguments string.
// Other parts carry no text to count: inlineData is base64 media, whose
// tokens bytes/4 would wildly overstate, thoughtSignature an opaque
// signature.
type geminiEvent struct {
	usage    tokenCounts
	content  int64 // the text and args bytes of all candidates
	finished bool  // a candidate has a finishReason
}

// geminiCandidate is one element of "candidates".
type geminiCandidate struct {
	parts  int64 // the content bytes of its parts
	finish bool
}

func (m *Meter) observeGemini(data []byte) {
	if !json.Valid(data) {
		return
	}
	var e geminiEvent
	e.read(data)
	m.addContent(e.content)
	if u, ok := e.usage.geminiUsage(); ok {
		m.geminiUsage(u, e.finished)
	}
	if e.finished {
		m.done = true
	}
}

// geminiUsage keeps the latest usageMetadata. Gemini repeats it in every
// chunk with the counts so far (a running candidatesTokenCount and
// thoughtsTokenCount, or only the prompt; Vertex AI sometimes only
// {"trafficType": …}); the final chunk, the one with a finishReason, has
// the call's usage (recorded gemini-2.5-flash streams in google/adk-go's
// testdata, TestLLMAgentStreamingModeSSE.httprr). Until then the counts
// are a floor for the completion, like Anthropic's message_start, and
// the only measure of thoughts, which are billed but streamed as text
// only when the request sets thinkingConfig.includeThoughts.
//
// The gemini-pro of 2024 put a finishReason in every chunk (and no
// usageMetadata); a model doing both would be reported from its first
// chunk, each later chunk's counts replacing the last.
func (m *Meter) geminiUsage(u Usage, final bool) {
	m.prompt = u.Prompt
	if final {
		m.completion, m.reported = u.Completion, true
		return
	}
	m.completion = max(m.completion, u.Completion)
}

// read scans the event, which must be valid JSON (see scan.go for the
// rules every read follows), a function per level at most.
func (e *geminiEvent) read(data []byte) {
	var buf keyBuf
	for root := jsonscan.Object(data); ; {
		key, value, ok := root.Member()
		if !ok {
			return
		}
		switch string(memberName(key, &buf)) {
		case "usageMetadata":
			e.usage.read(value)
		case "candidates":
			// An array replaces an earlier duplicate, null clears it,
			// another type leaves it.
			switch {
			case isNull(value):
				e.content, e.finished = 0, false
			case isArray(value):
				e.content, e.finished = 0, false
				for a := jsonscan.Array(value); ; {
					element, ok := a.Element()
					if !ok {
						break
					}
					var c geminiCandidate
					c.read(element)
					e.content += c.parts
					e.finished = e.finished || c.finish
				}
			}
		}
	}
}

func (c *geminiCandidate) read(value []byte) {
	var buf keyBuf
	for members := jsonscan.Object(value); ; {
		key, value, ok := members.Member()
		if !ok {
			return
		}
		switch string(memberName(key, &buf)) {
		case "finishReason":
			if isString(value) {
				c.finish = jsonscan.DecodedLen(value) > 0
			}
		case "content":
			for content := jsonscan.Object(value); ; {
				key, value, ok := content.Member()
				if !ok {
					break
				}
				if string(memberName(key, &buf)) != "parts" {
					continue
				}
				switch {
				case isNull(value):
					c.parts = 0
				case isArray(value):
					c.parts = partsContent(value)
				}
			}
		}
	}
}

// partsContent is the content bytes of a "parts" array.
func partsContent(value []byte) int64 {
	var total int64
	for parts := jsonscan.Array(value); ; {
		part, ok := parts.Element()
		if !ok {
			return total
		}
		total += partContent(part)
	}
}

// partContent is the content bytes of one part: its text, or its
// function call's args.
func partContent(value []byte) int64 {
	var text, args int
	var buf keyBuf
	for members := jsonscan.Object(value); ; {
		key, value, ok := members.Member()
		if !ok {
			return int64(text + args)
		}
		switch string(memberName(key, &buf)) {
		case "text":
			setLen(&text, value)
		case "functionCall":
			for call := jsonscan.Object(value); ; {
				key, value, ok := call.Member()
				if !ok {
					break
				}
				if string(memberName(key, &buf)) == "args" {
					args = objectLen(value)
				}
			}
		}
	}
}

// objectLen is the length of a raw value when it is an object, else 0.
func objectLen(value []byte) int {
	if len(value) > 0 && value[0] == '{' {
		return len(value)
	}
	return 0
}
