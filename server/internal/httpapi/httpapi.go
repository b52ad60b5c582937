// Package httpapi assembles the relay's HTTP surface: routes (/health,
// /ready, the relay itself), the base path, CORS preflight, the relay's own
// rate limits, request ids, panic recovery and the access log.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/buildinfo"
	"github.com/relayapi/relayapi/server/internal/metrics"
	"github.com/relayapi/relayapi/server/internal/ratelimit"
	"github.com/relayapi/relayapi/server/internal/relay"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/requestlog"
)

// Pinger reports whether the usage store is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure the HTTP surface.
type Options struct {
	BasePath string
	Relay    *relay.Handler
	Admin    *admin.Handler
	Store    Pinger
	Limiter  *ratelimit.Limiter
	ClientIP func(*http.Request) netip.Addr
	Logger   *slog.Logger
	Started  time.Time
	// Metrics, when set, is observed for every request; MetricsOnMain
	// serves it at /metrics on this listener.
	Metrics       *metrics.Metrics
	MetricsOnMain bool
	// RequestLog, when set, receives a record of every token request.
	RequestLog *requestlog.Writer
}

// New returns the root handler.
func New(o Options) http.Handler {
	a := &api{o: o}
	return a
}

type api struct{ o Options }

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fields := &reqlog.Fields{RequestID: newRequestID(), Start: time.Now()}
	r = r.WithContext(reqlog.With(r.Context(), fields))
	rec := &recorder{ResponseWriter: w, start: fields.Start}
	w.Header().Set("X-Request-Id", fields.RequestID)
	defer a.logAccess(rec, r, fields)
	defer a.recoverPanic(rec, fields)
	a.route(rec, r, fields)
}

func (a *api) route(w http.ResponseWriter, r *http.Request, fields *reqlog.Fields) {
	path := r.URL.EscapedPath()
	if a.o.BasePath != "" {
		rest, ok := strings.CutPrefix(path, a.o.BasePath)
		if !ok || (rest != "" && rest[0] != '/') {
			fields.Code = "not_found"
			apierror.Write(w, apierror.NotFound)
			return
		}
		if rest == "" {
			rest = "/"
		}
		path = rest
		r.URL.RawPath = path
		r.URL.Path = unescaped(path)
	}
	switch {
	case path == "/health" && r.Method == http.MethodGet:
		a.health(w)
		return
	case path == "/ready" && r.Method == http.MethodGet:
		a.ready(w, r)
		return
	case path == "/metrics" && r.Method == http.MethodGet && a.o.MetricsOnMain:
		a.o.Metrics.Handler().ServeHTTP(w, r)
		return
	case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
		a.o.Relay.Preflight(w, r)
		return
	}
	if ok, wait := a.o.Limiter.Allow(a.o.ClientIP(r), time.Now()); !ok {
		fields.Code = "rate_limited"
		apierror.Write(w, apierror.New("rate_limited", "Too many requests to the relay; slow down.").WithRetryAfter(wait))
		return
	}
	if strings.HasPrefix(path, "/admin/") {
		a.o.Admin.ServeHTTP(w, r, path)
		return
	}
	a.o.Relay.ServeHTTP(w, r)
}

func (a *api) health(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":         "ok",
		"version":        buildinfo.Version,
		"uptime_seconds": int64(time.Since(a.o.Started).Seconds()),
	})
}

func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.o.Store.Ping(ctx); err != nil {
		a.o.Logger.Warn("readiness: store unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "store": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "store": "ok"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// recoverPanic answers 500 and logs where it happened, but never the panic
// value, which could hold request data.
func (a *api) recoverPanic(w *recorder, fields *reqlog.Fields) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	fields.Code = "internal_error"
	a.o.Logger.Error("panic while handling a request", "request_id", fields.RequestID)
	if !w.wroteHeader {
		apierror.Write(w, apierror.Internal)
	}
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "req_" + hex.EncodeToString(b)
}

func unescaped(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
