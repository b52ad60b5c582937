package certs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pemPair is a self-signed certificate and its key.
func pemPair(t *testing.T, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "t"},
		DNSNames: []string{"relay.example"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

type files struct{ cert, key string }

func writePair(t *testing.T, f files, certPEM, keyPEM []byte) {
	t.Helper()
	if err := os.WriteFile(f.cert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newFiles(t *testing.T) (files, *bytes.Buffer) {
	dir := t.TempDir()
	return files{filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}, &bytes.Buffer{}
}

func served(t *testing.T, f *Files) int64 {
	t.Helper()
	c, err := f.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber.Int64()
}

func TestReloadPicksUpANewPairAndSaysWhetherItChanged(t *testing.T) {
	p, logs := newFiles(t)
	c1, k1 := pemPair(t, 1, time.Now().Add(time.Hour))
	writePair(t, p, c1, k1)
	f, err := LoadFiles(p.cert, p.key, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := f.Reload(); changed || err != nil {
		t.Fatalf("unchanged files: changed=%v err=%v", changed, err)
	}
	c2, k2 := pemPair(t, 2, time.Now().Add(time.Hour))
	writePair(t, p, c2, k2)
	if changed, err := f.Reload(); !changed || err != nil || served(t, f) != 2 {
		t.Fatalf("new files: changed=%v err=%v serial=%d", changed, err, served(t, f))
	}
}

func TestAHalfWrittenPairKeepsTheCurrentCertificate(t *testing.T) {
	p, logs := newFiles(t)
	c1, k1 := pemPair(t, 1, time.Now().Add(time.Hour))
	writePair(t, p, c1, k1)
	f, err := LoadFiles(p.cert, p.key, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c2, k2 := pemPair(t, 2, time.Now().Add(time.Hour))
	for name, pair := range map[string][2][]byte{
		"new certificate, old key": {c2, k1},
		"truncated certificate":    {c2[:len(c2)/2], k2},
		"empty key":                {c2, nil},
	} {
		writePair(t, p, pair[0], pair[1])
		_, err := f.Reload()
		if err == nil || served(t, f) != 1 {
			t.Fatalf("%s: err=%v serial=%d, want an error and serial 1", name, err, served(t, f))
		}
		if bytes.Contains([]byte(err.Error()), []byte("PRIVATE")) {
			t.Fatalf("%s: the error quotes key material: %v", name, err)
		}
	}
	if os.Remove(p.key) != nil {
		t.Fatal("remove")
	}
	if _, err := f.Reload(); err == nil || served(t, f) != 1 {
		t.Fatal("a missing key file must keep the current certificate")
	}
}

func TestLoadRefusesAnUnusablePair(t *testing.T) {
	p, logs := newFiles(t)
	c1, _ := pemPair(t, 1, time.Now().Add(time.Hour))
	_, k2 := pemPair(t, 2, time.Now().Add(time.Hour))
	writePair(t, p, c1, k2)
	if _, err := LoadFiles(p.cert, p.key, slog.New(slog.NewTextHandler(logs, nil))); err == nil {
		t.Fatal("a mismatched pair loaded")
	}
}

func TestAnExpiredCertificateIsLoadedWithAWarning(t *testing.T) {
	p, logs := newFiles(t)
	c1, k1 := pemPair(t, 1, time.Now().Add(-time.Hour))
	writePair(t, p, c1, k1)
	if _, err := LoadFiles(p.cert, p.key, slog.New(slog.NewTextHandler(logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logs.Bytes(), []byte("has expired")) {
		t.Fatalf("no warning: %s", logs)
	}
}

func TestWatchServesARenewalWithoutASignal(t *testing.T) {
	p, logs := newFiles(t)
	c1, k1 := pemPair(t, 1, time.Now().Add(time.Hour))
	writePair(t, p, c1, k1)
	f, err := LoadFiles(p.cert, p.key, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Watch(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	c2, k2 := pemPair(t, 2, time.Now().Add(time.Hour))
	writePair(t, p, c2, k2)
	deadline := time.Now().Add(5 * time.Second)
	for served(t, f) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the renewal was not picked up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
