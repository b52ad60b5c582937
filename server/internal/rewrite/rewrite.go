// Package rewrite adjusts a JSON request body before it is forwarded:
// model mapping, max-token caps and streamed usage reporting. It also
// estimates what a request will cost, so a budget can be reserved first.
package rewrite

import "github.com/relayapi/relayapi/server/internal/usage"

// Plan is what the relay wants changed in a request body.
type Plan struct {
	// Model replaces the body's "model" where present; "" keeps it.
	Model string
	// MaxTokens caps the completion; 0 means no cap.
	MaxTokens int64
	// IncludeUsage forces stream_options.include_usage on an OpenAI
	// streaming chat or completions request, so the final chunk carries
	// usage.
	IncludeUsage bool
	// Path is the request path forwarded upstream. Optional: without it
	// the endpoint is guessed from the body (a "messages" member means
	// chat), and only a recognised endpoint gets a cap or stream_options
	// added — an unknown parameter makes OpenAI answer 400, and a body
	// alone cannot tell /v1/completions from /v1/images/generations.
	Path string
}

func (p Plan) noop() bool {
	return p.Model == "" && p.MaxTokens <= 0 && !p.IncludeUsage
}

// Apply rewrites body according to p. Only top-level members change;
// the others keep their bytes and order (whitespace between top-level
// members is dropped). When nothing needs to change, body itself is
// returned with changed false; a Plan asking for nothing returns body
// without reading it. A body that is not a JSON object is an
// ErrNotObject.
func Apply(f usage.Format, body []byte, p Plan) (out []byte, changed bool, err error) {
	if p.noop() {
		return body, false, nil
	}
	o, err := parseObject(body)
	if err != nil {
		return nil, false, err
	}
	kind := endpointOf(f, p.Path, o)
	model := p.Model
	if model == "" {
		model = stringValue(o.get("model"))
	}
	changed = o.setModel(p.Model)
	o, capped := o.capTokens(f, kind, p.MaxTokens, model)
	o, included := o.includeUsage(f, kind, p.IncludeUsage)
	if !changed && !capped && !included {
		return body, false, nil
	}
	return o.encode(len(body) + 64), true, nil
}
