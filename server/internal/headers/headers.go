// Package headers decides which HTTP headers cross the relay, in each
// direction, by allowlist: a client's header reaches the operator's
// provider account only if the official SDKs need it for inference, and a
// provider's header reaches the browser only if clients read it. What is
// not listed — billing and routing switches (OpenAI-Organization,
// OpenAI-Project, anthropic-beta, method overrides, x-goog-user-project),
// the account's own rate limits, cookies, organization ids — stays on its
// side unless the operator allows it per provider.
package headers

import (
	"net/http"
	"strings"
)

// Allowlist matches header names: exact names and prefixes (a trailing
// "*"), without regard to case. The zero value allows nothing.
type Allowlist struct {
	exact    map[string]bool
	prefixes []string
}

// NewAllowlist allows names ("x-stainless-*" is a prefix).
func NewAllowlist(names ...string) Allowlist {
	return Allowlist{}.With(names)
}

// With returns a copy that also allows names.
func (a Allowlist) With(names []string) Allowlist {
	out := Allowlist{exact: make(map[string]bool, len(a.exact)+len(names)), prefixes: append([]string{}, a.prefixes...)}
	for k := range a.exact {
		out.exact[k] = true
	}
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			out.prefixes = append(out.prefixes, http.CanonicalHeaderKey(p))
			continue
		}
		out.exact[http.CanonicalHeaderKey(n)] = true
	}
	return out
}

// Allows reports whether the canonical header name is allowed.
func (a Allowlist) Allows(name string) bool {
	if a.exact[name] {
		return true
	}
	for _, p := range a.prefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// Filter deletes from h every header a does not allow.
func (a Allowlist) Filter(h http.Header) {
	for name := range h {
		if !a.Allows(name) {
			delete(h, name)
		}
	}
}

// Request is what the official SDKs (openai-python and -node, anthropic,
// google-genai, the Vercel AI SDK) send on inference calls: the body's
// type, what they accept, their version headers and telemetry. Sources:
// the SDKs' base clients (openai-python _base_client.py default headers,
// X-Stainless-* platform headers; anthropic-sdk "anthropic-version",
// "anthropic-dangerous-direct-browser-access"; google-genai
// "x-goog-api-client").
var Request = NewAllowlist(
	"Content-Type", "Accept", "Accept-Language", "User-Agent",
	"X-Stainless-*", "Idempotency-Key", "X-Client-Request-Id",
	"Anthropic-Version", "Anthropic-Dangerous-Direct-Browser-Access",
	"X-Goog-Api-Client",
)

// Response is what clients read from an answer: its type and encoding,
// caching, the provider's request ids (support tickets), timing, and the
// retry signals SDKs honour on provider errors. Not the provider's
// x-ratelimit-* (the operator's account limits; the relay sends the
// token's own), not Set-Cookie, not openai-organization/-project.
var Response = NewAllowlist(
	"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Content-Language",
	"Cache-Control", "Date", "Etag", "Last-Modified", "Expires",
	"Retry-After", "Retry-After-Ms", "X-Should-Retry",
	"X-Request-Id", "Request-Id", "Openai-Processing-Ms", "Openai-Version",
)
