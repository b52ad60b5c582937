// Package server wires a configured relay together and runs it until the
// context ends, then drains in-flight requests (streams included) up to the
// shutdown deadline.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/clientip"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/dashboard"
	"github.com/relayapi/relayapi/server/internal/httpapi"
	"github.com/relayapi/relayapi/server/internal/metrics"
	"github.com/relayapi/relayapi/server/internal/modelinfo"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/ratelimit"
	"github.com/relayapi/relayapi/server/internal/relay"
	"github.com/relayapi/relayapi/server/internal/requestlog"
	"github.com/relayapi/relayapi/server/internal/retry"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/upstream"
)

// Relay is a ready-to-run relay.
type Relay struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	reqlog  *requestlog.Writer
	metrics *metrics.Metrics
	handler http.Handler
	ops     http.Handler // the dashboard and admin API on the metrics listener; nil: none
	relay   *relay.Handler
	tls     *tlsSource // nil: plain HTTP
	// Ready, if set, receives the bound address once listening.
	Ready func(addr net.Addr)
}

// modelCatalog is the embedded model catalog with the operator's models.
func modelCatalog(cfg config.Config) (*modelinfo.Catalog, error) {
	overrides := make(map[string]modelinfo.Entry, len(cfg.Models))
	for name, m := range cfg.Models {
		overrides[name] = modelinfo.Entry{
			MaxOutputTokens: m.MaxOutputTokens, ContextWindow: m.ContextWindow,
			CapParam: m.CapParam, ImageOutputTokens: m.ImageOutputTokens,
		}
	}
	c, err := modelinfo.New(overrides, cfg.Accounting.UnknownModelOutput)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return c, nil
}

// New builds the relay from cfg and keys.
func New(cfg config.Config, keys *token.Keyring, log *slog.Logger) (*Relay, error) {
	if cfg.BasePath == "/" {
		cfg.BasePath = "" // the root, named explicitly
	}
	providers, err := provider.New(cfg.Providers)
	if err != nil {
		return nil, err
	}
	models, err := modelCatalog(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Token.CacheSize != 0 {
		log.Warn("token.cache_size is deprecated and ignored: the token cache is bounded by token.cache_bytes")
	}
	var m *metrics.Metrics
	if cfg.Metrics.Enabled {
		m = metrics.New()
	}
	st, err := openStore(cfg, log, m)
	if err != nil {
		return nil, err
	}
	ips, err := clientip.New(cfg.Network.TrustedProxies)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("network.trusted_proxies: %w", err)
	}
	pools, err := credentialPools(cfg.Providers)
	if err != nil {
		st.Close()
		return nil, err
	}
	var writer *requestlog.Writer
	if cfg.RequestLog.Enabled {
		writer = requestlog.New(st, log)
	}
	h, err := relay.New(relay.Options{
		Keys: keys, Providers: providers, Store: st,
		Transport:    newTransport(cfg.Timeouts),
		ClientIP:     ips.Of,
		CORSOrigins:  cfg.CORS.AllowedOrigins,
		Leeway:       cfg.Token.Leeway.D(),
		CacheBytes:   cfg.Token.CacheBytes,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes,
		Logger:       log,
		Credentials:  pools,
		Retry: retry.Policy{
			MaxRetries: cfg.Upstream.MaxRetries, BaseDelay: cfg.Upstream.RetryBase.D(),
			MaxDelay: 4 * time.Second, MaxTotal: cfg.Upstream.RetryMaxTotal.D(),
		},
		SubjectLimit: store.SubjectLimit{Calls: cfg.SubjectLimit.Calls, Window: cfg.SubjectLimit.Window.D()},
		LeaseTTL:     cfg.Accounting.LeaseTTL.D(),
		Drain:        cfg.Accounting.OnDisconnect == "drain",
		DrainTimeout: cfg.Accounting.DrainTimeout.D(),
		Metrics:      m,
		RequestLog:   writer,
		FailOpen:     cfg.Store.OnUnavailable == "fail_open",
		UpstreamIdle: cfg.Timeouts.UpstreamIdle.D(),
		Models:       models,
		Realtime: relay.Realtime{
			MaxSessions: cfg.Realtime.MaxSessions, MaxDuration: cfg.Realtime.MaxSession.D(),
			Idle: cfg.Realtime.IdleTimeout.D(), MaxMessageBytes: cfg.Realtime.MaxMessageBytes,
			RevocationCheck: cfg.Realtime.RevocationCheck.D(), WriteTimeout: cfg.Timeouts.WriteIdle.D(),
		},
		Budget: relay.Budget{
			OutputReserve:        cfg.Accounting.OutputReserve,
			ReserveServerContext: cfg.Accounting.ServerSideContext == "reserve",
			ServerContextTokens:  cfg.Accounting.ServerSideContextTokens,
		},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	adminAPI := admin.New(cfg.Admin.Key, st, log,
		admin.WithProviders(providerList(providers, pools)), admin.WithActiveStreams(m.ActiveStreams))
	limiter := ratelimit.New(cfg.Limits.GlobalRPS, cfg.Limits.GlobalBurst, cfg.Limits.PerIPRPS, cfg.Limits.PerIPBurst)
	mainDash, ops := operatorSurface(cfg, m, adminAPI, limiter, ips.Of, log)
	root := httpapi.New(httpapi.Options{
		BasePath: cfg.BasePath, Relay: h, Store: st, Admin: adminAPI,
		ClientIP: ips.Of, Logger: log, Started: time.Now(),
		Limiter:    limiter,
		Metrics:    m,
		RequestLog: writer, MetricsOnMain: cfg.Metrics.Enabled && cfg.Metrics.Listen == "",
		WriteIdle: cfg.Timeouts.WriteIdle.D(),
		Dashboard: mainDash,
	})
	tlsSrc, err := newTLSSource(cfg, log, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("relay configured", "providers", providers.Names(), "keys", keys.Len(), "store", cfg.Store.Driver)
	return &Relay{cfg: cfg, log: log, store: st, reqlog: writer, metrics: m, handler: root, ops: ops, relay: h, tls: tlsSrc}, nil
}

// operatorSurface places the dashboard: on the main listener, or — when
// metrics.listen gives the operator a listener of its own — there, with the
// admin API (which stays on the main listener as well). ops is that
// listener's handler for /admin and /admin/... (nil: nothing to add). With
// admin.key empty there is no dashboard anywhere.
func operatorSurface(cfg config.Config, m *metrics.Metrics, adminAPI *admin.Handler, limiter *ratelimit.Limiter,
	clientIP func(*http.Request) netip.Addr, log *slog.Logger) (onMain, ops http.Handler) {
	if cfg.Admin.Key == "" {
		return nil, nil
	}
	dash := dashboard.New()
	if m == nil || cfg.Metrics.Listen == "" {
		return dash, nil
	}
	return nil, httpapi.New(httpapi.Options{
		AdminOnly: true, Admin: adminAPI, Dashboard: dash,
		Limiter: limiter, ClientIP: clientIP, Logger: log, Started: time.Now(),
	})
}

// newTransport builds the client to the providers: the relay's own
// HTTP/1.1 transport, with the standard one for requests that must go
// through a proxy from the environment (HTTPS_PROXY and friends).
func newTransport(t config.Timeouts) http.RoundTripper {
	dialer := &net.Dialer{Timeout: t.UpstreamDial.D(), KeepAlive: 30 * time.Second}
	fallback := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   t.UpstreamDial.D(),
		ResponseHeaderTimeout: t.UpstreamResponseHeader.D(),
		ExpectContinueTimeout: time.Second,
	}
	return &upstream.Transport{
		Dialer:                dialer,
		ResponseHeaderTimeout: t.UpstreamResponseHeader.D(),
		IdleTimeout:           90 * time.Second,
		MaxIdlePerHost:        1024,
		Proxy:                 http.ProxyFromEnvironment,
		Fallback:              fallback,
	}
}

func (r *Relay) scheme() string {
	if r.tls != nil {
		return "https"
	}
	return "http"
}

// Close flushes the request log and releases the store (Run does it
// itself on return).
func (r *Relay) Close() error {
	if r.reqlog != nil {
		r.reqlog.Close()
		r.reqlog = nil
	}
	return r.store.Close()
}

// credentialPools resolves the relay-held keys of every provider.
func credentialPools(providers map[string]config.Provider) (map[string]*credentials.Pool, error) {
	pools := map[string]*credentials.Pool{}
	for name, p := range providers {
		if len(p.APIKeys) == 0 {
			continue
		}
		refs := make([]credentials.Ref, len(p.APIKeys))
		for i, k := range p.APIKeys {
			refs[i] = credentials.Ref{Env: k.Env, File: k.File}
		}
		keys, err := credentials.Resolve(refs, os.Getenv, os.ReadFile)
		if err != nil {
			return nil, fmt.Errorf("providers.%s.api_keys: %w", name, err)
		}
		pools[name] = credentials.NewPool(keys)
	}
	return pools, nil
}

// Handler exposes the root handler (tests).
func (r *Relay) Handler() http.Handler { return r.handler }

// Run listens and serves until ctx ends, then shuts down gracefully.
func (r *Relay) Run(ctx context.Context) error {
	defer r.Close()
	go r.prune(ctx)
	if err := r.serveMetrics(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", r.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", r.cfg.Listen, err)
	}
	srv := r.newHTTPServer(ctx)
	stopRedirect, err := r.serveRedirect(ctx, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	defer stopRedirect()
	// After the redirect listener is up: it answers the HTTP-01 challenges.
	r.startTLSBackground(ctx)
	r.log.Info("relay listening", "addr", ln.Addr().String(), "scheme", r.scheme(), "http2", r.cfg.HTTP2.Enabled, "h2c", r.cfg.HTTP2.H2C)
	if r.Ready != nil {
		r.Ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() {
		if r.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	r.log.Info("shutting down: draining in-flight requests", "deadline", r.cfg.Timeouts.Shutdown.D().String())
	sctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeouts.Shutdown.D())
	defer cancel()
	// Realtime sessions live on hijacked connections Shutdown does not
	// wait for: they are told the relay is going away (1001).
	r.relay.CloseSessions()
	if err := srv.Shutdown(sctx); err != nil {
		r.log.Warn("drain deadline passed: closing remaining connections", "err", err)
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	r.log.Info("stopped")
	return nil
}
