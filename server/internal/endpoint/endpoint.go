// Package endpoint is the relay's one catalog of provider endpoints: for
// each API family (OpenAI and the many providers compatible with it,
// Anthropic, Gemini, Azure OpenAI), which (method, path) pairs exist, what
// they are (inference the provider bills by tokens, a free utility, or an
// account/stateful object), their wire format, where they name the model,
// how an answer's length is bounded and whether the relay can read the
// usage the provider reports.
//
// A request is resolved once into a Route that policy, rewriting, metering
// and header filtering all read. Whatever the catalog does not name
// resolves to Unknown: not inference, not metered — so a budget cannot
// leak through an endpoint nobody thought about.
package endpoint

import (
	"net/url"
	"strings"

	"github.com/relayapi/relayapi/server/internal/usage"
)

// Family is an API dialect a provider speaks.
type Family string

const (
	OpenAI    Family = "openai"    // api.openai.com and every OpenAI-compatible API
	Anthropic Family = "anthropic" // the Anthropic Messages API
	Gemini    Family = "gemini"    // the Gemini (Generative Language) native API
	Azure     Family = "azure"     // Azure OpenAI deployment paths
)

// Families lists every family, for providers that speak them all.
var Families = []Family{OpenAI, Anthropic, Gemini, Azure}

// ParseFamily checks a family name from config.
func ParseFamily(s string) (Family, bool) {
	for _, f := range Families {
		if string(f) == s {
			return f, true
		}
	}
	return "", false
}

// Kind says what an endpoint does, as far as a token's promises go.
type Kind int

const (
	// Unknown is every (method, path) the catalog does not name.
	Unknown Kind = iota
	// Inference generates output the provider bills.
	Inference
	// Utility is free or read-only: counting tokens, listing models,
	// moderation.
	Utility
	// Account reaches stored, account-wide objects: files, batches,
	// fine-tuning, stored responses and completions, caches.
	Account
)

func (k Kind) String() string {
	switch k {
	case Inference:
		return "inference"
	case Utility:
		return "utility"
	case Account:
		return "account"
	}
	return "unknown"
}

// Cap is how the length of an answer is bounded in the request body.
type Cap int

const (
	// NoCap: the answer has no length to bound (embeddings, utilities).
	NoCap Cap = iota
	// ChatCap: OpenAI chat completions, max_completion_tokens or the
	// legacy max_tokens, depending on provider and model.
	ChatCap
	// MaxTokensCap: max_tokens (OpenAI legacy completions, Anthropic).
	MaxTokensCap
	// ResponsesCap: max_output_tokens (OpenAI Responses API).
	ResponsesCap
	// GeminiCap: generationConfig.maxOutputTokens.
	GeminiCap
	// ImageCap: nothing bounds the output; each image costs what its
	// model, size and quality say (token-billed image models only).
	ImageCap
)

// Choices names the request member that multiplies the answers.
type Choices int

const (
	OneChoice      Choices = iota
	NChoices               // "n" (chat, images)
	NBestOfChoices         // max("n", "best_of") (legacy completions)
	CandidateCount         // generationConfig.candidateCount (Gemini)
)

// Context names the request parameters by which an endpoint can make the
// provider read context the relay cannot see (stored responses, files,
// server-side tools): see reqbody.ServerSideContext.
type Context int

const (
	NoContext Context = iota
	ChatContext
	CompletionsContext
	ResponsesContext
	MessagesContext
	GeminiContext
)

// Endpoint is one catalog entry.
type Endpoint struct {
	// Name identifies the entry in logs and docs ("openai.chat").
	Name    string
	Family  Family
	Method  string
	Pattern string
	Kind    Kind
	// Format is the wire format of the answer's usage.
	Format usage.Format
	// Metered: the answer reports usage the relay reads.
	Metered bool
	Cap     Cap
	Choices Choices
	Context Context
	// StreamInPath: the path itself asks for a stream
	// (streamGenerateContent); otherwise a body "stream": true does.
	StreamInPath bool
	// IncludeUsage: a stream reports usage only when the request sets
	// stream_options.include_usage (OpenAI chat and legacy completions).
	IncludeUsage bool
	// ListsModels: the answer lists models ("data"[].id, Gemini's
	// "models"[].name), which a token with `models` sees filtered.
	ListsModels bool

	pattern pattern
}

// Route is a request resolved against the catalog. The zero Route is a
// request the catalog does not name: kind Unknown, nothing metered,
// nothing capped.
type Route struct {
	Endpoint
	// PathModel is the model the path names (Gemini models/{model}:…,
	// Azure deployments/{model}/…), "" when it names none.
	PathModel string
	// modelAt is the index of the path segment naming it.
	modelAt int
}

// Known reports whether the request matched a catalog entry.
func (r Route) Known() bool { return r.Kind != Unknown }

// Caps reports whether the request body bounds the answer's length (a
// member the relay can clamp).
func (r Route) Caps() bool {
	return r.Cap == ChatCap || r.Cap == MaxTokensCap || r.Cap == ResponsesCap || r.Cap == GeminiCap
}

// IsMetered reports whether the route is inference whose usage the relay
// reads.
func (r Route) IsMetered() bool { return r.Kind == Inference && r.Metered }

// Catalog resolves requests. It is immutable and safe for concurrent use.
// Entries are indexed by their last path segment, so a request is matched
// against a handful of patterns, not the whole table.
type Catalog struct {
	all    []*Endpoint
	byLast map[string][]*Endpoint // last segment a literal
	byVerb map[string][]*Endpoint // last segment {model}:verb
	rest   []*Endpoint            // last segment a wildcard
}

// New builds a catalog from entries; a bad pattern panics (the entries
// are the package's own table, checked by its tests).
func New(entries []Endpoint) *Catalog {
	c := &Catalog{byLast: map[string][]*Endpoint{}, byVerb: map[string][]*Endpoint{}}
	for i := range entries {
		e := entries[i]
		e.pattern = mustCompile(e.Pattern)
		c.add(&e)
	}
	return c
}

func (c *Catalog) add(e *Endpoint) {
	c.all = append(c.all, e)
	last := e.pattern.segs[len(e.pattern.segs)-1]
	switch last.kind {
	case literal:
		c.byLast[last.text] = append(c.byLast[last.text], e)
	case verb:
		c.byVerb[last.text] = append(c.byVerb[last.text], e)
	default:
		c.rest = append(c.rest, e)
	}
}

// Default is the catalog of the built-in table.
func Default() *Catalog { return New(table) }

// Resolve finds the entry for method and path (unescaped, without query)
// among the families a provider speaks. The most specific match wins: the
// one with the most literal path segments, so an Azure deployment path is
// never read as a plain OpenAI one.
func (c *Catalog) Resolve(families []Family, method, path string) Route {
	segs := splitPath(path)
	if len(segs) == 0 {
		return Route{}
	}
	last := segs[len(segs)-1]
	var byVerb []*Endpoint
	if _, v, ok := strings.Cut(last, ":"); ok {
		byVerb = c.byVerb[v]
	}
	var best *Endpoint
	var bestModel string
	bestAt := -1
	for _, list := range [3][]*Endpoint{c.byLast[last], byVerb, c.rest} {
		for _, e := range list {
			if e.Method != method || (best != nil && e.pattern.score <= best.pattern.score) || !speaks(families, e.Family) {
				continue
			}
			if model, at, ok := e.pattern.match(segs); ok {
				best, bestModel, bestAt = e, model, at
			}
		}
	}
	if best == nil {
		return Route{}
	}
	return Route{Endpoint: *best, PathModel: bestModel, modelAt: bestAt}
}

// WithModel returns escapedPath (the path the route was resolved from,
// escaped as it is forwarded) with the model the path names replaced by
// model — how model_map reaches a model named in the path. A route that
// names no model returns the path unchanged.
func (r Route) WithModel(escapedPath, model string) string {
	if r.PathModel == "" || r.modelAt < 0 {
		return escapedPath
	}
	lead := strings.HasPrefix(escapedPath, "/")
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	if r.modelAt >= len(segs) {
		return escapedPath
	}
	seg := segs[r.modelAt]
	escaped := url.PathEscape(model)
	last := r.pattern.segs[len(r.pattern.segs)-1]
	if _, method, ok := strings.Cut(seg, ":"); ok && r.modelAt == len(segs)-1 && last.kind == verb {
		escaped += ":" + method // Gemini's models/{model}:generateContent
	}
	segs[r.modelAt] = escaped
	out := strings.Join(segs, "/")
	if lead {
		out = "/" + out
	}
	if strings.HasSuffix(escapedPath, "/") && len(escapedPath) > 1 {
		out += "/"
	}
	return out
}

func speaks(families []Family, f Family) bool {
	for _, g := range families {
		if g == f {
			return true
		}
	}
	return false
}

// Entries lists the catalog's entries of one family, in table order (for
// docs and tests).
func (c *Catalog) Entries(f Family) []Endpoint {
	var out []Endpoint
	for _, e := range c.all {
		if e.Family == f {
			out = append(out, *e)
		}
	}
	return out
}

func splitPath(path string) []string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}
