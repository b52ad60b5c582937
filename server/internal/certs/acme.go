package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/relayapi/relayapi/server/internal/store"
)

// ACMEOptions configure certificates obtained from an ACME CA.
type ACMEOptions struct {
	Domains   []string
	Directory string // the CA's directory URL
	Email     string
	CAFile    string // roots for a private directory; empty: the system's
	CacheDir  string
	// Blobs, when set, keep the cache in the usage store (tls.cache
	// "store"), shared by every relay on it; CacheDir is then unused.
	Blobs store.Blobs
	Log   *slog.Logger
}

// ACME obtains and renews certificates for a fixed list of domains.
type ACME struct {
	m   *autocert.Manager
	log *slog.Logger
	// defaultName answers handshakes without SNI (a health check by IP
	// address), which autocert alone refuses.
	defaultName string
}

// NewACME prepares the manager; nothing is requested until Prefetch or
// the first handshake.
func NewACME(o ACMEOptions) (*ACME, error) {
	hc := &http.Client{Timeout: time.Minute}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.acme_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.acme_ca_file: no PEM certificate in %s", o.CAFile)
		}
		hc.Transport = &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}
	}
	var cache autocert.Cache
	if o.Blobs != nil {
		cache = NewStoreCache(o.Blobs, o.Log)
	} else {
		if err := os.MkdirAll(o.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("tls.cache_dir: %w", err)
		}
		cache = autocert.DirCache(o.CacheDir)
	}
	return &ACME{log: o.Log, defaultName: o.Domains[0], m: &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: hostPolicy(o.Domains),
		Email:      o.Email,
		Client:     &acme.Client{DirectoryURL: o.Directory, HTTPClient: hc, UserAgent: "relayapi"},
	}}, nil
}

// hostPolicy allows exactly the configured names. autocert checks an
// HTTP-01 request's Host header as sent, and validators may send it with
// a port (pebble does; RFC 8555 §8.3 allows it), so the port is dropped
// before the comparison.
func hostPolicy(domains []string) autocert.HostPolicy {
	allowed := autocert.HostWhitelist(domains...)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allowed(ctx, host)
	}
}

// GetCertificate is the tls.Config hook; it answers TLS-ALPN-01 too.
func (a *ACME) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" {
		named := *hello
		named.ServerName = a.defaultName
		hello = &named
	}
	return a.m.GetCertificate(hello)
}

// HTTPHandler answers HTTP-01 challenges and passes everything else on.
func (a *ACME) HTTPHandler(next http.Handler) http.Handler { return a.m.HTTPHandler(next) }

// Prefetch obtains (or loads from the cache) each domain's certificate
// now rather than on a visitor's first handshake, and logs the outcome.
// Failures are logged, not fatal: the next handshake tries again.
func (a *ACME) Prefetch(ctx context.Context, domains []string) {
	for _, d := range domains {
		if ctx.Err() != nil {
			return
		}
		// An ECDSA-capable hello, as every current browser sends, so the
		// certificate obtained is the one they will be served.
		cert, err := a.m.GetCertificate(&tls.ClientHelloInfo{
			ServerName:        d,
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:   []tls.CurveID{tls.CurveP256},
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		})
		if err != nil {
			a.log.Error("ACME: no certificate yet; the next handshake retries", "domain", d, "err", err)
			continue
		}
		a.log.Info("ACME certificate ready", "domain", d, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
}
