// Package certs supplies the relay's TLS certificates: from PEM files that
// are re-read when they change, or from an ACME CA for named domains.
package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Files serves the certificate in a pair of PEM files. A new pair is
// picked up on Reload (SIGHUP) or by Watch; connections already open keep
// the certificate they were made with, so nothing is dropped. A pair that
// fails to load (half-written, key not matching) leaves the current one
// in place.
type Files struct {
	certFile, keyFile string
	log               *slog.Logger
	current           atomic.Pointer[pair]
	mu                sync.Mutex // serialises reloads
}

type pair struct {
	cert            *tls.Certificate
	certPEM, keyPEM []byte
}

// LoadFiles reads the pair once; an unusable pair is an error.
func LoadFiles(certFile, keyFile string, log *slog.Logger) (*Files, error) {
	f := &Files{certFile: certFile, keyFile: keyFile, log: log}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// GetCertificate is the tls.Config hook.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.current.Load().cert, nil
}

// Leaf is the certificate being served.
func (f *Files) Leaf() *x509.Certificate { return f.current.Load().cert.Leaf }

// Reload re-reads the files and says whether the certificate changed. On
// error the previous certificate stays.
func (f *Files) Reload() (changed bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	certPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return false, fmt.Errorf("tls.cert_file: %w", err)
	}
	keyPEM, err := os.ReadFile(f.keyFile)
	if err != nil {
		return false, fmt.Errorf("tls.key_file: %w", err)
	}
	if cur := f.current.Load(); cur != nil && bytes.Equal(cur.certPEM, certPEM) && bytes.Equal(cur.keyPEM, keyPEM) {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The message names the files, never their content.
		return false, fmt.Errorf("tls.cert_file/tls.key_file: %w", err)
	}
	f.current.Store(&pair{cert: &cert, certPEM: certPEM, keyPEM: keyPEM})
	leaf := cert.Leaf
	f.log.Info("TLS certificate loaded", "file", f.certFile, "subject", leaf.Subject.String(),
		"dns_names", leaf.DNSNames, "ip_addresses", leaf.IPAddresses, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Now().After(leaf.NotAfter) {
		f.log.Warn("the TLS certificate has expired: clients will refuse it", "file", f.certFile)
	}
	return true, nil
}

// Watch re-reads the files every interval until ctx ends, so a renewal by
// certbot or a Kubernetes secret update is served without a signal.
func (f *Files) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := f.Reload(); err != nil && !errors.Is(err, context.Canceled) {
				f.log.Error("TLS certificate reload failed: still serving the previous one", "err", err)
			}
		}
	}
}
