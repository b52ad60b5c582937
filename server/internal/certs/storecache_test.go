package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// memBlobs is a store.Blobs in memory; err, when set, is every call's answer.
type memBlobs struct {
	mu  sync.Mutex
	m   map[string][]byte
	err error
}

func (b *memBlobs) GetBlob(_ context.Context, name string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return nil, b.err
	}
	v, ok := b.m[name]
	if !ok {
		return nil, store.ErrBlobNotFound
	}
	return v, nil
}

func (b *memBlobs) PutBlob(_ context.Context, name string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.m[name] = data
	return nil
}

func (b *memBlobs) DeleteBlob(_ context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	delete(b.m, name)
	return nil
}

// hangingBlobs answers only when the caller's context ends.
type hangingBlobs struct{}

func (hangingBlobs) GetBlob(ctx context.Context, _ string) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingBlobs) PutBlob(ctx context.Context, _ string, _ []byte) error {
	<-ctx.Done()
	return ctx.Err()
}

func (hangingBlobs) DeleteBlob(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestStoreCacheMapsAutocertEntriesToPrefixedBlobs(t *testing.T) {
	b := &memBlobs{m: map[string][]byte{}}
	c := NewStoreCache(b, nil)
	ctx := context.Background()
	// autocert compares with ==, not errors.Is: it must be the very value.
	if _, err := c.Get(ctx, "acme_account+key"); err != autocert.ErrCacheMiss {
		t.Fatalf("a miss: %v, want autocert.ErrCacheMiss itself", err)
	}
	for _, key := range []string{"acme_account+key", "relay.example", "relay.example+rsa", "tok+http-01", "relay.example+token"} {
		if err := c.Put(ctx, key, []byte("value of "+key)); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.m) != 5 || string(b.m["acme/relay.example+rsa"]) != "value of relay.example+rsa" {
		t.Fatalf("blobs %q", b.m)
	}
	got, err := c.Get(ctx, "relay.example")
	if err != nil || string(got) != "value of relay.example" {
		t.Fatalf("%q %v", got, err)
	}
	if err := c.Delete(ctx, "tok+http-01"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.m["acme/tok+http-01"]; ok {
		t.Fatal("Delete left the blob")
	}
	if _, err := c.Get(ctx, "tok+http-01"); err != autocert.ErrCacheMiss {
		t.Fatalf("after Delete: %v", err)
	}
}

// A store that cannot be read is not a miss: autocert must not order a
// new certificate (and account) because Redis is briefly away. The
// failure is logged; the CA is never asked.
func TestStoreCacheOutageIsNotAMissAndTheCAIsNotAsked(t *testing.T) {
	var asked atomic.Int64
	ca := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer ca.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	down := &memBlobs{m: map[string][]byte{}, err: fmt.Errorf("%w: redis get: connection refused", store.ErrUnavailable)}
	c := NewStoreCache(down, log)
	_, err := c.Get(context.Background(), "relay.example")
	if err == nil || err == autocert.ErrCacheMiss || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get on a store that is down: %v", err)
	}
	if c.Put(context.Background(), "relay.example", []byte("secret key material")) == nil {
		t.Fatal("Put on a store that is down succeeded")
	}

	a, err := NewACME(ACMEOptions{Domains: []string{"relay.example"}, Directory: ca.URL + "/dir", Blobs: down, Log: log,
		CacheDir: filepath.Join(t.TempDir(), "unused")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetCertificate(&tls.ClientHelloInfo{ServerName: "relay.example"}); err == nil {
		t.Fatal("a certificate with the store down and no CA")
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("the CA was asked %d times while the store was down", n)
	}
	out := logs.String()
	for _, want := range []string{"ACME cache: reading the store failed", "ACME cache: writing the store failed", "entry=relay.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret key material") {
		t.Fatal("the log holds a cached value")
	}
}

// autocert deletes challenge answers with no deadline while it holds its
// challenge lock: a hung store gives up after storeCacheTimeout.
func TestStoreCacheBoundsAHungStore(t *testing.T) {
	defer func(d time.Duration) { storeCacheTimeout = d }(storeCacheTimeout)
	storeCacheTimeout = 50 * time.Millisecond
	c := NewStoreCache(hangingBlobs{}, nil)
	start := time.Now()
	if err := c.Delete(context.Background(), "tok+http-01"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if _, err := c.Get(context.Background(), "relay.example"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if err := c.Put(context.Background(), "relay.example", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("three calls on a hung store took %v", d)
	}
}

// Two relays on one store: the certificate one of them obtained (here
// written in autocert's cache format, key then chain) is what the other
// serves at once, with the CA unreachable and no cache directory made;
// an HTTP-01 answer one wrote is served by the other's redirect listener.
func TestACMEOnTheStoreServesTheCertificateAnotherRelayObtained(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlitestore.Open(filepath.Join(dir, "relayapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	certPEM, keyPEM := pemPair(t, 4242, time.Now().Add(60*24*time.Hour))
	first := NewStoreCache(st, nil) // relay A's cache
	if err := first.Put(context.Background(), "relay.example", append(append([]byte{}, keyPEM...), certPEM...)); err != nil {
		t.Fatal(err)
	}
	if err := first.Put(context.Background(), "tok123+http-01", []byte("tok123.thumbprint")); err != nil {
		t.Fatal(err)
	}
	if data, err := st.GetBlob(context.Background(), "acme/relay.example"); err != nil || !bytes.HasPrefix(data, keyPEM) {
		t.Fatalf("the store holds %d bytes under acme/relay.example: %v", len(data), err)
	}

	unused := filepath.Join(dir, "certs")
	b, err := NewACME(ACMEOptions{Domains: []string{"relay.example"}, Directory: "https://127.0.0.1:1/dir",
		Blobs: st, CacheDir: unused, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := b.GetCertificate(&tls.ClientHelloInfo{
		ServerName: "relay.example", SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves: []tls.CurveID{tls.CurveP256}, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SupportedVersions: []uint16{tls.VersionTLS13},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf == nil || cert.Leaf.SerialNumber.Int64() != 4242 {
		t.Fatalf("served %+v, want serial 4242", cert.Leaf)
	}
	if _, err := os.Stat(unused); !os.IsNotExist(err) {
		t.Fatalf("tls.cache_dir was made with the cache in the store: %v", err)
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://relay.example/.well-known/acme-challenge/tok123", nil)
	b.HTTPHandler(http.NotFoundHandler()).ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || string(body) != "tok123.thumbprint" {
		t.Fatalf("HTTP-01 answer from the shared store: %d %q", rec.Code, body)
	}
}
