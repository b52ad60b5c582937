// Package admin is the operator's API under /admin: token usage, token
// listing, revocation, the request log, its aggregates and the providers'
// relay-held keys, behind a Bearer admin key compared in constant time.
// docs/openapi.yaml describes every answer.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store"
)

// Handler serves /admin/... (path is the full path below the relay's base
// path).
type Handler struct {
	keyHash   [sha256.Size]byte
	enabled   bool
	store     store.Store
	log       *slog.Logger
	now       func() time.Time
	providers func(now time.Time) []Provider
	streams   func() int64
}

// Option adds to the admin API what the store does not know.
type Option func(*Handler)

// WithProviders lists the configured providers for GET /admin/providers
// (none without it).
func WithProviders(list func(now time.Time) []Provider) Option {
	return func(h *Handler) { h.providers = list }
}

// WithActiveStreams reports this relay's streams in flight as the
// active_streams of GET /admin/stats (0 without it).
func WithActiveStreams(n func() int64) Option {
	return func(h *Handler) { h.streams = n }
}

// New returns the admin API; an empty key disables it (every call 404s).
func New(key string, st store.Store, log *slog.Logger, opts ...Option) *Handler {
	h := &Handler{keyHash: sha256.Sum256([]byte(key)), enabled: key != "", store: st, log: log, now: time.Now,
		providers: func(time.Time) []Provider { return nil }, streams: func() int64 { return 0 }}
	for _, o := range opts {
		o(h)
	}
	return h
}

var (
	errDisabled     = apierror.New("not_found", "The admin API is disabled (admin.key is empty).")
	errUnauthorized = apierror.New("unauthorized", "A valid admin key is required: Authorization: Bearer <admin key>.")
	errUnknownToken = apierror.New("not_found", "The relay has no record of this token.")
)

// authorized compares hashes of equal length in constant time, so neither
// the key's content nor its length leaks through timing.
func (h *Handler) authorized(r *http.Request) bool {
	scheme, given, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
	return subtle.ConstantTimeCompare(sum[:], h.keyHash[:]) == 1
}

// call is one admin request being answered.
type call struct {
	h *Handler
	w http.ResponseWriter
	r *http.Request
}

// fail writes e and notes its code for the access log.
func (c call) fail(e *apierror.Error) {
	reqlog.From(c.r.Context()).Code = e.Code
	apierror.Write(c.w, e)
}

// ServeHTTP routes path, which starts with /admin/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, path string) {
	c := call{h: h, w: w, r: r}
	if !h.enabled {
		c.fail(errDisabled)
		return
	}
	if !h.authorized(r) {
		c.fail(errUnauthorized)
		return
	}
	c.route(path)
}

func (c call) route(path string) {
	get := c.r.Method == http.MethodGet
	switch {
	case path == "/admin/tokens" && get:
		c.listTokens()
		return
	case path == "/admin/requests" && get:
		c.listRequests()
		return
	case path == "/admin/stats" && get:
		c.stats()
		return
	case path == "/admin/providers" && get:
		c.listProviders()
		return
	}
	jti, action, ok := tokenPath(path)
	switch {
	case ok && action == "" && get:
		c.tokenUsage(jti)
	case ok && action == "revoke" && c.r.Method == http.MethodPost:
		c.revoke(jti)
	default:
		c.fail(apierror.NotFound)
	}
}

// tokenPath splits /admin/tokens/{jti}[/{action}].
func tokenPath(path string) (jti, action string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/admin/tokens/")
	if !ok {
		return "", "", false
	}
	escaped, action, _ := strings.Cut(rest, "/")
	jti, err := url.PathUnescape(escaped)
	if err != nil || jti == "" || strings.Contains(action, "/") {
		return "", "", false
	}
	return jti, action, true
}
