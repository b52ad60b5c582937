// Package bareproxy is the "naive Go relay" baseline: the standard library
// reverse proxy with a transport tuned for many concurrent upstream calls,
// doing only what every relay must (swap the client's key for the
// upstream one). Whatever RelayAPI costs above it is the price of its
// features.
package bareproxy

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// New returns a proxy that forwards every request to upstream with
// Authorization replaced by "Bearer key".
func New(upstream *url.URL, key string) http.Handler {
	auth := "Bearer " + key
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = upstream.Host
			pr.Out.Header.Set("Authorization", auth)
		},
		// Flush every write: SSE chunks must not wait in a buffer.
		FlushInterval: -1,
		Transport:     NewTransport(),
		// The default handler logs every failure; a benchmark sees them as
		// 502s in the load generator's counts instead.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"error":{"message":"upstream unavailable","type":"bad_gateway"}}` + "\n"))
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The transport streams r.Body upstream and, after the declared
		// length, reads it once more to check for excess. By default the
		// HTTP/1 server drains and closes r.Body when the response header
		// is written; if the upstream answers first, that last read fails
		// and the transport drops the upstream connection mid-stream
		// (golang/go#40747; about 0.2% of 1000 concurrent SSE streams).
		// Full duplex leaves the body to the transport. The error only
		// says the connection is HTTP/2, where the problem does not exist.
		_ = http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
}

// NewTransport is http.DefaultTransport with the idle pool sized for
// thousands of concurrent upstream connections, so the baseline never pays
// for redialling under load.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4096
	t.MaxIdleConnsPerHost = 4096
	t.IdleConnTimeout = 90 * time.Second
	// Relays pass bodies through untouched; transparent gzip would both
	// cost CPU and change what the client receives.
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	return t
}
