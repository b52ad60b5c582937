// Package admin is the operator's API under /admin: token usage and
// revocation, behind a Bearer admin key compared in constant time.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store"
)

// Handler serves /admin/... (the prefix already removed from nothing: it
// matches on the full path below the relay's base path).
type Handler struct {
	keyHash [sha256.Size]byte
	enabled bool
	store   store.Store
	log     *slog.Logger
}

// New returns the admin API; an empty key disables it (every call 404s).
func New(key string, st store.Store, log *slog.Logger) *Handler {
	return &Handler{keyHash: sha256.Sum256([]byte(key)), enabled: key != "", store: st, log: log}
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

// ServeHTTP routes path, which starts with /admin/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, path string) {
	fields := reqlog.From(r.Context())
	fail := func(e *apierror.Error) {
		fields.Code = e.Code
		apierror.Write(w, e)
	}
	if !h.enabled {
		fail(errDisabled)
		return
	}
	if !h.authorized(r) {
		fail(errUnauthorized)
		return
	}
	rest, ok := strings.CutPrefix(path, "/admin/tokens/")
	if !ok || rest == "" {
		fail(apierror.NotFound)
		return
	}
	jti, action, _ := strings.Cut(rest, "/")
	switch {
	case action == "" && r.Method == http.MethodGet:
		h.usage(w, r, jti, fail)
	case action == "revoke" && r.Method == http.MethodPost:
		h.revoke(w, r, jti, fail)
	default:
		fail(apierror.NotFound)
	}
}

// TokenUsage is the JSON answer about one token.
type TokenUsage struct {
	TokenID   string     `json:"jti"`
	Calls     int64      `json:"calls"`
	MaxCalls  *int64     `json:"max_calls"`
	FirstSeen *time.Time `json:"first_seen"`
	LastSeen  *time.Time `json:"last_seen"`
	Revoked   bool       `json:"revoked"`
}

func (h *Handler) usage(w http.ResponseWriter, r *http.Request, jti string, fail func(*apierror.Error)) {
	u, found, err := h.store.Usage(r.Context(), jti)
	if err != nil {
		h.log.Error("admin usage: store failed", "err", err)
		fail(apierror.StoreDown)
		return
	}
	if !found {
		fail(errUnknownToken)
		return
	}
	out := TokenUsage{TokenID: jti, Calls: u.Calls, Revoked: u.Revoked}
	if u.MaxCalls > 0 {
		out.MaxCalls = &u.MaxCalls
	}
	if !u.FirstSeen.IsZero() {
		first, last := u.FirstSeen.UTC(), u.LastSeen.UTC()
		out.FirstSeen, out.LastSeen = &first, &last
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, jti string, fail func(*apierror.Error)) {
	if err := h.store.Revoke(r.Context(), jti, time.Time{}); err != nil {
		h.log.Error("admin revoke: store failed", "err", err)
		fail(apierror.StoreDown)
		return
	}
	h.log.Info("token revoked", "jti", jti)
	writeJSON(w, http.StatusOK, map[string]any{"jti": jti, "revoked": true})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
