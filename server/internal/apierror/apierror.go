// Package apierror is the relay's own error: a code and status from
// DESIGN.md §5, written in the OpenAI error shape so vendor SDKs surface it.
package apierror

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error is a relay-made error. Message is shown to the client: it must
// never contain a token, key or claim value.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // > 0 adds a Retry-After header
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New returns an error with the status DESIGN.md §5 gives code.
func New(code, message string) *Error {
	return &Error{Status: StatusOf(code), Code: code, Message: message}
}

// WithRetryAfter returns a copy with a Retry-After hint.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

var statuses = map[string]int{
	"missing_token": 401, "invalid_token": 401, "token_expired": 401,
	"token_not_yet_valid": 401, "token_revoked": 401,
	"model_not_allowed": 403, "path_not_allowed": 403, "origin_not_allowed": 403, "ip_not_allowed": 403,
	"endpoint_not_metered": 403, "parameter_not_metered": 403, "ambiguous_request": 400,
	"call_limit_exceeded": 429, "budget_exceeded": 429, "rate_limited": 429, "concurrency_limited": 429,
	"request_too_large": 413,
	"unknown_provider":  400, "bad_request": 400,
	"upstream_unreachable": 502, "upstream_timeout": 504,
	"store_unavailable": 503, "relay_busy": 503, "upstream_refused": 502, "unauthorized": 401, "not_found": 404, "internal_error": 500,
}

// StatusOf is the HTTP status of a code (500 for an unknown code).
func StatusOf(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Common errors with their fixed messages.
var (
	MissingToken   = New("missing_token", "No RelayAPI token: put it in the path (/t/{token}/...), the Authorization header, or ?token=.")
	InvalidToken   = New("invalid_token", "The token is invalid.")
	TokenExpired   = New("token_expired", "The token has expired.")
	TokenNotYet    = New("token_not_yet_valid", "The token is not valid yet.")
	TokenRevoked   = New("token_revoked", "The token has been revoked.")
	CallLimit      = New("call_limit_exceeded", "The token has used all of its calls.")
	TooLarge       = New("request_too_large", "The request body is too large.")
	UnknownProv    = New("unknown_provider", "The token's provider is not configured on this relay.")
	Unreachable    = New("upstream_unreachable", "The provider could not be reached.")
	UpstreamTimout = New("upstream_timeout", "The provider did not answer in time.")
	StoreDown      = New("store_unavailable", "The usage store is unavailable; the request was not forwarded.").WithRetryAfter(time.Second)
	NotFound       = New("not_found", "No such route.")
	Internal       = New("internal_error", "Internal error.")
)

type body struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    string `json:"code"`
	} `json:"error"`
}

// permanent are refusals that the same request can never overcome: a
// client retrying them only wastes its user's time (the openai and
// anthropic SDKs retry 4xx like 408/409/429 and any 5xx twice by default,
// the Vercel AI SDK three times). A refusal that comes with a Retry-After
// (a rate, a concurrency slot, a user's window, budget held by calls in
// flight) is temporary whatever its code.
var permanent = map[string]bool{
	"missing_token": true, "invalid_token": true, "token_expired": true, "token_not_yet_valid": true,
	"token_revoked": true, "model_not_allowed": true, "path_not_allowed": true, "origin_not_allowed": true,
	"ip_not_allowed": true, "endpoint_not_metered": true, "parameter_not_metered": true,
	"call_limit_exceeded": true, "budget_exceeded": true, "request_too_large": true,
	"unknown_provider": true, "bad_request": true, "ambiguous_request": true,
	"unauthorized": true, "not_found": true,
}

// Write sends e as the JSON error response, with the retry signals the
// vendor SDKs read: x-should-retry (openai, anthropic) false on a
// permanent refusal; Retry-After and retry-after-ms on a temporary one.
func Write(w http.ResponseWriter, e *Error) {
	var b body
	b.Error.Message, b.Error.Type, b.Error.Code = e.Message, "relayapi_error", e.Code
	data, _ := json.Marshal(b)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	switch {
	case e.RetryAfter > 0:
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.Itoa(secs))
		h.Set("Retry-After-Ms", strconv.FormatInt(e.RetryAfter.Milliseconds(), 10))
		h.Set("X-Should-Retry", "true")
	case permanent[e.Code]:
		h.Set("X-Should-Retry", "false")
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
}
