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
	"github.com/relayapi/relayapi/server/internal/reqlog"
)

// clientAuthHeaders carry the relay token (or anything a client thinks is a
// key); none of them may reach the provider.
var clientAuthHeaders = []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie", "Origin", "Referer"}

// rewrite builds the upstream request: the provider's fixed origin and
// prefix, the remaining path and query verbatim, the real key.
func rewrite(pr *httputil.ProxyRequest) {
	c := pr.In.Context().Value(callKey{}).(*call)
	p := c.provider
	out := pr.Out
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
	p.SetAuth(out.Header, c.apiKey)
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
// call) and the relay's CORS answer replaces the provider's.
func (h *Handler) modifyResponse(resp *http.Response) error {
	c := resp.Request.Context().Value(callKey{}).(*call)
	fields := reqlog.From(resp.Request.Context())
	fields.Upstream = resp.StatusCode
	if resp.StatusCode >= 500 && !c.refunded {
		c.refunded = true
		h.refund(c.tokenID)
	}
	hdr := resp.Header
	for name := range hdr {
		if strings.HasPrefix(strings.ToLower(name), "access-control-") {
			delete(hdr, name)
		}
	}
	hdr.Del("Vary")
	applyCORS(hdr, c.origin)
	if fields.RequestID != "" {
		hdr.Set("X-Relayapi-Request-Id", fields.RequestID)
		if hdr.Get("X-Request-Id") == "" {
			hdr.Set("X-Request-Id", fields.RequestID)
		}
	}
	return nil
}

// upstreamError runs when the provider could not be reached or did not
// answer in time. Nothing reached the client yet, so the call is refunded.
func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	c := r.Context().Value(callKey{}).(*call)
	fields := reqlog.From(r.Context())
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client left; its call stays spent (the provider may have
		// started work) and there is no one to answer.
		fields.Code = "client_closed"
		return
	}
	if !c.refunded {
		c.refunded = true
		h.refund(c.tokenID)
	}
	apiErr := apierror.Unreachable
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		apiErr = apierror.UpstreamTimout
	}
	h.log.Warn("upstream failed", "jti", c.tokenID, "provider", c.provider.Name, "err", err.Error())
	fields.Code = apiErr.Code
	applyCORS(w.Header(), c.origin)
	w.Header().Set("X-Request-Id", fields.RequestID)
	apierror.Write(w, apiErr)
}
