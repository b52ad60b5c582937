// Package relay is the heart of RelayAPI: it takes a request carrying a
// token, checks it against everything the token allows, admits the call in
// the usage store (calls, rate, concurrency, budget), and forwards it to the
// provider with the real key, streaming the answer back as it arrives and
// settling the tokens it used.
package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/metrics"
	"github.com/relayapi/relayapi/server/internal/modelinfo"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/requestlog"
	"github.com/relayapi/relayapi/server/internal/retry"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/tokencache"
)

// Options configure a Handler. Fields are required unless marked optional.
type Options struct {
	Keys      *token.Keyring
	Providers *provider.Registry
	Store     store.Store
	// Transport reaches the providers.
	Transport http.RoundTripper
	// ClientIP resolves the client address (trusted proxies applied).
	ClientIP func(*http.Request) netip.Addr
	// CORSOrigins apply to tokens without an `origins` claim.
	CORSOrigins []string
	Leeway      time.Duration
	// CacheBytes bounds the decoded-token cache by memory (0: 128 MiB).
	CacheBytes   int64
	MaxBodyBytes int64
	Logger       *slog.Logger

	// Credentials are relay-held keys by provider name (optional).
	Credentials map[string]*credentials.Pool
	// Retry is the upstream retry policy (zero value: no retries).
	Retry retry.Policy
	// SubjectLimit applies to every token with a `sub` (optional).
	SubjectLimit store.SubjectLimit
	// LeaseTTL bounds concurrency/budget leases between renewals.
	LeaseTTL time.Duration
	// Drain keeps reading a stream whose client left, for exact usage,
	// for at most DrainTimeout; otherwise the upstream is cancelled.
	Drain        bool
	DrainTimeout time.Duration
	// UpstreamIdle cuts a response whose provider has sent no byte for
	// this long after its headers (a stalled stream or body): the upstream
	// request is cancelled and the client's answer ends abruptly, charged
	// like any stream cut short. It bounds how long a silent provider can
	// hold a concurrency slot, a budget reservation and a connection.
	// Zero means DefaultUpstreamIdle; negative turns it off.
	UpstreamIdle time.Duration
	// FailOpen forwards calls unmetered while the store is unreachable
	// (weaker: no limit holds meanwhile); otherwise they get 503.
	FailOpen bool
	// Endpoints resolves requests (nil: endpoint.Default()); Models
	// knows the models' output limits (nil: the embedded catalog).
	Endpoints *endpoint.Catalog
	Models    *modelinfo.Catalog
	// Budget prices calls on tokens with a token_budget (zero value:
	// DefaultBudget).
	Budget Budget
	// Metrics and RequestLog are optional.
	Metrics    *metrics.Metrics
	RequestLog *requestlog.Writer
	// Realtime bounds WebSocket sessions (zero value: DefaultRealtime).
	Realtime Realtime
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// DefaultUnknownModelOutput is the output limit assumed for a model the
// catalog does not know, when Options.Models is unset.
const DefaultUnknownModelOutput = 32768

// DefaultUpstreamIdle is Options.UpstreamIdle when unset: far longer than
// any provider stays silent mid-answer (they send keep-alive events).
const DefaultUpstreamIdle = 5 * time.Minute

// Handler relays token-authenticated requests. Create it with New.
type Handler struct {
	opts    Options
	cache   *tokencache.Cache
	buffers bufferPool
	log     *slog.Logger
	now     func() time.Time
	// sessions holds a slot per open realtime session (Realtime.MaxSessions);
	// closing ends them all when the relay shuts down.
	sessions    chan struct{}
	revocations revocations
	closing     context.Context
	close       context.CancelFunc
}

// New builds a Handler.
func New(opts Options) (*Handler, error) {
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 128 << 20
	}
	var err error
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = time.Minute
	}
	if opts.UpstreamIdle == 0 {
		opts.UpstreamIdle = DefaultUpstreamIdle
	}
	if opts.Endpoints == nil {
		opts.Endpoints = endpoint.Default()
	}
	if opts.Models == nil {
		if opts.Models, err = modelinfo.New(nil, DefaultUnknownModelOutput); err != nil {
			return nil, err
		}
	}
	if opts.Budget == (Budget{}) {
		opts.Budget = DefaultBudget
	}
	opts.Realtime = withRealtimeDefaults(opts.Realtime)
	h := &Handler{opts: opts, cache: tokencache.New(opts.CacheBytes), log: opts.Logger, now: opts.Now,
		sessions: make(chan struct{}, opts.Realtime.MaxSessions)}
	h.closing, h.close = context.WithCancel(context.Background())
	h.revocations.h = h
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// CloseSessions ends every realtime session (1001 going away): the relay
// is shutting down, and hijacked connections outlive http.Server.Shutdown.
func (h *Handler) CloseSessions() { h.close() }

func withRealtimeDefaults(rt Realtime) Realtime {
	d := DefaultRealtime
	if rt.MaxSessions > 0 {
		d.MaxSessions = rt.MaxSessions
	}
	if rt.MaxDuration > 0 {
		d.MaxDuration = rt.MaxDuration
	}
	if rt.Idle > 0 {
		d.Idle = rt.Idle
	}
	if rt.MaxMessageBytes > 0 {
		d.MaxMessageBytes = rt.MaxMessageBytes
	}
	if rt.RevocationCheck > 0 {
		d.RevocationCheck = rt.RevocationCheck
	}
	if rt.WriteTimeout > 0 {
		d.WriteTimeout = rt.WriteTimeout
	}
	d.Transport = rt.Transport
	if d.Transport == nil {
		d.Transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
		}
	}
	return d
}

// decode opens a token, paying the crypto once per distinct token: the
// compiled claims are cached by the token's SHA-256. Failures are not
// cached, so garbage cannot evict good entries.
func (h *Handler) decode(raw string) (*policy.Token, error) {
	if len(raw) > token.MaxTokenSize {
		return nil, token.ErrInvalid
	}
	sum := sha256.Sum256([]byte(raw))
	if t, ok := h.cache.Get(sum); ok {
		return t, nil
	}
	claims, err := h.opts.Keys.Open(raw)
	if err != nil {
		h.log.Debug("token rejected", "reason", err.Error())
		return nil, err
	}
	t := policy.Compile(claims)
	h.cache.Add(sum, t, len(raw))
	return t, nil
}

func tokenError(err error) *apierror.Error {
	switch {
	case errors.Is(err, token.ErrExpired):
		return apierror.TokenExpired
	case errors.Is(err, token.ErrNotYetValid):
		return apierror.TokenNotYet
	}
	return apierror.InvalidToken
}
