package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/reqbody"
	"github.com/relayapi/relayapi/server/internal/reqlog"
)

// call is what the proxy callbacks need to know about the request.
type call struct {
	tokenID  string
	apiKey   string
	provider *provider.Provider
	found    intake.Found
	stream   bool
	origin   string // allowed origin to echo, "" for none
	refunded bool
}

type callKey struct{}

// ServeHTTP handles a request whose escaped path (base path removed) is
// given by Path in the request's URL.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fields := reqlog.From(r.Context())
	c, body, apiErr := h.prepare(w, r, fields)
	if apiErr != nil {
		fields.Code = apiErr.Code
		apierror.Write(w, apiErr)
		return
	}
	// The provider's answer carries the CORS headers (modifyResponse).
	// So does the request id: the provider's own x-request-id passes
	// through unchanged, the relay's goes in x-relayapi-request-id.
	for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary", "X-Request-Id"} {
		w.Header().Del(name)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) == 0 && r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		r.Body = http.NoBody
	}
	h.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// prepare runs every check in DESIGN.md order and spends the call. It
// returns the body to forward.
func (h *Handler) prepare(w http.ResponseWriter, r *http.Request, fields *reqlog.Fields) (*call, []byte, *apierror.Error) {
	found, problem := intake.Extract(r, r.URL.EscapedPath())
	switch problem {
	case intake.NoToken:
		h.setCORS(w, r, nil)
		return nil, nil, apierror.MissingToken
	case intake.BadPath:
		h.setCORS(w, r, nil)
		return nil, nil, apierror.New("bad_request", "The path is not allowed (dot segments, empty segments or encoded slashes).")
	}
	fields.Location = string(found.Location)
	tok, err := h.decode(found.Token)
	if err != nil {
		h.setCORS(w, r, nil)
		return nil, nil, tokenError(err)
	}
	claims := tok.Claims
	fields.TokenID, fields.Subject, fields.Provider, fields.Meta = claims.ID, claims.Subject, claims.Provider, claims.Meta
	origin, originOK := h.setCORS(w, r, tok)
	if err := claims.CheckTime(h.now(), h.opts.Leeway); err != nil {
		return nil, nil, tokenError(err)
	}
	prov, ok := h.opts.Providers.Lookup(claims.Provider)
	if !ok {
		return nil, nil, apierror.UnknownProv
	}
	body, apiErr := readBody(w, r, h.opts.MaxBodyBytes)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	info, apiErr := h.checkRequest(r, tok, found, body, originOK)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	fields.Model = info.Model
	if apiErr := h.admit(r.Context(), claims); apiErr != nil {
		return nil, nil, apiErr
	}
	return &call{
		tokenID: claims.ID, apiKey: claims.APIKey, provider: prov, found: found,
		stream: info.Stream, origin: origin,
	}, body, nil
}

// checkRequest applies the token's restrictions: path, origin, IP, model.
func (h *Handler) checkRequest(r *http.Request, tok *policy.Token, found intake.Found, body []byte, originOK bool) (reqbody.Info, *apierror.Error) {
	path, _ := url.PathUnescape(found.Path)
	if !tok.PathAllowed(path) {
		return reqbody.Info{}, apierror.New("path_not_allowed", "The token does not allow this endpoint.")
	}
	if !originOK {
		return reqbody.Info{}, apierror.New("origin_not_allowed", "The token does not allow this origin.")
	}
	if !tok.IPAllowed(h.opts.ClientIP(r)) {
		return reqbody.Info{}, apierror.New("ip_not_allowed", "The token does not allow this client address.")
	}
	info, err := reqbody.Inspect(body, r.Header.Get("Content-Type"))
	switch {
	case errors.Is(err, reqbody.ErrModelNotString):
		return info, apierror.New("bad_request", `The body's "model" must be a string.`)
	case err != nil && tok.RestrictsModels():
		return info, apierror.New("bad_request", "The body could not be read to find the model.")
	}
	if info.Model == "" {
		info.Model = reqbody.ModelFromPath(path)
	}
	if !tok.ModelAllowed(info.Model) && (info.Model != "" || r.Method != http.MethodGet) {
		return info, apierror.New("model_not_allowed", "The token does not allow this model.")
	}
	return info, nil
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apierror.Error) {
	if r.ContentLength > limit {
		return nil, apierror.TooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	size := r.ContentLength
	if size < 0 || size > 64<<10 {
		size = 64 << 10
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, apierror.TooLarge
	case err != nil:
		return nil, apierror.New("bad_request", "The request body could not be read.")
	}
	return buf.Bytes(), nil
}

// setCORS writes the CORS response headers for a browser request and
// reports whether the Origin passes the token's `origins` (true when the
// token has none). The allowed origin to echo is returned for the proxy,
// which must re-apply it over the provider's own CORS headers.
func (h *Handler) setCORS(w http.ResponseWriter, r *http.Request, tok *policy.Token) (string, bool) {
	origin := r.Header.Get("Origin")
	allowed, ok := h.allowedOrigin(origin, tok)
	applyCORS(w.Header(), allowed)
	return allowed, ok
}

// allowedOrigin decides what Access-Control-Allow-Origin says. ok reports
// whether the token's own `origins` claim (if any) allows the request.
func (h *Handler) allowedOrigin(origin string, tok *policy.Token) (allowed string, ok bool) {
	if tok != nil {
		if pass, restricted := tok.OriginAllowed(origin); restricted {
			if pass {
				return origin, true
			}
			return "", false
		}
	}
	if origin == "" {
		return "", true
	}
	for _, o := range h.opts.CORSOrigins {
		if o == "*" {
			return "*", true
		}
	}
	if policy.OriginMatches(h.opts.CORSOrigins, origin) {
		return origin, true
	}
	return "", true
}

// ExposedHeaders are the response headers browser SDKs may read.
const ExposedHeaders = "x-request-id, x-relayapi-request-id, retry-after, " +
	"x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, " +
	"x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, openai-processing-ms, request-id"

func applyCORS(h http.Header, allowed string) {
	h.Add("Vary", "Origin")
	if allowed == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", allowed)
	h.Set("Access-Control-Expose-Headers", ExposedHeaders)
}

// Preflight answers a CORS preflight without spending a call. A path token
// is honoured when it decodes, so a page outside its `origins` is refused
// by the browser before it sends anything.
func (h *Handler) Preflight(w http.ResponseWriter, r *http.Request) {
	var tok *policy.Token
	if found, problem := intake.Extract(r, r.URL.EscapedPath()); problem == intake.OK && found.Location == intake.InPath {
		tok, _ = h.decode(found.Token)
	}
	allowed, ok := h.allowedOrigin(r.Header.Get("Origin"), tok)
	hdr := w.Header()
	hdr.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	if ok && allowed != "" {
		hdr.Set("Access-Control-Allow-Origin", allowed)
		hdr.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		if reqHeaders := r.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
			hdr.Set("Access-Control-Allow-Headers", reqHeaders)
		}
		hdr.Set("Access-Control-Max-Age", strconv.Itoa(600))
	}
	w.WriteHeader(http.StatusNoContent)
}
