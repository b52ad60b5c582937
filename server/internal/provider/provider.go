// Package provider knows the upstream AI APIs a token may reach: a built-in
// table of real providers plus the operator's own from config.json. A token
// names a provider; it can never supply a URL.
package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/headers"
	"github.com/relayapi/relayapi/server/internal/policy"
)

// Auth styles: how the real API key is presented upstream.
const (
	AuthBearer    = "bearer"
	AuthXAPIKey   = "x-api-key"
	AuthAPIKey    = "api-key"
	AuthGoogKey   = "x-goog-api-key"
	AuthNone      = "none"
	FormatOpenAI  = "openai"
	FormatClaude  = "anthropic"
	FormatGemini  = "gemini"
	anthropicVers = "2023-06-01"
)

// Provider is one upstream API.
type Provider struct {
	Name string
	// Origin is scheme://host[:port] of the upstream; Prefix is a path the
	// forwarded path is appended to (e.g. DashScope's /compatible-mode).
	Origin *url.URL
	Prefix string
	Auth   string
	// DefaultHeaders are the built-in ones (anthropic-version), set
	// upstream when the client did not send them; PinnedHeaders are the
	// operator's, set whatever the client sent.
	DefaultHeaders map[string]string
	PinnedHeaders  map[string]string
	// RequestHeaders and ResponseHeaders are what may cross the relay,
	// each way: the SDKs' needs plus the operator's additions.
	RequestHeaders, ResponseHeaders headers.Allowlist
	// Families are the API dialects the provider speaks: the endpoint
	// catalog resolves its requests among them.
	Families []endpoint.Family
	// ChatCapParam is the member that caps a chat answer when the relay
	// adds one: OpenAI deprecated max_tokens for max_completion_tokens
	// (and its reasoning models refuse max_tokens), while most
	// OpenAI-compatible servers (vLLM, Ollama, DeepSeek, Groq…) know only
	// max_tokens and would ignore the newer name, leaving the call uncapped.
	ChatCapParam string
	// FixedCharges price endpoints the relay cannot meter, for tokens
	// with a budget.
	FixedCharges []FixedCharge
}

// FixedCharge is the operator's price of one unmetered endpoint.
type FixedCharge struct {
	Method, Path string // Path may hold * wildcards
	Tokens       int64
}

// builtins is the table of real providers. Azure has no fixed host: it is
// listed so its auth style is known, and works once base_url is configured.
// Anthropic and Gemini also serve OpenAI-compatible endpoints
// (docs.anthropic.com/en/api/openai-sdk, ai.google.dev/gemini-api/docs/openai),
// Azure its v1 API (/openai/v1/…) beside the deployment paths.
var builtins = map[string]config.Provider{
	"openai":     {BaseURL: "https://api.openai.com", Auth: AuthBearer},
	"anthropic":  {BaseURL: "https://api.anthropic.com", Auth: AuthXAPIKey, Headers: map[string]string{"anthropic-version": anthropicVers}, APIs: []string{"anthropic", "openai"}},
	"gemini":     {BaseURL: "https://generativelanguage.googleapis.com", Auth: AuthGoogKey, APIs: []string{"gemini", "openai"}},
	"azure":      {Auth: AuthAPIKey, APIs: []string{"azure", "openai"}},
	"deepseek":   {BaseURL: "https://api.deepseek.com", Auth: AuthBearer},
	"dashscope":  {BaseURL: "https://dashscope.aliyuncs.com/compatible-mode", Auth: AuthBearer},
	"openrouter": {BaseURL: "https://openrouter.ai/api", Auth: AuthBearer},
	"groq":       {BaseURL: "https://api.groq.com/openai", Auth: AuthBearer},
	"mistral":    {BaseURL: "https://api.mistral.ai", Auth: AuthBearer},
	"together":   {BaseURL: "https://api.together.xyz", Auth: AuthBearer},
	"xai":        {BaseURL: "https://api.x.ai", Auth: AuthBearer},
	"moonshot":   {BaseURL: "https://api.moonshot.cn", Auth: AuthBearer},
}

// Registry resolves provider names. It is immutable after New.
type Registry struct {
	byName map[string]*Provider
}

// New merges the operator's providers over the built-in table: a field the
// operator leaves empty keeps the built-in value.
func New(operator map[string]config.Provider) (*Registry, error) {
	merged := map[string]config.Provider{}
	for name, p := range builtins {
		merged[name] = p
	}
	for name, p := range operator {
		base := merged[name]
		if p.BaseURL != "" {
			base.BaseURL = p.BaseURL
		}
		if p.Auth != "" {
			base.Auth = p.Auth
		}
		if len(p.APIs) > 0 {
			base.APIs = p.APIs
		}
		if len(p.FixedCharges) > 0 {
			base.FixedCharges = p.FixedCharges
		}
		base.AllowRequestHeaders, base.AllowResponseHeaders = p.AllowRequestHeaders, p.AllowResponseHeaders
		base.Headers = p.Headers // the operator's are pinned (see build)
		merged[name] = base
	}
	r := &Registry{byName: map[string]*Provider{}}
	for name, p := range merged {
		if p.BaseURL == "" {
			continue // e.g. azure until configured
		}
		pinned := operator[name].Headers
		built, err := build(name, p, builtins[name].Headers, pinned)
		if err != nil {
			return nil, fmt.Errorf("providers.%s: %w", name, err)
		}
		r.byName[name] = built
	}
	return r, nil
}

func build(name string, p config.Provider, defaults, pinned map[string]string) (*Provider, error) {
	u, err := url.Parse(p.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an http(s) URL", p.BaseURL)
	}
	auth := p.Auth
	if auth == "" {
		auth = AuthBearer
	}

	chatCap := "max_tokens"
	if name == "openai" {
		chatCap = "max_completion_tokens"
	}
	return &Provider{
		Name:            name,
		Origin:          &url.URL{Scheme: u.Scheme, Host: u.Host},
		Prefix:          strings.TrimSuffix(u.EscapedPath(), "/"),
		Auth:            auth,
		DefaultHeaders:  canonical(defaults),
		PinnedHeaders:   canonical(pinned),
		RequestHeaders:  headers.Request.With(p.AllowRequestHeaders),
		ResponseHeaders: headers.Response.With(p.AllowResponseHeaders),
		Families:        families(name, p.APIs),
		ChatCapParam:    chatCap,
		FixedCharges:    fixedCharges(p.FixedCharges),
	}, nil
}

// families are the provider's API dialects: as configured, OpenAI for a
// built-in OpenAI-compatible provider, and every dialect for a provider
// of the operator's own (a gateway may speak several).
func families(name string, apis []string) []endpoint.Family {
	if len(apis) == 0 {
		if _, builtin := builtins[name]; builtin {
			return []endpoint.Family{endpoint.OpenAI}
		}
		return endpoint.Families
	}
	out := make([]endpoint.Family, 0, len(apis))
	for _, a := range apis {
		if f, ok := endpoint.ParseFamily(a); ok {
			out = append(out, f)
		}
	}
	return out
}

func fixedCharges(m map[string]int64) []FixedCharge {
	out := make([]FixedCharge, 0, len(m))
	for route, tokens := range m {
		method, path, _ := strings.Cut(route, " ")
		out = append(out, FixedCharge{Method: method, Path: path, Tokens: tokens})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Method+out[i].Path < out[j].Method+out[j].Path })
	return out
}

// Lookup returns the provider of that name, or false.
func (r *Registry) Lookup(name string) (*Provider, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// Names lists the configured providers, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetAuth writes the real key in the provider's style onto h.
func (p *Provider) SetAuth(h http.Header, key string) {
	if key == "" {
		return
	}
	switch p.Auth {
	case AuthBearer:
		h.Set("Authorization", "Bearer "+key)
	case AuthXAPIKey:
		h.Set("X-Api-Key", key)
	case AuthAPIKey:
		h.Set("Api-Key", key)
	case AuthGoogKey:
		h.Set("X-Goog-Api-Key", key)
	}
}

// FixedCharge is the operator's price for an unmetered endpoint, 0 when
// there is none. The longest matching pattern wins.
func (p *Provider) FixedCharge(method, path string) int64 {
	var tokens int64
	best := -1
	for _, f := range p.FixedCharges {
		if f.Method == method && policy.Match(f.Path, path) && len(f.Path) > best {
			tokens, best = f.Tokens, len(f.Path)
		}
	}
	return tokens
}

func canonical(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[http.CanonicalHeaderKey(k)] = v
	}
	return out
}
