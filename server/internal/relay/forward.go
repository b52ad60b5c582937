package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/headers"
)

// clientAuthHeaders carry the relay token (or anything a client thinks is a
// key); none of them may reach the provider.
var clientAuthHeaders = []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Origin", "Referer"}

// hopHeaders describe one connection, not the message (RFC 9110 §7.6.1),
// and the X-Forwarded family would tell the provider the client's address:
// none of them is forwarded either way.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
}

// upstreamRequest builds the request to the provider: the provider's fixed
// origin and prefix, the remaining path and query verbatim, the client's
// end-to-end headers without its credentials, the real key. Its context
// is the call's upstream context, which finish, the idle timeout and the
// drain bound cancel.
func (h *Handler) upstreamRequest(r *http.Request, c *call) *http.Request {
	p := c.provider
	c.client = r.Context()
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
	path := c.found.Path
	if c.forwardPath != "" {
		path = c.forwardPath
	}
	rawPath := p.Prefix + path
	out := &http.Request{
		Method: r.Method,
		URL: &url.URL{
			Scheme: p.Origin.Scheme, Host: p.Origin.Host,
			Path: unescapeOr(rawPath), RawPath: rawPath, RawQuery: c.found.RawQuery,
		},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: requestHeader(r.Header, p.RequestHeaders),
		Host:   p.Origin.Host,
	}
	body := c.body
	if len(body) > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	for name, value := range p.DefaultHeaders {
		if out.Header.Get(name) == "" {
			out.Header.Set(name, value)
		}
	}
	for name, value := range p.PinnedHeaders {
		out.Header.Set(name, value) // the operator's word wins over the client's
	}
	p.SetAuth(out.Header, c.claims.APIKey) // relay-held keys are set per attempt
	out.Header.Set("Accept-Encoding", upstreamEncoding(r.Header, c.stream || c.filterModels))
	// Every attempt (retries clone this request) tells the call when it
	// has a connection: a timeout after that is the provider's slowness.
	// Set here, in the one copy WithContext makes, not per attempt.
	return out.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { c.connected.Store(true) },
	}))
}

// upstreamEncoding is the Accept-Encoding the provider gets: gzip when the
// client accepts it (the relay meters a decompressed copy, the client gets
// the provider's bytes), identity otherwise — never an encoding the relay
// could not read (br, zstd: a usage the relay cannot read is charged in
// full). Streams are always identity: a compressing upstream buffers, and
// a budget stream is edited event by event.
func upstreamEncoding(h http.Header, stream bool) string {
	if !stream && acceptsGzip(h.Values("Accept-Encoding")) {
		return "gzip"
	}
	return "identity"
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip, x-gzip or *
// with a q-value above 0.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q="); ok && strings.Trim(q, "0.") == "" {
				continue // q=0: not acceptable
			}
			return true
		}
	}
	return false
}

// requestHeader keeps the client's headers the provider's allowlist
// names (headers.Request plus the operator's additions), never its
// credentials, the hop-by-hop fields or those its Connection header names.
func requestHeader(in http.Header, allow headers.Allowlist) http.Header {
	out := make(http.Header, len(in)+2)
	for name, values := range in {
		if allow.Allows(name) {
			out[name] = values
		}
	}
	dropHop(out)
	for _, name := range clientAuthHeaders {
		delete(out, name)
	}
	if _, ok := out["User-Agent"]; !ok {
		// Not Go's default: the provider sees the client's agent or none.
		out["User-Agent"] = []string{""}
	}
	return out
}

// dropHop removes hop-by-hop fields from a header the relay owns.
func dropHop(hdr http.Header) {
	for _, v := range hdr["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				delete(hdr, http.CanonicalHeaderKey(name))
			}
		}
	}
	for _, name := range hopHeaders {
		delete(hdr, name)
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
func (h *Handler) modifyResponse(c *call, resp *http.Response) {
	c.fields.Upstream = resp.StatusCode
	// Only what clients read crosses back: never the account's cookies,
	// organization or its own rate limits (the token's replace them).
	c.provider.ResponseHeaders.Filter(resp.Header)
	switch {
	case resp.StatusCode >= 500:
		c.markRefund("upstream_" + http.StatusText(resp.StatusCode))
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		c.upstreamOK = true
	}
	eventStream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	kind := meterNone
	switch {
	case !c.upstreamOK:
	case eventStream:
		kind = meterStream
	default:
		kind = meterJSON
	}
	encoding := contentEncoding(resp.Header)
	if eventStream && encoding == "gzip" {
		// Asked for identity, sent gzip: decode it for the client, so the
		// stream can still be metered and edited event by event.
		resp.Body = newGunzip(resp.Body)
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		encoding = ""
	}
	m := newMeteredBody(c, resp.Body, kind, encoding)
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
	if hdr.Get("Content-Encoding") != "" {
		// The relay picked the coding from the client's Accept-Encoding.
		hdr.Add("Vary", "Accept-Encoding")
	}
	applyCORS(hdr, c.origin)
	setRateHeaders(hdr, c.claims, c.grant)
	hdr.Set("X-Relayapi-Request-Id", c.fields.RequestID)
	if hdr.Get("X-Request-Id") == "" {
		hdr.Set("X-Request-Id", c.fields.RequestID)
	}
}

// upstreamError runs when the provider could not be reached or did not
// answer in time. Nothing reached the client yet, so the call is refunded.
func (h *Handler) upstreamError(w http.ResponseWriter, c *call, err error) {
	if errors.Is(err, context.Canceled) && c.clientGone() {
		// The client left and there is no one to answer. Once a
		// connection to the provider was in hand the request may have
		// been sent, so the call stays spent; before that the provider did
		// nothing, and the call is given back — else resetting HTTP/2
		// streams (cheap: thousands per second on one connection) would
		// burn a token's calls with nothing ever forwarded.
		c.fields.Code = "client_closed"
		if !c.connected.Load() {
			c.markRefund("client_closed")
		}
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
