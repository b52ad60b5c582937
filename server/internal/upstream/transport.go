// Package upstream is the relay's HTTP/1.1 client to the providers.
//
// net/http.Transport gives every connection a read goroutine and a write
// goroutine and hands each request between them over channels, and it
// writes a request's headers and body in two system calls. For a relay that
// forwards many small calls and holds thousands of open streams, that is
// most of its cost per call and two extra goroutine stacks per stream. This
// Transport does the exchange in the caller's goroutine: one write for the
// headers and a small body, the response read from a pooled bufio.Reader,
// and the connection back in the pool when the body reaches EOF. Parsing
// stays with the standard library (http.ReadResponse).
//
// It speaks HTTP/1.1 only (what the providers' own SDKs use by default);
// requests that must go through an HTTP proxy from the environment are
// handed to the standard Transport.
package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

// Transport is an http.RoundTripper for HTTP/1.1 with keep-alive pooling.
// The zero value is not usable; set Dialer at least.
type Transport struct {
	// Dialer opens TCP connections; its Timeout also bounds the TLS
	// handshake.
	Dialer *net.Dialer
	// TLSConfig is cloned for each TLS connection (ServerName is set from
	// the request).
	TLSConfig *tls.Config
	// ResponseHeaderTimeout bounds the wait for the response headers after
	// the request was written (0: none).
	ResponseHeaderTimeout time.Duration
	// IdleTimeout closes pooled connections idle longer than this.
	IdleTimeout time.Duration
	// MaxIdlePerHost bounds the pooled connections per origin.
	MaxIdlePerHost int
	// Proxy and Fallback: a request for which Proxy returns a proxy URL is
	// sent with Fallback (the standard Transport knows proxies).
	Proxy    func(*http.Request) (*url.URL, error)
	Fallback http.RoundTripper

	mu   sync.Mutex
	idle map[origin][]*conn
}

// origin keys the pool: scheme and host as the request names them.
type origin struct{ scheme, host string }

// maxInlineBody is the largest request body sent in the same write as the
// headers; larger bodies follow in their own writes.
const maxInlineBody = 64 << 10

// errResponseHeaderTimeout is a provider that did not answer within
// ResponseHeaderTimeout: a timeout (net.Error), but not a network failure
// worth retrying.
var errResponseHeaderTimeout error = &timeoutError{"upstream: timeout awaiting response headers"}

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// errInvalidHeader is returned for a header a client or token could use to
// inject lines into the upstream request.
var errInvalidHeader = errors.New("upstream: invalid header field")

// RoundTrip sends req and returns the response; its body must be read to
// EOF or closed.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		closeBody(req)
		return nil, fmt.Errorf("upstream: unsupported scheme %q", req.URL.Scheme)
	}
	if t.Proxy != nil && t.Fallback != nil {
		proxy, err := t.Proxy(req)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		if proxy != nil {
			return t.Fallback.RoundTrip(req)
		}
	}
	key := poolKey(req.URL)
	for attempt := 0; ; attempt++ {
		// The retry dials: the other pooled connections sat idle as long
		// as the stale one, and a provider's idle timeout closed them too.
		c, err := t.conn(req.Context(), key, req.URL, attempt == 0)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := t.exchange(c, req)
		if err == nil {
			return resp, nil
		}
		// A pooled connection the provider closed while it sat idle fails
		// before any byte of an answer: send the request again on a fresh
		// connection, as net/http does, when the body can be replayed.
		if !c.reused || !c.nothingRead || attempt > 0 || req.Context().Err() != nil || !staleConn(err) {
			closeBody(req)
			return nil, err
		}
		if req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, err
			}
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

// staleConn reports the errors of a keep-alive connection the server
// closed: an immediate EOF or reset, never a timeout.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// exchange writes req on c and reads the response headers.
func (t *Transport) exchange(c *conn, req *http.Request) (*http.Response, error) {
	c.watch(req.Context())
	if err := c.writeRequest(req); err != nil {
		c.nothingRead = true
		c.close()
		return nil, c.cause(err)
	}
	if t.ResponseHeaderTimeout > 0 {
		c.setReadDeadline(time.Now().Add(t.ResponseHeaderTimeout))
	}
	resp, err := c.readResponse(req)
	if err != nil {
		c.close()
		if err = c.cause(err); errors.Is(err, os.ErrDeadlineExceeded) {
			err = errResponseHeaderTimeout
		}
		return nil, err
	}
	if t.ResponseHeaderTimeout > 0 {
		c.setReadDeadline(time.Time{})
	}
	reusable := !resp.Close && !req.Close
	if resp.Body == http.NoBody || resp.Body == nil {
		t.release(c, reusable)
		resp.Body = http.NoBody
		return resp, nil
	}
	resp.Body = &body{rc: resp.Body, c: c, t: t, reusable: reusable}
	return resp, nil
}

// conn returns a pooled connection to the request's origin (when pooled
// is true) or dials one.
func (t *Transport) conn(ctx context.Context, key origin, u *url.URL, pooled bool) (*conn, error) {
	trace := httptrace.ContextClientTrace(ctx)
	if pooled {
		if c := t.takeIdle(key); c != nil {
			if trace != nil && trace.GotConn != nil {
				trace.GotConn(httptrace.GotConnInfo{Conn: c.nc, Reused: true, WasIdle: true})
			}
			return c, nil
		}
	}
	nc, err := t.dial(ctx, u)
	if err != nil {
		return nil, err
	}
	c := newConn(nc, key)
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: nc})
	}
	return c, nil
}

func (t *Transport) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	addr := hostPort(u)
	nc, err := t.Dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" {
		return nc, nil
	}
	cfg := &tls.Config{}
	if t.TLSConfig != nil {
		cfg = t.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(nc, cfg)
	hctx := ctx
	if t.Dialer.Timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, t.Dialer.Timeout)
		defer cancel()
	}
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// takeIdle pops the most recently used idle connection, closing the ones
// idle for too long.
func (t *Transport) takeIdle(key origin) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	for len(list) > 0 {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		if t.IdleTimeout > 0 && time.Since(c.idleSince) > t.IdleTimeout {
			go c.close()
			continue
		}
		t.idle[key] = list
		c.reused = true
		return c
	}
	if t.idle != nil {
		t.idle[key] = list
	}
	return nil
}

// release returns c to the pool, or closes it.
func (t *Transport) release(c *conn, reusable bool) {
	if !c.unwatch() || !reusable || c.br.Buffered() > 0 {
		c.close()
		return
	}
	c.idleSince = time.Now()
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[origin][]*conn{}
	}
	list := t.idle[c.key]
	if len(list) >= max(t.MaxIdlePerHost, 1) {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle[c.key] = append(list, c)
	t.mu.Unlock()
}

// CloseIdleConnections closes the pooled connections.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
	if f, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

func poolKey(u *url.URL) origin { return origin{u.Scheme, u.Host} }

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// body hands the connection back to the pool at EOF; closed early, the
// connection is dropped (the rest of the answer is unread).
type body struct {
	rc       io.ReadCloser
	c        *conn
	t        *Transport
	reusable bool
	done     bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.done = true
		b.t.release(b.c, b.reusable)
	case err != nil:
		b.done = true
		b.c.close()
		err = b.c.cause(err)
	}
	return n, err
}

// WaitReadable blocks until the provider has sent more of the body (or
// the connection failed), without a buffer of the caller's: an idle
// stream then holds only the connection's own reader.
func (b *body) WaitReadable() {
	if !b.done && b.c.br.Buffered() == 0 {
		_, _ = b.c.br.Peek(1)
	}
}

func (b *body) Close() error {
	if !b.done {
		b.done = true
		b.c.unwatch()
		b.c.close()
	}
	return nil
}
