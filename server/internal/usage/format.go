// Package usage reads the token usage a provider reports, from a JSON
// response body (BodyMeter, FromJSON) or from a server-sent-events stream
// (Meter) as it passes through.
package usage

import "strings"

// Format is the wire format of a provider API; it decides where usage lives.
type Format int

const (
	// OpenAI is the OpenAI-compatible format most providers speak.
	OpenAI Format = iota
	// Anthropic is the Anthropic Messages API format.
	Anthropic
	// Gemini is the Gemini API's (and Vertex AI's) generateContent and
	// streamGenerateContent format: usage is in "usageMetadata".
	Gemini
)

func (f Format) String() string {
	switch f {
	case Anthropic:
		return "anthropic"
	case Gemini:
		return "gemini"
	}
	return "openai"
}

// FormatForPath picks the format from the path forwarded upstream. Only the
// Anthropic Messages API (/v1/messages and its sub-resources such as
// count_tokens) is Anthropic; OpenAI's /v1/threads/{id}/messages does not
// end in /v1/messages and stays OpenAI, like every other path. It never
// answers Gemini: a Gemini path names its model and method
// (models/{model}:generateContent), which the endpoint catalog matches.
func FormatForPath(path string) Format {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimRight(path, "/")
	if strings.HasSuffix(path, "/v1/messages") || strings.Contains(path, "/v1/messages/") {
		return Anthropic
	}
	return OpenAI
}
