package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/config"
)

// protocol is how a test client talks to a live relay.
type protocol string

const (
	http1 protocol = "http1" // plain HTTP/1.1
	h2TLS protocol = "h2"    // HTTP/2 over TLS, negotiated by ALPN
	h2C   protocol = "h2c"   // HTTP/2 in clear text, prior knowledge
)

// allProtocols are the ones every limit must hold over.
var allProtocols = []protocol{http1, h2TLS, h2C}

func (p protocol) scheme() string {
	if p == h2TLS {
		return "https"
	}
	return "http"
}

func (p protocol) configure(c *config.Config, tc *testCert) {
	switch p {
	case h2TLS:
		c.TLS.CertFile, c.TLS.KeyFile = tc.certFile, tc.keyFile
	case h2C:
		c.HTTP2.H2C = true
	}
}

// client speaks exactly p: a response over another protocol fails the
// test (see wantProto).
func (p protocol) client(tc *testCert) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, Protocols: new(http.Protocols)}
	switch p {
	case http1:
		tr.Protocols.SetHTTP1(true)
	case h2TLS:
		tr.Protocols.SetHTTP2(true)
		tr.TLSClientConfig = &tls.Config{RootCAs: tc.pool}
	case h2C:
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Transport: tr}
}

// major is the HTTP major version a response over p carries.
func (p protocol) major() int {
	if p == http1 {
		return 1
	}
	return 2
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost in
// PEM files.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool
	serial            int64
}

func newTestCert(t testing.TB, dir string, serial int64) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "relay test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), serial: serial}
	tc.writeFiles(t, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	leaf, _ := x509.ParseCertificate(der)
	tc.pool = x509.NewCertPool()
	tc.pool.AddCert(leaf)
	return tc
}

// writeFiles replaces the files the way certbot does: write aside, rename.
func (tc *testCert) writeFiles(t testing.TB, certPEM, keyPEM []byte) {
	t.Helper()
	for path, data := range map[string][]byte{tc.certFile: certPEM, tc.keyFile: keyPEM} {
		if err := os.WriteFile(path+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
}

// wantProto fails the test when resp did not come over p.
func wantProto(t testing.TB, p protocol, resp *http.Response) {
	t.Helper()
	if resp.ProtoMajor != p.major() {
		t.Fatalf("over %s the answer came as %s", p, resp.Proto)
	}
}
