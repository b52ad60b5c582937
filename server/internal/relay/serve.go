package relay

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/reqbody"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/rewrite"
)

// ServeHTTP handles a request whose escaped path (base path removed) is in
// the request's URL.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fields := reqlog.From(r.Context())
	if IsWebSocket(r) {
		h.serveRealtime(w, r, fields)
		return
	}
	c, apiErr := h.prepare(w, r, fields)
	if apiErr != nil {
		fields.Code = apiErr.Code
		if apiErr.Code == "origin_not_allowed" {
			// Readable by the page, so its developer sees why instead of
			// a bare network error; nothing was forwarded.
			applyCORS(w.Header(), r.Header.Get("Origin"))
		}
		apierror.Write(w, apiErr)
		return
	}
	// Settle runs even when the proxy aborts the response with a panic
	// (http.ErrAbortHandler on a broken stream).
	defer h.finish(c)
	if c.grant.LeaseID != "" {
		go h.renewLease(c)
	}
	// The provider's answer carries the CORS headers (modifyResponse), and
	// its own x-request-id passes through; the relay's goes in
	// x-relayapi-request-id.
	for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary", "X-Request-Id", "Request-Id"} {
		w.Header().Del(name)
	}
	h.forward(w, r, c)
}

// prepare runs every check in DESIGN.md order, admits the call in the
// store and rewrites the body it will forward.
func (h *Handler) prepare(w http.ResponseWriter, r *http.Request, fields *reqlog.Fields) (*call, *apierror.Error) {
	found, problem := intake.Extract(r, r.URL.EscapedPath())
	switch problem {
	case intake.NoToken:
		h.setCORS(w, r, nil)
		return nil, apierror.MissingToken
	case intake.BadPath:
		h.setCORS(w, r, nil)
		return nil, apierror.New("bad_request", "The path is not allowed (dot segments, empty segments or encoded slashes).")
	}
	fields.Location, fields.Path = string(found.Location), found.Path
	tok, err := h.decode(found.Token)
	if err != nil {
		h.setCORS(w, r, nil)
		return nil, tokenError(err)
	}
	claims := tok.Claims
	fields.TokenID, fields.Subject, fields.Provider, fields.Meta = claims.ID, claims.Subject, claims.Provider, claims.Meta
	origin, originOK := h.setCORS(w, r, tok)
	if err := claims.CheckTime(h.now(), h.opts.Leeway); err != nil {
		return nil, tokenError(err)
	}
	prov, ok := h.opts.Providers.Lookup(claims.Provider)
	if !ok {
		return nil, apierror.UnknownProv
	}
	pool := h.opts.Credentials[prov.Name]
	if claims.APIKey == "" && pool.Len() == 0 {
		return nil, errNoCredential
	}
	body, apiErr := readBody(w, r, h.opts.MaxBodyBytes)
	if apiErr != nil {
		return nil, apiErr
	}
	path, _ := url.PathUnescape(found.Path)
	route := h.opts.Endpoints.Resolve(prov.Families, r.Method, path)
	info, apiErr := h.checkRequest(r, tok, path, route, body, originOK)
	if apiErr != nil {
		return nil, apiErr
	}
	c := &call{
		h: h, tok: tok, claims: claims, provider: prov, found: found, path: path, route: route,
		filterModels: route.ListsModels && tok.RestrictsModels(),
		stream:       info.Stream || route.StreamInPath, origin: origin,
		format: route.Format, fields: fields, model: info.Model, start: h.now(),
		done: make(chan struct{}),
	}
	fields.BytesIn = int64(len(body))
	if claims.APIKey == "" {
		c.pool = pool
	}
	c.upstreamKey = claims.APIKey
	apiErr = h.admitAndRewrite(r, c, body)
	setRateHeaders(w.Header(), claims, c.grant)
	if apiErr != nil {
		return nil, apiErr
	}
	return c, nil
}

var errAccountScope = apierror.New("path_not_allowed",
	"The token reaches its provider's inference endpoints only; other endpoints must be listed in its paths claim.")

var (
	errOriginNotAllowed = apierror.New("origin_not_allowed", "The token does not allow this origin.")
	// A token minted for a browser page, used from a server, a script or a
	// test: say why, since nothing in the request looks wrong to its author.
	errNoOrigin = apierror.New("origin_not_allowed",
		"The token is restricted to browser origins (its origins claim) and this request sends no Origin header: "+
			"mint tokens for server-side clients without origins, or send the page's Origin.")
)

func errOrigin(origin string) *apierror.Error {
	if origin == "" {
		return errNoOrigin
	}
	return errOriginNotAllowed
}

var errNoCredential = apierror.New("unknown_provider", "The token carries no API key and the relay holds none for its provider.")

// admitAndRewrite prices the call, reserves it in the store, then applies
// model_map, the output cap (token claim, budget, model limit) and usage
// reporting to the body. A body that cannot be rewritten gives the call
// back.
func (h *Handler) admitAndRewrite(r *http.Request, c *call, body []byte) *apierror.Error {
	claims := c.claims
	if mapped, ok := claims.MapModel(c.model); ok {
		// model_map rewrites the model wherever the request names it: the
		// path (Gemini, Azure deployments) or the body.
		if c.route.PathModel != "" {
			c.forwardPath = c.route.WithModel(c.found.Path, mapped)
		} else {
			c.bodyModelMapped = mapped
		}
		c.model = mapped
	}
	p, apiErr := h.price(c, r, body)
	if apiErr != nil {
		return apiErr
	}
	grant, apiErr := h.admit(r.Context(), claims, p.prompt, p.requested)
	c.grant, c.promptEstimate, c.answers = grant, p.prompt, p.answers
	c.free, c.fixed = p.free, p.fixed
	if apiErr != nil {
		return apiErr
	}
	perAnswer, apiErr := grantedPerAnswer(c, p)
	if apiErr != nil {
		h.settle(c, true, 0, 0, sourceRefund)
		return apiErr
	}
	plan := rewrite.Plan{Route: c.route, Model: c.bodyModelMapped, CapParam: p.capParam}
	if c.route.Caps() {
		plan.MaxTokens = perAnswer
	}
	// Without the final usage chunk a streamed call could only be
	// estimated: ask for it whenever the token is metered by tokens, and
	// take it out of the stream again when the client did not ask.
	plan.IncludeUsage = c.stream && claims.TokenBudget > 0 && c.route.IsMetered() && c.route.IncludeUsage
	c.clientUsage = p.facts.IncludeUsage
	c.stripUsage = plan.IncludeUsage && !p.facts.IncludeUsage
	c.capPerAnswer = perAnswer
	out, _, err := rewrite.Apply(body, plan)
	if err != nil {
		if plan.Model != "" || plan.MaxTokens > 0 || plan.IncludeUsage {
			h.settle(c, true, 0, 0, sourceRefund)
			return errNotObject
		}
		out = body
	}
	c.body = out
	c.fields.Model = c.model
	return nil
}

// checkRequest applies the token's restrictions: path, origin, IP, model.
// A model is checked wherever the request names it: in the body and in
// the path (Gemini's models/{model}:…, Azure's deployments/{model}/…,
// which pick the model whatever the body says).
func (h *Handler) checkRequest(r *http.Request, tok *policy.Token, path string, route endpoint.Route, body []byte, originOK bool) (reqbody.Info, *apierror.Error) {
	if !tok.PathAllowed(path) {
		return reqbody.Info{}, apierror.New("path_not_allowed", "The token does not allow this endpoint.")
	}
	if !tok.RestrictsPaths() && route.Kind != endpoint.Inference && route.Kind != endpoint.Utility {
		// Without `paths`, a token reaches its provider's inference
		// endpoints (and model listings): never the account's stored
		// files, conversations, batches or fine-tuning jobs.
		return reqbody.Info{}, errAccountScope
	}
	if !originOK {
		return reqbody.Info{}, errOrigin(r.Header.Get("Origin"))
	}
	if !tok.IPAllowed(h.opts.ClientIP(r)) {
		return reqbody.Info{}, apierror.New("ip_not_allowed", "The token does not allow this client address.")
	}
	info, err := reqbody.Inspect(body, r.Header.Get("Content-Type"))
	switch {
	case errors.Is(err, reqbody.ErrModelNotString):
		return info, apierror.New("bad_request", `The body's "model" must be a string.`)
	case errors.Is(err, reqbody.ErrAmbiguous):
		return info, errAmbiguous
	case err != nil && tok.RestrictsModels():
		return info, apierror.New("bad_request", "The body could not be read to find the model.")
	}
	pathModel := route.PathModel
	if !route.Known() {
		pathModel = reqbody.ModelFromPath(path)
	}
	named := info.Model != "" || pathModel != ""
	if (info.Model != "" && !tok.ModelAllowed(info.Model)) || (pathModel != "" && !tok.ModelAllowed(pathModel)) ||
		(!named && !tok.ModelAllowed("") && r.Method != http.MethodGet) {
		return info, apierror.New("model_not_allowed", "The token does not allow this model.")
	}
	if pathModel != "" {
		info.Model = pathModel // the path decides what is served
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
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength >= 0 {
		// The server enforces the declared length: read exactly that
		// much into a buffer of exactly that size.
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, apierror.New("bad_request", "The request body could not be read.")
		}
		return buf, nil
	}
	buf := bytes.NewBuffer(make([]byte, 0, 64<<10))
	_, err := buf.ReadFrom(body)
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
const ExposedHeaders = "x-request-id, request-id, x-relayapi-request-id, retry-after, retry-after-ms, x-should-retry, " +
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

// Preflight answers a CORS preflight without spending a call. A path
// token is honoured when it decodes: its `origins` replace the server's
// list. A page outside a token's `origins` passes the preflight, so the
// browser sends the request and the page can read the relay's
// origin_not_allowed (nothing is forwarded) instead of a network error.
func (h *Handler) Preflight(w http.ResponseWriter, r *http.Request) {
	var tok *policy.Token
	if found, problem := intake.Extract(r, r.URL.EscapedPath()); problem == intake.OK && found.Location == intake.InPath {
		tok, _ = h.decode(found.Token)
	}
	origin := r.Header.Get("Origin")
	allowed, ok := h.allowedOrigin(origin, tok)
	if !ok {
		allowed, ok = origin, true
	}
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
