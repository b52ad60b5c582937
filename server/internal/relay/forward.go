package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/relayapi/relayapi/server/internal/apierror"
)

// clientAuthHeaders carry the relay token (or anything a client thinks is a
// key); none of them may reach the provider.
var clientAuthHeaders = []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Origin", "Referer"}

// rewrite builds the upstream request: the provider's fixed origin and
// prefix, the remaining path and query verbatim, the real key.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	c := callFrom(pr.In.Context())
	p := c.provider
	// The upstream request gets its own cancel, so finish, the idle
	// timeout and the drain bound can stop it.
	c.client = pr.In.Context()
	parent := c.client
	if h.opts.Drain && c.stream {
		// Drain mode: the upstream must outlive a client that leaves, so it
		// is detached from the client's context, for at most DrainTimeout
		// after the client left; finish cancels it.
		parent = context.WithoutCancel(parent)
	}
	ctx, cancel := context.WithCancel(parent)
	c.cancelUp = cancel
	if h.opts.Drain && c.stream {
		c.stopWatch = context.AfterFunc(c.client, c.startDrain)
	}
	out := pr.Out.WithContext(ctx)
	pr.Out = out
	out.URL.Scheme = p.Origin.Scheme
	out.URL.Host = p.Origin.Host
	out.URL.RawPath = p.Prefix + c.found.Path
	out.URL.Path = unescapeOr(out.URL.RawPath)
	out.URL.RawQuery = c.found.RawQuery
	out.Host = p.Origin.Host
	for _, name := range clientAuthHeaders {
		out.Header.Del(name)
	}
	for name, value := range p.DefaultHeaders {
		if out.Header.Get(name) == "" {
			out.Header.Set(name, value)
		}
	}
	p.SetAuth(out.Header, c.claims.APIKey) // relay-held keys are set per attempt
	if c.stream {
		// A compressing upstream buffers; streams must flow per event.
		out.Header.Set("Accept-Encoding", "identity")
	}
}

func unescapeOr(raw string) string {
	if p, err := url.PathUnescape(raw); err == nil {
		return p
	}
	return raw
}

// modifyResponse runs when the provider's headers arrive, before any byte
// goes to the client: a 5xx is refunded (the provider did not serve the
// call), the body is metered, and the relay's CORS and rate-limit headers
// replace the provider's.
func (h *Handler) modifyResponse(resp *http.Response) error {
	c := callFrom(resp.Request.Context())
	c.fields.Upstream = resp.StatusCode
	switch {
	case resp.StatusCode >= 500:
		c.markRefund("upstream_" + http.StatusText(resp.StatusCode))
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		c.upstreamOK = true
	}
	eventStream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	m := newMeteredBody(c, resp.Body, eventStream)
	c.mu.Lock()
	c.meter = m
	c.mu.Unlock()
	resp.Body = m
	if eventStream {
		h.opts.Metrics.StreamStarted()
		c.streaming = true
	}
	hdr := resp.Header
	for name := range hdr {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			delete(hdr, name)
		}
	}
	hdr.Del("Vary")
	applyCORS(hdr, c.origin)
	setRateHeaders(hdr, c.claims, c.grant)
	hdr.Set("X-Relayapi-Request-Id", c.fields.RequestID)
	if hdr.Get("X-Request-Id") == "" {
		hdr.Set("X-Request-Id", c.fields.RequestID)
	}
	return nil
}

// upstreamError runs when the provider could not be reached or did not
// answer in time. Nothing reached the client yet, so the call is refunded.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	c := callFrom(r.Context())
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client left; its call stays spent (the provider may have
		// started work) and there is no one to answer.
		c.fields.Code = "client_closed"
		return
	}
	// A timeout once connected is the provider not answering in time
	// (timeouts.upstream_response_header); before that (DNS, TCP connect,
	// TLS handshake) the provider could not be reached, however long that
	// took to find out.
	apiErr := apierror.Unreachable
	var netErr net.Error
	if c.connected.Load() && (errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())) {
		apiErr = apierror.UpstreamTimout
	}
	c.markRefund(apiErr.Code)
	h.log.Warn("upstream failed", "jti", c.claims.ID, "provider", c.provider.Name, "err", err.Error())
	c.fields.Code = apiErr.Code
	applyCORS(w.Header(), c.origin)
	w.Header().Set("X-Request-Id", c.fields.RequestID)
	apierror.Write(w, apiErr)
}
