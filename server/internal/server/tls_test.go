package server_test

// HTTPS from certificate files (issue 19): a renewed certificate is served
// to new connections while open ones carry on; a broken pair is never
// served; the plain listener redirects and refuses; HSTS when asked.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

// servedSerial is the serial of the certificate a new TLS handshake gets.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	// Not verifying is fine here: the probe only reads what is served.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestARenewedCertificateIsServedWithoutDroppingOpenStreams(t *testing.T) {
	up := newGatedStream()
	s := newLiveStackOver(t, h2TLS, up, nil)
	resp, rd := openStream(t, s, context.Background(), s.token(nil))
	defer resp.Body.Close()

	renewed := newTestCert(t, t.TempDir(), 2)
	certPEM, _ := os.ReadFile(renewed.certFile)
	keyPEM, _ := os.ReadFile(renewed.keyFile)
	s.cert.writeFiles(t, certPEM, keyPEM)
	s.relay.ReloadCertificates()
	if got := servedSerial(t, s.addr); got != 2 {
		t.Fatalf("after the reload a new connection got serial %d, want 2", got)
	}
	// The stream opened under the old certificate finishes on its connection.
	up.open()
	rest, err := readAll(rd)
	if err != nil || !strings.Contains(rest, "[DONE]") {
		t.Fatalf("the open stream: %q %v", rest, err)
	}
	// And a client trusting only the new certificate gets through.
	s.http = h2TLS.client(renewed)
	if r := s.do("GET", "/health", "", nil); r.status != 200 {
		t.Fatalf("health with the new certificate: %d", r.status)
	}
}

func TestABrokenCertificatePairIsNeverServed(t *testing.T) {
	s := newLiveStackOver(t, h2TLS, mockprovider.New(mockprovider.Options{}), nil)
	other := newTestCert(t, t.TempDir(), 3)
	certPEM, _ := os.ReadFile(other.certFile)
	keyPEM, _ := os.ReadFile(s.cert.keyFile) // the old key: it does not match
	s.cert.writeFiles(t, certPEM, keyPEM)
	s.relay.ReloadCertificates()
	if got := servedSerial(t, s.addr); got != 1 {
		t.Fatalf("serial %d served after a mismatched pair, want the previous 1", got)
	}
	if !strings.Contains(s.logs.String(), "TLS certificate reload failed: still serving the previous one") {
		t.Fatal("the failed reload was not logged")
	}
	if strings.Contains(s.logs.String(), "PRIVATE KEY") {
		t.Fatal("key material in the log")
	}
}

// redirectAddr is the address the redirect listener logged.
func redirectAddr(t *testing.T, s *liveStack) string {
	t.Helper()
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var e struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "HTTP redirect listening" {
			return e.Addr
		}
	}
	t.Fatal("no redirect listener in the log")
	return ""
}

func TestThePlainListenerRedirectsReadsAndRefusesWrites(t *testing.T) {
	mock := mockprovider.New(mockprovider.Options{})
	s := newLiveStackOver(t, h2TLS, mock, func(c *config.Config) {
		c.TLS.RedirectHTTP = "127.0.0.1:0"
		c.TLS.HSTS = true
	})
	plain := "http://" + redirectAddr(t, s)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, port, _ := net.SplitHostPort(s.addr)

	resp, err := noFollow.Get(plain + "/health?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://127.0.0.1:" + port + "/health?x=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Fatalf("GET: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	post, err := noFollow.Post(plain+"/t/"+s.token(nil)+"/v1/chat/completions", "application/json", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.NewDecoder(post.Body).Decode(&e)
	post.Body.Close()
	if post.StatusCode != 400 || e.Error.Code != "bad_request" || !strings.Contains(e.Error.Message, "https://127.0.0.1:"+port) {
		t.Fatalf("POST over plain HTTP: %d %+v", post.StatusCode, e)
	}
	if mock.Stats().Requests != 0 {
		t.Fatal("a plain-HTTP call reached the provider")
	}
	if r := s.do("GET", "/health", "", nil); r.header.Get("Strict-Transport-Security") != "max-age=63072000" {
		t.Fatalf("HSTS: %v", r.header)
	}
}

func TestHTTP2CanBeTurnedOff(t *testing.T) {
	s := newLiveStackOver(t, h2TLS, mockprovider.New(mockprovider.Options{}), func(c *config.Config) { c.HTTP2.Enabled = false })
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.cert.pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(s.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Fatalf("http2.enabled false still negotiated %s", resp.Proto)
	}
}

func TestOnlyModernTLSIsSpoken(t *testing.T) {
	s := newLiveStackOver(t, h2TLS, mockprovider.New(mockprovider.Options{}), nil)
	for name, c := range map[string]*tls.Config{
		"TLS 1.2 CBC":     {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}},
		"TLS 1.2 RSA kex": {MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}},
	} {
		c.RootCAs, c.ServerName = s.cert.pool, "localhost"
		c.InsecureSkipVerify = true // the refusal is the server's, not ours
		conn, err := tls.Dial("tcp", s.addr, c)
		if err == nil {
			conn.Close()
			t.Errorf("%s: handshake succeeded", name)
			continue
		}
		// The relay's alert, not the client declining to offer it.
		if !strings.Contains(err.Error(), "remote error") {
			t.Errorf("%s: %v, want the server's refusal", name, err)
		}
	}
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.cert.pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("TLS 1.2 with an AEAD suite: %v", err)
	}
	defer conn.Close()
	if st := conn.ConnectionState(); st.NegotiatedProtocol != "h2" {
		t.Fatalf("ALPN %q, want h2", st.NegotiatedProtocol)
	}
}
