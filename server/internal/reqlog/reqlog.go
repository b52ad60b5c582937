// Package reqlog carries the facts of one request (token id, provider,
// model, error code) from the handler that learns them to the access log.
// Only identifiers go here: never a token, key or body.
package reqlog

import (
	"context"
	"time"
)

// Fields is filled in while a request is handled.
type Fields struct {
	RequestID string
	TokenID   string
	Subject   string
	Provider  string
	Model     string
	Code      string // relay error code, empty on success
	Location  string // where the token was found
	Upstream  int    // upstream status, 0 if none
	Meta      map[string]string
	Start     time.Time
	FirstByte time.Duration
	// Token accounting, filled at settlement.
	PromptTokens     int64
	CompletionTokens int64
	Estimated        bool
	// UsageSource says where the counts come from: provider, estimate,
	// reservation, cut, fixed or free ("" when nothing was charged).
	UsageSource string
	// Path is the path forwarded to the provider (no token, no query).
	Path    string
	BytesIn int64
}

type key struct{}

// With returns ctx carrying f.
func With(ctx context.Context, f *Fields) context.Context { return context.WithValue(ctx, key{}, f) }

// From returns the request's Fields, or a throwaway value if there is none,
// so handlers never need a nil check.
func From(ctx context.Context) *Fields {
	if f, ok := ctx.Value(key{}).(*Fields); ok {
		return f
	}
	return &Fields{}
}
