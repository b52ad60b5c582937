package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/certs"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/store"
)

// certWatchEvery is how often certificate files are re-read: a renewal
// (certbot, a Kubernetes secret) is served within this long even without
// a SIGHUP.
const certWatchEvery = 30 * time.Second

// hstsValue asks browsers to use HTTPS for two years (the hstspreload.org
// minimum is one).
const hstsValue = "max-age=63072000"

// tlsSource is where the main listener's certificates come from.
type tlsSource struct {
	files *certs.Files
	acme  *certs.ACME
}

// newTLSSource prepares the certificates of the main listener; st is the
// usage store, which keeps the ACME cache with tls.cache "store".
func newTLSSource(cfg config.Config, log *slog.Logger, st store.Store) (*tlsSource, error) {
	t := cfg.TLS
	switch {
	case t.CertFile != "":
		f, err := certs.LoadFiles(t.CertFile, t.KeyFile, log)
		if err != nil {
			return nil, err
		}
		return &tlsSource{files: f}, nil
	case len(t.Domains) > 0:
		o := certs.ACMEOptions{
			Domains: t.Domains, Directory: t.ACMEDirectory, Email: t.ACMEEmail,
			CAFile: t.ACMECAFile, CacheDir: t.CacheDir, Log: log,
		}
		if t.Cache == "store" {
			b, ok := store.BlobsOf(st)
			if !ok {
				return nil, fmt.Errorf("tls.cache: store.driver %s cannot keep certificates", cfg.Store.Driver)
			}
			o.Blobs, o.CacheDir = b, ""
			log.Info("ACME cache in the usage store, shared by every relay on it", "driver", cfg.Store.Driver)
		} else if o.CacheDir == "" {
			o.CacheDir = filepath.Join(cfg.DataDir, "certs")
		}
		a, err := certs.NewACME(o)
		if err != nil {
			return nil, err
		}
		return &tlsSource{acme: a}, nil
	}
	return nil, nil
}

// modernSuites are the TLS 1.2 suites offered: forward secret and AEAD
// only (Mozilla's "intermediate" profile). TLS 1.3 suites are not
// configurable and all qualify.
var modernSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsConfig is the listener's: TLS 1.2 and up with modern suites only,
// HTTP/2 offered first when enabled, and the ACME TLS-ALPN-01 protocol
// when certificates come from ACME.
func (s *tlsSource) tlsConfig(h2 bool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: modernSuites}
	if h2 {
		c.NextProtos = append(c.NextProtos, "h2")
	}
	c.NextProtos = append(c.NextProtos, "http/1.1")
	if s.files != nil {
		c.GetCertificate = s.files.GetCertificate
	} else {
		c.GetCertificate = s.acme.GetCertificate
		c.NextProtos = append(c.NextProtos, "acme-tls/1")
	}
	return c
}

// ReloadCertificates re-reads tls.cert_file and tls.key_file (SIGHUP).
func (r *Relay) ReloadCertificates() {
	if r.tls == nil || r.tls.files == nil {
		r.log.Info("SIGHUP: no certificate files to reload")
		return
	}
	if _, err := r.tls.files.Reload(); err != nil {
		r.log.Error("TLS certificate reload failed: still serving the previous one", "err", err)
	}
}

// newHTTPServer is the main listener's server: the same limits over
// HTTP/1.1 and HTTP/2 (header bytes, read and idle timeouts; bodies and
// write pauses are bounded by the handler), and for HTTP/2 a cap on
// concurrent streams per connection. Go's HTTP/2 server counts resets
// and closes connections that reset faster than handlers finish
// (CVE-2023-44487, "rapid reset"; CVE-2025-8671, "MadeYouReset").
func (r *Relay) newHTTPServer(ctx context.Context) *http.Server {
	h := r.handler
	if r.cfg.TLS.HSTS {
		h = withHSTS(h)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: r.cfg.Timeouts.ReadHeader.D(),
		ReadTimeout:       r.cfg.Timeouts.Read.D(),
		IdleTimeout:       r.cfg.Timeouts.Idle.D(),
		MaxHeaderBytes:    r.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		Protocols:         new(http.Protocols),
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: r.cfg.HTTP2.MaxConcurrentStreams,
			// A peer that stops answering PINGs is gone: its streams end,
			// so their concurrency slots and leases are released.
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
			// A stalled peer cannot pin a connection's writer forever.
			WriteByteTimeout: r.cfg.Timeouts.WriteIdle.D(),
		},
	}
	srv.Protocols.SetHTTP1(true)
	if r.cfg.HTTP2.Enabled {
		srv.Protocols.SetHTTP2(true)
		srv.Protocols.SetUnencryptedHTTP2(r.cfg.HTTP2.H2C)
	}
	if r.tls != nil {
		srv.TLSConfig = r.tls.tlsConfig(r.cfg.HTTP2.Enabled)
	}
	return srv
}

func withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, req)
	})
}

// startTLSBackground keeps certificates fresh until ctx ends.
func (r *Relay) startTLSBackground(ctx context.Context) {
	switch {
	case r.tls == nil:
	case r.tls.files != nil:
		go r.tls.files.Watch(ctx, certWatchEvery)
	default:
		go r.tls.acme.Prefetch(ctx, r.cfg.TLS.Domains)
	}
}

// serveRedirect runs tls.redirect_http: ACME HTTP-01 answers, and HTTPS
// redirects for GET and HEAD. Other methods are refused rather than
// redirected: their body (and any token in them) already crossed the
// network in clear text, and a silent redirect would hide that.
func (r *Relay) serveRedirect(ctx context.Context, httpsAddr net.Addr) (stop func(), err error) {
	if r.cfg.TLS.RedirectHTTP == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", r.cfg.TLS.RedirectHTTP)
	if err != nil {
		return nil, fmt.Errorf("tls.redirect_http %s: %w", r.cfg.TLS.RedirectHTTP, err)
	}
	var h http.Handler = redirectToHTTPS(httpsAddr)
	if r.tls.acme != nil {
		h = r.tls.acme.HTTPHandler(h)
	}
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 30 * time.Second, MaxHeaderBytes: r.cfg.Limits.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("redirect listener stopped", "err", err)
		}
	}()
	r.log.Info("HTTP redirect listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

func redirectToHTTPS(httpsAddr net.Addr) http.Handler {
	_, port, _ := net.SplitHostPort(httpsAddr.String())
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host := req.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" || strings.ContainsAny(host, "/\\@") {
			apierror.Write(w, apierror.New("bad_request", "This relay speaks HTTPS only."))
			return
		}
		if port != "443" {
			host = net.JoinHostPort(host, port)
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			apierror.Write(w, apierror.New("bad_request", "This relay speaks HTTPS only: send the request to https://"+host+
				" (whatever this request carried crossed the network in clear text)."))
			return
		}
		http.Redirect(w, req, "https://"+host+req.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}
