package relayapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TokenUsage is what the relay knows about one token (docs/openapi.yaml,
// TokenUsage). Pointers are absent values: no limit, never seen. The relay's
// admin API answers with this very type.
type TokenUsage struct {
	TokenID          string     `json:"jti"`
	Subject          string     `json:"sub"`
	Calls            int64      `json:"calls"`
	MaxCalls         *int64     `json:"max_calls"`
	Refunds          int64      `json:"refunds"`
	PromptTokens     int64      `json:"prompt_tokens"`
	CompletionTokens int64      `json:"completion_tokens"`
	TokensUsed       int64      `json:"tokens_used"`
	TokenBudget      *int64     `json:"token_budget"`
	TokensReserved   int64      `json:"tokens_reserved"`
	FirstSeen        *time.Time `json:"first_seen"`
	LastSeen         *time.Time `json:"last_seen"`
	ExpiresAt        *time.Time `json:"expires_at"`
	Revoked          bool       `json:"revoked"`
	LastError        *string    `json:"last_error"`
}

// TokenPage is one page of Tokens; NextCursor is empty on the last.
type TokenPage struct {
	Data       []TokenUsage `json:"data"`
	NextCursor *string      `json:"next_cursor"`
}

// RequestRecord is one line of the relay's request log (docs/openapi.yaml,
// RequestRecord): never bodies, keys or tokens. The relay's admin API
// answers with this very type.
type RequestRecord struct {
	Time             time.Time `json:"time"`
	RequestID        string    `json:"request_id"`
	TokenID          string    `json:"jti"`
	Subject          string    `json:"sub"`
	Provider         string    `json:"provider"`
	Model            string    `json:"model"`
	Path             string    `json:"path"`
	Status           int       `json:"status"`
	LatencyMS        float64   `json:"latency_ms"`
	TTFBMS           float64   `json:"ttfb_ms"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	Estimated        bool      `json:"estimated"`
	UsageSource      *string   `json:"usage_source"` // null when nothing was charged
	BytesIn          int64     `json:"bytes_in"`
	BytesOut         int64     `json:"bytes_out"`
	ErrorCode        *string   `json:"error_code"`
}

// RequestPage is one page of Requests, newest first.
type RequestPage struct {
	Data       []RequestRecord `json:"data"`
	NextCursor *string         `json:"next_cursor"`
}

// Page selects a page: Limit 0 is the relay's default (50), Cursor is the
// previous page's NextCursor.
type Page struct {
	Limit  int
	Cursor string
}

// Usage returns what the relay knows about the token with id jti.
func (c *Client) Usage(ctx context.Context, jti string) (*TokenUsage, error) {
	var u TokenUsage
	if err := c.admin(ctx, http.MethodGet, "/admin/tokens/"+url.PathEscape(jti), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Revoke revokes the token with id jti on every relay sharing the store,
// from its next request on.
func (c *Client) Revoke(ctx context.Context, jti string) error {
	return c.admin(ctx, http.MethodPost, "/admin/tokens/"+url.PathEscape(jti)+"/revoke", nil, nil)
}

// Tokens lists the tokens the relay has seen, of the end user sub when it
// is not empty.
func (c *Client) Tokens(ctx context.Context, sub string, page Page) (*TokenPage, error) {
	q := page.query()
	if sub != "" {
		q.Set("sub", sub)
	}
	var p TokenPage
	if err := c.admin(ctx, http.MethodGet, "/admin/tokens", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Requests reads the request log, of the token jti when it is not empty.
func (c *Client) Requests(ctx context.Context, jti string, page Page) (*RequestPage, error) {
	q := page.query()
	if jti != "" {
		q.Set("jti", jti)
	}
	var p RequestPage
	if err := c.admin(ctx, http.MethodGet, "/admin/requests", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p Page) query() url.Values {
	q := url.Values{}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// maxAdminAnswer bounds what an admin call reads (a page is 1,000 rows).
const maxAdminAnswer = 16 << 20

func (c *Client) admin(ctx context.Context, method, path string, q url.Values, out any) error {
	if c.adminKey == "" {
		return &Error{Code: CodeMissingAdminKey, Message: "the relay's admin key is needed: WithAdminKey or $RELAYAPI_ADMIN_KEY"}
	}
	u := c.relayURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return invalidArgument("url", err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+c.adminKey)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL holds no secret (the key travels in a header), but the
		// error is kept apart from it anyway.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return &Error{Code: CodeNetworkError, Message: fmt.Sprintf("%s %s: %v", method, path, err), cause: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminAnswer))
	if err != nil {
		return &Error{Code: CodeNetworkError, Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), cause: err}
	}
	if resp.StatusCode/100 != 2 {
		return answerError(resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Code: CodeHTTPError, Status: resp.StatusCode, Message: "the relay's answer is not the documented JSON: " + err.Error(), cause: err}
	}
	return nil
}

// answerError turns a relay error answer ({"error": {"code", "message"}})
// into an *Error with the relay's code.
func answerError(status int, body []byte) *Error {
	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &shape) == nil && shape.Error.Code != "" {
		return &Error{Code: shape.Error.Code, Message: shape.Error.Message, Status: status}
	}
	return &Error{Code: CodeHTTPError, Status: status, Message: http.StatusText(status)}
}
