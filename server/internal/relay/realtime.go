package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/realtime"
	"github.com/relayapi/relayapi/server/internal/reqlog"
)

// Realtime bounds WebSocket sessions (the OpenAI Realtime API).
type Realtime struct {
	// MaxSessions open at once on this relay; more are refused 503.
	MaxSessions int
	// MaxDuration is the longest session (a token's max_session_seconds
	// may shorten it); Idle ends a session silent both ways this long.
	MaxDuration, Idle time.Duration
	// MaxMessageBytes bounds one WebSocket message either way.
	MaxMessageBytes int64
	// WriteTimeout bounds delivering one message (timeouts.write_idle): a
	// side that stops reading ends the session.
	WriteTimeout time.Duration
	// RevocationCheck is how often a live session asks the store whether
	// its token was revoked (on any relay).
	RevocationCheck time.Duration
	// Transport dials the provider's WebSocket (nil: a default one).
	Transport http.RoundTripper
}

// DefaultRealtime is Options.Realtime when unset.
var DefaultRealtime = Realtime{
	MaxSessions: 10000, MaxDuration: 30 * time.Minute, Idle: 5 * time.Minute,
	MaxMessageBytes: 15 << 20, RevocationCheck: 2 * time.Second, WriteTimeout: time.Minute,
}

// realtimePath is the one WebSocket route: OpenAI's Realtime API.
const realtimePath = "/v1/realtime"

// tokenSubprotocol is how a browser, which cannot set headers on a
// WebSocket, sends its key: one entry of Sec-WebSocket-Protocol.
const tokenSubprotocol = "openai-insecure-api-key."

var (
	errRealtimeBeta = apierror.New("endpoint_not_metered",
		"The beta Realtime protocol (OpenAI-Beta: realtime=v1) is not relayed for tokens with max_tokens or token_budget: use the GA protocol.")
	errRealtimeBusy  = apierror.New("relay_busy", "The relay holds as many realtime sessions as it may; try again shortly.").WithRetryAfter(5 * time.Second)
	errRealtimeModel = apierror.New("bad_request", "A realtime session needs ?model= (the call_id form is not relayed).")
	errRealtimePath  = apierror.New("path_not_allowed", "WebSocket sessions are relayed on /v1/realtime only.")
	errRealtimeAPI   = apierror.New("path_not_allowed", "The token's provider does not speak the OpenAI Realtime API.")
)

// IsWebSocket reports a WebSocket upgrade request (RFC 6455 §4.1).
func IsWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header, "Connection", "upgrade")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// serveRealtime relays a WebSocket session: every check of an HTTP call
// before the upgrade (refusals are ordinary JSON answers), then one
// admitted call held for the session's life.
func (h *Handler) serveRealtime(w http.ResponseWriter, r *http.Request, fields *reqlog.Fields) {
	select {
	case h.sessions <- struct{}{}:
		defer func() { <-h.sessions }()
	default:
		fields.Code = errRealtimeBusy.Code
		apierror.Write(w, errRealtimeBusy)
		return
	}
	c, model, apiErr := h.prepareRealtime(r, fields)
	if apiErr != nil {
		fields.Code = apiErr.Code
		apierror.Write(w, apiErr)
		return
	}
	if c.grant.LeaseID != "" {
		go h.renewLease(c)
	}
	usage, meter, end := h.runRealtime(w, r, c, model)
	fields.Code = end
	c.mu.Lock()
	refund := c.refund
	c.mu.Unlock()
	if refund {
		h.settle(c, true, 0, 0, sourceRefund)
		return
	}
	if meter == nil || meter.budget == 0 {
		h.settle(c, false, usage.InputTokens, usage.OutputTokens, sourceProvider)
		return
	}
	// A budget session was charged response by response; what is left is
	// what never reported its usage.
	prompt, completion, unsettled := meter.settlement()
	c.chargedPrompt, c.chargedCompletion = prompt, completion
	source := sourceProvider
	if unsettled > 0 {
		source = sourceReservation
	}
	h.settle(c, false, prompt, completion+unsettled, source)
}

// prepareRealtime runs the checks of DESIGN.md's order for a session and
// admits it.
func (h *Handler) prepareRealtime(r *http.Request, fields *reqlog.Fields) (*call, string, *apierror.Error) {
	found, problem := intake.Extract(r, r.URL.EscapedPath())
	if problem == intake.NoToken {
		found.Token, found.Location = subprotocolToken(r), "subprotocol"
		if found.Token == "" {
			return nil, "", apierror.MissingToken
		}
		found.Token = intake.Screen(found.Token)
	} else if problem == intake.BadPath {
		return nil, "", apierror.New("bad_request", "The path is not allowed (dot segments, empty segments or encoded slashes).")
	}
	fields.Location, fields.Path = string(found.Location), found.Path
	tok, err := h.decode(found.Token)
	if err != nil {
		return nil, "", tokenError(err)
	}
	claims := tok.Claims
	fields.TokenID, fields.Subject, fields.Provider, fields.Meta = claims.ID, claims.Subject, claims.Provider, claims.Meta
	if err := claims.CheckTime(h.now(), h.opts.Leeway); err != nil {
		return nil, "", tokenError(err)
	}
	prov, ok := h.opts.Providers.Lookup(claims.Provider)
	if !ok {
		return nil, "", apierror.UnknownProv
	}
	pool := h.opts.Credentials[prov.Name]
	if claims.APIKey == "" && pool.Len() == 0 {
		return nil, "", errNoCredential
	}
	model, apiErr := h.checkRealtime(r, tok, found, prov.Families)
	if apiErr != nil {
		return nil, "", apiErr
	}
	c := &call{
		h: h, tok: tok, claims: claims, provider: prov, found: found, path: found.Path,
		fields: fields, model: model, start: h.now(), done: make(chan struct{}), upstreamKey: claims.APIKey,
	}
	if mapped, ok := claims.MapModel(model); ok {
		c.model = mapped
	}
	if claims.APIKey == "" {
		c.pool = pool
	}
	fields.Model = c.model
	var prompt, output int64
	if claims.TokenBudget > 0 {
		// The first response's worth, re-sized once the provider's
		// session.created shows the session (rtMeter).
		prompt, output = rtSessionContext, rtMaxOutput
	}
	grant, apiErr := h.admit(r.Context(), claims, prompt, output)
	c.grant = grant
	if apiErr != nil {
		return nil, "", apiErr
	}
	return c, c.model, nil
}

// checkRealtime applies the token's restrictions to the handshake: the
// route, the model in the query, the Origin (browsers send one on every
// WebSocket and no CORS protects it: a page of any site could otherwise
// open a session with a token it obtained), the client IP, the budget.
func (h *Handler) checkRealtime(r *http.Request, tok *policy.Token, found intake.Found, families []endpoint.Family) (string, *apierror.Error) {
	if found.Path != realtimePath {
		return "", errRealtimePath
	}
	if !slices.Contains(families, endpoint.OpenAI) {
		return "", errRealtimeAPI
	}
	if !tok.PathAllowed(realtimePath) {
		return "", apierror.New("path_not_allowed", "The token does not allow this endpoint.")
	}
	// allowedOrigin is CORS's answer: for fetch the browser enforces it on
	// the response, for a WebSocket nothing does, so an Origin it would not
	// echo (outside the token's origins or cors.allowed_origins) is refused.
	origin := r.Header.Get("Origin")
	if allowed, ok := h.allowedOrigin(origin, tok); !ok || (origin != "" && allowed == "") {
		return "", errOrigin(origin)
	}
	if !tok.IPAllowed(h.opts.ClientIP(r)) {
		return "", apierror.New("ip_not_allowed", "The token does not allow this client address.")
	}
	q, _ := url.ParseQuery(found.RawQuery)
	model := q.Get("model")
	if model == "" || q.Has("call_id") {
		return "", errRealtimeModel
	}
	if !tok.ModelAllowed(model) {
		return "", apierror.New("model_not_allowed", "The token does not allow this model.")
	}
	if (tok.Claims.TokenBudget > 0 || tok.Claims.MaxTokens > 0) && headerHasToken(r.Header, "OpenAI-Beta", "realtime=v1") {
		return "", errRealtimeBeta
	}
	return model, nil
}

// subprotocolToken finds the token a browser put in Sec-WebSocket-Protocol.
func subprotocolToken(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), tokenSubprotocol); ok {
				return tok
			}
		}
	}
	return ""
}

// runRealtime dials the provider, then accepts the client and relays
// until the session ends. It returns the usage reported and how the
// session ended (for the logs).
func (h *Handler) runRealtime(w http.ResponseWriter, r *http.Request, c *call, model string) (realtime.Usage, *rtMeter, string) {
	o := h.opts.Realtime
	// Not the request's context, which ends with the hijack: the relay's,
	// so a shutdown closes the session.
	ctx, cancel := context.WithCancel(h.closing)
	defer cancel()
	up, resp, err := h.dialRealtime(ctx, r, c, model)
	if err != nil {
		code := apierror.Unreachable
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			// The provider refused the handshake (key, model, quota):
			// nothing was served, and the client learns the status.
			code = apierror.New("upstream_refused", "The provider refused the realtime session (HTTP "+resp.Status+").")
		}
		h.log.Warn("realtime: provider handshake failed", "jti", c.claims.ID, "provider", c.provider.Name, "err", err.Error())
		c.markRefund(code.Code)
		apierror.Write(w, code)
		return realtime.Usage{}, nil, code.Code
	}
	client, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols: []string{"realtime"},
		// The relay checked the Origin against the token and
		// cors.allowed_origins above; the library's same-host rule does not
		// fit a relay on another origin than the page.
		InsecureSkipVerify: true,
	})
	if err != nil {
		up.Close(websocket.StatusGoingAway, "client handshake failed")
		c.markRefund("client_closed")
		return realtime.Usage{}, nil, "client_closed"
	}
	limits := realtime.Limits{MaxDuration: o.MaxDuration, Idle: o.Idle, MaxMessageBytes: o.MaxMessageBytes, WriteTimeout: o.WriteTimeout}
	if s := c.claims.MaxSessionSeconds; s > 0 && time.Duration(s)*time.Second < limits.MaxDuration {
		limits.MaxDuration = time.Duration(s) * time.Second
	}
	stop := make(chan realtime.End, 1)
	defer h.revocations.watch(c.claims.ID, stop)()
	meter := h.newRTMeter(c, stop)
	if greeting := meter.greeting(); greeting != nil {
		// Before any client event, so every response is capped.
		wctx, cancel := context.WithTimeout(ctx, limits.WriteTimeout)
		err := up.Write(wctx, websocket.MessageText, greeting)
		cancel()
		if err != nil {
			up.Close(websocket.StatusGoingAway, "")
			client.Close(websocket.StatusInternalError, "upstream_unreachable: the provider's connection ended")
			return realtime.Usage{}, meter, "upstream_unreachable"
		}
	}
	sess := &realtime.Session{Client: client, Provider: up, Limits: limits, Stop: stop, Inspect: h.inspectClientEvent(c.tok, meter)}
	if meter.enforcing() {
		sess.Watched, sess.Watch = rtWatched, meter.watch
	}
	h.log.Info("realtime session open", "jti", c.claims.ID, "model", model, "max_duration", limits.MaxDuration.String())
	end := sess.Run(ctx)
	u := sess.Usage()
	h.log.Info("realtime session ended", "jti", c.claims.ID, "by", end.By, "code", int(end.Code), "reason", end.Reason,
		"responses", u.Responses, "input_tokens", u.InputTokens, "output_tokens", u.OutputTokens)
	return u, meter, closeCode(end)
}

// closeCode names a session's end in the logs.
func closeCode(end realtime.End) string {
	switch end.Code {
	case realtime.CodeRevoked:
		return "token_revoked"
	case realtime.CodeBudget:
		return "budget_exceeded"
	case realtime.CodeTimeLimit:
		return "session_time_limit"
	case realtime.CodeIdleTimeout:
		return "idle_timeout"
	case websocket.StatusMessageTooBig:
		return "request_too_large"
	}
	if end.By == "provider" && end.Code != websocket.StatusNormalClosure {
		return "upstream_closed"
	}
	return ""
}

// dialRealtime opens the provider's WebSocket with the real key.
func (h *Handler) dialRealtime(ctx context.Context, r *http.Request, c *call, model string) (*websocket.Conn, *http.Response, error) {
	p := c.provider
	q, _ := url.ParseQuery(c.found.RawQuery)
	q.Set("model", model)
	scheme := "ws"
	if p.Origin.Scheme == "https" {
		scheme = "wss"
	}
	u := url.URL{Scheme: scheme, Host: p.Origin.Host, Path: p.Prefix + realtimePath, RawQuery: q.Encode()}
	hdr := requestHeader(r.Header, p.RequestHeaders)
	for name := range hdr {
		if strings.HasPrefix(name, "Sec-Websocket-") {
			delete(hdr, name)
		}
	}
	if beta := r.Header.Get("OpenAI-Beta"); beta != "" {
		hdr.Set("OpenAI-Beta", beta) // realtime=v1: the beta protocol
	}
	for name, value := range p.DefaultHeaders {
		if hdr.Get(name) == "" {
			hdr.Set(name, value)
		}
	}
	for name, value := range p.PinnedHeaders {
		hdr.Set(name, value)
	}
	p.SetAuth(hdr, c.claims.APIKey)
	var key credentials.Key
	if c.pool != nil {
		var ok bool
		if key, ok = c.pool.Next(time.Now()); ok {
			p.SetAuth(hdr, key.Value())
			c.upstreamKey = key.Value()
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: h.opts.Realtime.Transport}, HTTPHeader: hdr, Subprotocols: []string{"realtime"},
	})
	if err == nil {
		c.connected.Store(true)
		return conn, resp, nil
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	reportKey(ctx, c.pool, key, status, err)
	return conn, resp, err
}

// inspectClientEvent refuses, in the provider's error event shape, a
// session.update that names a model the token does not allow, and any
// event that is not valid JSON (what the relay cannot read, it does not
// forward).
func (h *Handler) inspectClientEvent(tok *policy.Token, meter *rtMeter) func([]byte) ([]byte, []byte) {
	return func(event []byte) (forward, refusal []byte) {
		ev, err := realtime.ReadClientEvent(event)
		if err != nil {
			return nil, realtimeError("", "invalid_json", "The event is not valid JSON.", "")
		}
		if ev.Type == "session.update" && ev.Model != nil && !tok.ModelAllowed(*ev.Model) {
			return nil, realtimeError(ev.EventID, "model_not_allowed", "The token does not allow this model.", "session.model")
		}
		return meter.inspect(ev, event)
	}
}

// realtimeError is an error event as the Realtime API sends it.
func realtimeError(clientEventID, code, message, param string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": "error", "event_id": "evt_relay_" + token.NewID(),
		"error": map[string]any{
			"type": "invalid_request_error", "code": code, "message": message, "param": nullIfEmpty(param), "event_id": nullIfEmpty(clientEventID),
		},
	})
	return b
}

// nullIfEmpty is JSON null for "", as the provider writes absent values.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
