package streamedit

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// Dialect is the event vocabulary of a stream.
type Dialect int

const (
	Chat        Dialect = iota // OpenAI chat.completion.chunk
	Completions                // OpenAI legacy text_completion
	Responses                  // OpenAI Responses API events
	Messages                   // Anthropic Messages API events
	Gemini                     // Gemini GenerateContentResponse chunks
)

// Editor edits one stream. Feed it every event in order (Event), and
// when the relay must stop the stream, write End's events instead of the
// rest. It is not safe for concurrent use.
type Editor struct {
	dialect Dialect
	// strip removes what stream_options.include_usage added when the
	// relay, not the client, asked for it (OpenAI: "every other chunk
	// then carries usage: null" and a final chunk with choices [] and the
	// usage — notes/providers.md, API reference ChatCompletionStreamOptions).
	strip   bool
	answers int64

	// Facts of the stream, for the events that end it.
	id, object, created, model, fingerprint []byte
	seq                                     int64 // Responses: last sequence_number
	openBlock                               int64 // Messages: open content block, -1 for none
}

// NewEditor edits a stream of dialect d whose call asked for answers
// choices; strip removes the usage reporting the relay added.
func NewEditor(d Dialect, strip bool, answers int64) *Editor {
	return &Editor{dialect: d, strip: strip, answers: max(answers, 1), openBlock: -1}
}

// Event takes one whole event and returns what the client gets for it:
// the event itself, an edited copy, or nil (dropped).
func (e *Editor) Event(raw []byte) []byte {
	name, data, multi := fields(raw)
	if data == nil {
		return raw
	}
	switch e.dialect {
	case Chat, Completions:
		e.remember(data, "id", "object", "created", "model", "system_fingerprint")
		if e.strip && !multi {
			return e.stripUsage(raw, data)
		}
	case Responses:
		e.responseEvent(data)
	case Messages:
		e.messagesEvent(name, data)
	case Gemini:
		e.remember(data, "responseId", "", "", "modelVersion", "")
	}
	return raw
}

// fields returns an event's name and data (data lines joined by "\n"); a
// nil data for an event without data. multi reports several data lines.
func fields(raw []byte) (name, data []byte, multi bool) {
	for len(raw) > 0 {
		line := raw
		raw = nil
		if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
			width := 1
			if line[i] == '\r' && i+1 < len(line) && line[i+1] == '\n' {
				width = 2
			}
			line, raw = line[:i], line[i+width:]
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "event":
			name = value
		case "data":
			if data != nil {
				multi = true
				data = append(append(append([]byte{}, data...), '\n'), value...)
				continue
			}
			data = value
		}
	}
	return name, data, multi
}

// remember keeps the first non-empty raw values of the named members (""
// skips a slot): id, object, created, model, fingerprint.
func (e *Editor) remember(data []byte, names ...string) {
	if e.id != nil || !isObject(data) {
		return
	}
	slots := []*[]byte{&e.id, &e.object, &e.created, &e.model, &e.fingerprint}
	for it := jsonscan.Object(data); ; {
		key, value, ok := it.Member()
		if !ok {
			return
		}
		for i, n := range names {
			if n != "" && jsonscan.KeyIs(key, n) && *slots[i] == nil {
				*slots[i] = append([]byte{}, value...)
			}
		}
	}
}

// stripUsage drops the usage chunk (choices [] with a usage object) and
// removes "usage": null from the others. Anything else passes untouched.
func (e *Editor) stripUsage(raw, data []byte) []byte {
	if !bytes.Contains(data, []byte(`"usage"`)) || !isObject(data) || !json.Valid(data) {
		return raw
	}
	var kept [][2][]byte
	usageNull, usageObject, emptyChoices := false, false, false
	for it := jsonscan.Object(data); ; {
		key, value, ok := it.Member()
		if !ok {
			break
		}
		switch {
		case jsonscan.KeyIs(key, "usage"):
			usageNull = string(value) == "null"
			usageObject = len(value) > 0 && value[0] == '{'
			continue
		case jsonscan.KeyIs(key, "choices"):
			emptyChoices = isEmptyArray(value)
		}
		kept = append(kept, [2][]byte{key, value})
	}
	switch {
	case usageObject && emptyChoices:
		return nil
	case !usageNull:
		return raw
	}
	out := append(make([]byte, 0, len(raw)), "data: {"...)
	for i, m := range kept {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(append(append(out, m[0]...), ':'), m[1]...)
	}
	return append(out, "}\n\n"...)
}

func (e *Editor) responseEvent(data []byte) {
	if !isObject(data) {
		return
	}
	for it := jsonscan.Object(data); ; {
		key, value, ok := it.Member()
		if !ok {
			return
		}
		switch {
		case jsonscan.KeyIs(key, "sequence_number"):
			if n, err := strconv.ParseInt(string(value), 10, 64); err == nil {
				e.seq = max(e.seq, n)
			}
		case jsonscan.KeyIs(key, "response") && e.id == nil && isObject(value):
			e.remember(value, "id", "", "created_at", "model", "")
		}
	}
}

func (e *Editor) messagesEvent(name, data []byte) {
	switch string(name) {
	case "content_block_start":
		e.openBlock = memberInt(data, "index", 0)
	case "content_block_stop":
		e.openBlock = -1
	}
}

func isObject(b []byte) bool {
	i := jsonscan.SkipSpace(b, 0)
	return i < len(b) && b[i] == '{'
}

func isEmptyArray(v []byte) bool {
	return len(v) >= 2 && v[0] == '[' && v[jsonscan.SkipSpace(v, 1)] == ']'
}

// memberInt reads an integer member of an object, def when absent.
func memberInt(data []byte, name string, def int64) int64 {
	if !isObject(data) {
		return def
	}
	for it := jsonscan.Object(data); ; {
		key, value, ok := it.Member()
		if !ok {
			return def
		}
		if jsonscan.KeyIs(key, name) {
			if n, err := strconv.ParseInt(string(value), 10, 64); err == nil {
				return n
			}
		}
	}
}
