package realtime

import (
	"encoding/json"
	"errors"

	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// peekBytes is how much of a message is read before deciding whether it
// needs a closer look: an event's "type" comes first in what the
// provider and the SDKs send, long before a base64 audio payload.
const peekBytes = 4 << 10

// eventType returns the top-level "type" of a JSON event from a prefix of
// it. known is false when the prefix does not settle it (the type comes
// after a value the prefix cuts off, or the message is not an object).
func eventType(prefix []byte, whole bool) (typ string, known bool) {
	prefix = prefix[:len(prefix):len(prefix)] // so a value's end is len - spare capacity
	it := jsonscan.Object(prefix)
	for {
		key, value, ok := it.Member()
		if !ok {
			return "", whole
		}
		// A value reaching the prefix's end may be cut off there.
		if end := len(prefix) - (cap(value) - len(value)); !whole && end >= len(prefix) {
			return "", false
		}
		if jsonscan.KeyIs(key, "type") {
			var s string
			if json.Unmarshal(value, &s) != nil {
				return "", true
			}
			return s, true
		}
	}
}

// ClientEvent is what the relay reads of a client event.
type ClientEvent struct {
	Type    string
	EventID string
	// Model is session.model, when the event names one.
	Model *string
}

// ReadClientEvent reads an event the way a provider's JSON parser does:
// keys matched exactly (a Go struct would also take "Type" or "TYPE"),
// and of repeated keys the last one (JSON.parse, Python's json) — so an
// event cannot show the relay one type or model and the provider another.
// Invalid JSON is an error.
func ReadClientEvent(data []byte) (ClientEvent, error) {
	var ev ClientEvent
	if !json.Valid(data) {
		return ev, errInvalidJSON
	}
	it := jsonscan.Object(data)
	for {
		key, value, ok := it.Member()
		if !ok {
			return ev, nil
		}
		switch {
		case jsonscan.KeyIs(key, "type"):
			ev.Type = stringOr(value, "")
		case jsonscan.KeyIs(key, "event_id"):
			ev.EventID = stringOr(value, "")
		case jsonscan.KeyIs(key, "session"):
			ev.Model = nil
			inner := jsonscan.Object(value)
			for {
				k, v, ok := inner.Member()
				if !ok {
					break
				}
				if jsonscan.KeyIs(k, "model") {
					m := stringOr(v, "\x00not a string")
					ev.Model = &m
				}
			}
		}
	}
}

var errInvalidJSON = errors.New("the event is not valid JSON")

// stringOr decodes a JSON string value, or returns alt for any other value.
func stringOr(value []byte, alt string) string {
	var s string
	if json.Unmarshal(value, &s) != nil {
		return alt
	}
	return s
}

// Usage is what a response.done reports, summed over a session.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	Responses    int64 `json:"-"`
}

// responseDone reads the usage of a response.done event.
func responseDone(data []byte) (Usage, bool) {
	var ev struct {
		Type     string `json:"type"`
		Response struct {
			Usage *Usage `json:"usage"`
		} `json:"response"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.Type != "response.done" || ev.Response.Usage == nil {
		return Usage{}, false
	}
	return *ev.Response.Usage, true
}
