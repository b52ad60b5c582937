package rewrite

import (
	"encoding/json"
	"strings"

	"github.com/relayapi/relayapi/server/internal/usage"
)

// endpoint is the API a body is for, as far as rewriting cares.
type endpoint int

const (
	otherEndpoint       endpoint = iota
	chatEndpoint                 // OpenAI /chat/completions
	completionsEndpoint          // OpenAI legacy /completions
	responsesEndpoint            // OpenAI /responses
	messagesEndpoint             // Anthropic /v1/messages
)

func endpointOf(f usage.Format, path string, o object) endpoint {
	if path == "" {
		return guessEndpoint(f, o)
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimRight(path, "/")
	switch {
	case f == usage.Anthropic && strings.HasSuffix(path, "/messages"):
		return messagesEndpoint
	case f == usage.Anthropic:
		return otherEndpoint
	case strings.HasSuffix(path, "/chat/completions"):
		return chatEndpoint
	case strings.HasSuffix(path, "/completions"):
		return completionsEndpoint
	case strings.HasSuffix(path, "/responses"):
		return responsesEndpoint
	}
	return otherEndpoint
}

func guessEndpoint(f usage.Format, o object) endpoint {
	switch {
	case !o.has("messages"):
		return otherEndpoint
	case f == usage.Anthropic:
		return messagesEndpoint
	}
	return chatEndpoint
}

// stringValue decodes a raw JSON string; anything else is "".
func stringValue(raw []byte) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
