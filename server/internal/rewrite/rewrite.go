// Package rewrite adjusts a JSON request body before it is forwarded:
// model mapping, output-token caps and streamed usage reporting. It also
// reads what a request will cost (Inspect), so a budget can be reserved
// first, and refuses bodies whose cost it cannot know.
package rewrite

import (
	"github.com/relayapi/relayapi/server/internal/endpoint"
)

// Plan is what the relay wants changed in a request body.
type Plan struct {
	// Route is the resolved endpoint: it decides which members bound an
	// answer and whether a stream can be asked to report usage. An
	// unknown route gets neither a cap nor stream_options.
	Route endpoint.Route
	// Model replaces the body's "model" where present; "" keeps it.
	Model string
	// MaxTokens caps each answer; 0 means no cap.
	MaxTokens int64
	// CapParam is the member a chat request gets when it has no cap:
	// "max_completion_tokens" (OpenAI, reasoning models) or "max_tokens"
	// (most OpenAI-compatible providers). "" means max_tokens.
	CapParam string
	// IncludeUsage forces stream_options.include_usage on an OpenAI
	// streaming chat or completions request, so the final chunk carries
	// usage.
	IncludeUsage bool
}

func (p Plan) noop() bool {
	return p.Model == "" && p.MaxTokens <= 0 && !p.IncludeUsage
}

// Apply rewrites body according to p. Only top-level members (and the
// members of generationConfig and stream_options) change; the others keep
// their bytes and order (whitespace between top-level members is
// dropped). When nothing needs to change, body itself is returned with
// changed false; a Plan asking for nothing returns body without reading
// it. A body that is not a JSON object is an ErrNotObject.
func Apply(body []byte, p Plan) (out []byte, changed bool, err error) {
	if p.noop() {
		return body, false, nil
	}
	o, err := parseObject(body)
	if err != nil {
		return nil, false, err
	}
	changed = o.setModel(p.Model)
	o, capped := o.capTokens(p)
	o, included := o.includeUsage(p)
	if !changed && !capped && !included {
		return body, false, nil
	}
	return o.encode(len(body) + 64), true, nil
}

// format is the route's wire format, OpenAI for an unknown route.
