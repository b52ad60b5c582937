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
	"sync"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/buildinfo"
	"github.com/relayapi/relayapi/server/internal/dashboard"
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
	// Dashboard, when set, serves the operator dashboard on this listener
	// (GET/HEAD /admin, /admin/, /admin/assets/...: see package dashboard),
	// ahead of the admin API that owns the rest of /admin/.
	Dashboard http.Handler
	// AdminOnly makes this the operator listener (metrics.listen): only the
	// dashboard and the admin API answer, every other path is 404; Relay
	// and Store may be nil.
	AdminOnly bool
	// WriteIdle bounds how long one write to a client may stay blocked: a
	// client that stops reading (a stalled or malicious slow reader) has
	// its connection dropped after this long without progress, which
	// cancels the upstream request and frees its concurrency slot. The
	// deadline is pushed forward before every write and flush, so a healthy
	// stream of any length is never cut; only a stall is. Zero turns it off.
	WriteIdle time.Duration
}

// New returns the root handler.
func New(o Options) http.Handler {
	return &api{o: o, writeIdle: o.WriteIdle}
}

type api struct {
	o         Options
	writeIdle time.Duration

	readyMu    sync.Mutex
	readyOK    bool
	readyUntil time.Time
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fields := &reqlog.Fields{RequestID: newRequestID(), Start: time.Now()}
	r = r.WithContext(reqlog.With(r.Context(), fields))
	rec := &recorder{ResponseWriter: w, start: fields.Start, idle: a.writeIdle}
	if rec.idle > 0 {
		rec.rc = http.NewResponseController(w)
		// A deadline left by the previous response on this connection must
		// not fail this one's first write.
		rec.extendDeadline()
	}
	// Both names: OpenAI SDKs read x-request-id, Anthropic's request-id.
	w.Header().Set("X-Request-Id", fields.RequestID)
	w.Header().Set("Request-Id", fields.RequestID)
	defer a.logAccess(rec, r, fields)
	defer a.recoverPanic(rec, fields)
	normalizeTarget(r)
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// A chunked request may also have carried a Content-Length (or a
		// folded Transfer-Encoding) that Go's server dropped after framing
		// by Transfer-Encoding alone. A front proxy framing it by
		// Content-Length would disagree on where the next request starts,
		// so the connection is not reused (RFC 9112 §6.1): nothing that
		// follows on it can be smuggled in as a request of its own.
		w.Header().Set("Connection", "close")
		// The relay reads the whole body before forwarding it, and sends
		// it upstream with a Content-Length of its own: the provider never
		// sees the client's framing.
		r.TransferEncoding = nil
	}
	a.route(rec, r, fields)
}

// normalizeTarget turns an absolute-form request target
// (GET http://host/path HTTP/1.1) into origin form. Routing only ever looks
// at the path, and the upstream's scheme, host and Host header always come
// from the provider's configuration, but no part of a client-chosen
// authority (host, user info) is left in the request for anything to use.
func normalizeTarget(r *http.Request) {
	if r.URL.Scheme != "" || r.URL.Host != "" || r.URL.User != nil {
		r.URL.Scheme, r.URL.Host, r.URL.User, r.URL.Opaque = "", "", nil, ""
	}
}

// relayMethods are the methods the relay forwards. TRACE would have the
// provider echo the request — with the real API key the relay added —
// back to the client; CONNECT and unknown methods have no place in an API.
var relayMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
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
	// The relay's own limits come before any other work — a token
	// decrypted, the store pinged, metrics rendered — on every route.
	if ok, wait := a.o.Limiter.Allow(a.o.ClientIP(r), time.Now()); !ok {
		fields.Code = "rate_limited"
		apierror.Write(w, apierror.New("rate_limited", "Too many requests to the relay; slow down.").WithRetryAfter(wait))
		return
	}
	if a.o.Dashboard != nil && dashboard.Serves(r.Method, path) {
		a.o.Dashboard.ServeHTTP(w, r)
		return
	}
	if a.o.AdminOnly {
		if strings.HasPrefix(path, "/admin/") {
			a.o.Admin.ServeHTTP(w, r, path)
			return
		}
		fields.Code = "not_found"
		apierror.Write(w, apierror.NotFound)
		return
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
	if strings.HasPrefix(path, "/admin/") {
		a.o.Admin.ServeHTTP(w, r, path)
		return
	}
	if !relayMethods[r.Method] {
		fields.Code = "bad_request"
		apierror.Write(w, apierror.New("bad_request", "The method is not allowed."))
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

// readyFor is how long a store check answers /ready: orchestrators probe
// every few seconds, a flood of probes must not become a flood of pings.
const readyFor = time.Second

func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	if !a.storeReady(r.Context()) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "store": "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "store": "ok"})
}

// storeReady pings the store at most once per readyFor; concurrent
// probes in between share the last answer.
func (a *api) storeReady(ctx context.Context) bool {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	if now := time.Now(); now.Before(a.readyUntil) {
		return a.readyOK
	}
	// Not the prober's context: a prober that leaves must not mark the
	// relay unready for the next ones.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := a.o.Store.Ping(ctx)
	if err != nil {
		a.o.Logger.Warn("readiness: store unreachable", "err", err)
	}
	a.readyOK, a.readyUntil = err == nil, time.Now().Add(readyFor)
	return a.readyOK
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
