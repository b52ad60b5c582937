package relayapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// DefaultExpiresIn is a token's life when TokenRequest names none.
const DefaultExpiresIn = time.Hour

// TokenRequest lists what a token allows (docs/token-format.md §4). Zero
// values mean "not in the token": no limit of that kind.
type TokenRequest struct {
	// Provider the token reaches, as configured on the relay (default
	// "openai").
	Provider string
	// APIKey is the real provider key; empty when the relay holds one.
	APIKey string
	// ExpiresIn is the token's life (default DefaultExpiresIn); ExpiresAt,
	// when set, wins.
	ExpiresIn time.Duration
	ExpiresAt time.Time
	// NotBefore delays the token's first use.
	NotBefore time.Time
	// Subject is the end user the token is for (`sub`): logs, per-user
	// limits, Tokens(sub).
	Subject string
	// ID is the token's `jti` (default: 128 random bits).
	ID string

	MaxCalls    int64
	Models      []string // model patterns, `*` wildcard
	Paths       []string // endpoint patterns beyond inference
	RPM         int64
	Concurrency int64
	MaxTokens   int64 // per-request output cap
	TokenBudget int64 // total prompt + completion tokens
	IPs         []string
	Origins     []string          // browser origins; such a token needs an Origin header
	ModelMap    map[string]string // requested model → model served; key "*" maps every other
	Meta        map[string]string // copied to the relay's request log
	// MaxSessionSeconds bounds a realtime (WebSocket) session, 1 … 86400;
	// the relay's own maximum applies when it is 0, the smaller one wins.
	MaxSessionSeconds int64
	// Extensions are `x_…` claims, carried and ignored by the relay.
	Extensions map[string]any
}

// Token is a minted token.
type Token struct {
	// Value is the compact JWE the frontend presents.
	Value     string
	ID        string
	ExpiresAt time.Time
	Claims    token.Claims
}

// String returns the token itself.
func (t *Token) String() string { return t.Value }

// CreateToken mints a token. Claims are checked as the relay checks them,
// so a token the relay would refuse is never made: a bad field is an *Error
// with Code CodeInvalidArgument.
func (c *Client) CreateToken(req TokenRequest) (*Token, error) {
	claims, err := c.claims(req)
	if err != nil {
		return nil, err
	}
	return c.mint(claims)
}

func (c *Client) mint(claims *token.Claims) (*Token, error) {
	if err := claims.Validate(); err != nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: err.Error(), cause: err}
	}
	value, err := token.Encode(claims, c.key)
	switch {
	case errors.Is(err, token.ErrTooLarge):
		return nil, &Error{Code: CodeTokenTooLarge, Message: err.Error(), cause: err}
	case err != nil:
		return nil, fmt.Errorf("relayapi: mint: %w", err)
	}
	return &Token{Value: value, ID: claims.ID, ExpiresAt: time.Unix(claims.ExpiresAt, 0), Claims: *claims}, nil
}

func (c *Client) claims(req TokenRequest) (*token.Claims, error) {
	now := c.now()
	claims := &token.Claims{
		ID: req.ID, IssuedAt: now.Unix(), Subject: req.Subject,
		Provider: req.Provider, APIKey: req.APIKey,
		MaxCalls: req.MaxCalls, Models: req.Models, Paths: req.Paths, RPM: req.RPM,
		Concurrency: req.Concurrency, MaxTokens: req.MaxTokens, TokenBudget: req.TokenBudget,
		IPs: req.IPs, Origins: req.Origins, ModelMap: req.ModelMap, Meta: req.Meta,
		MaxSessionSeconds: req.MaxSessionSeconds,
	}
	if claims.Provider == "" {
		claims.Provider = "openai"
	}
	if claims.ID == "" {
		claims.ID = token.NewID()
	}
	switch {
	case !req.ExpiresAt.IsZero():
		claims.ExpiresAt = req.ExpiresAt.Unix()
	case req.ExpiresIn < 0:
		return nil, invalidArgument("ExpiresIn", "must be positive")
	case req.ExpiresIn == 0:
		claims.ExpiresAt = now.Add(DefaultExpiresIn).Unix()
	default:
		claims.ExpiresAt = now.Add(req.ExpiresIn).Unix()
	}
	if !req.NotBefore.IsZero() {
		claims.NotBefore = req.NotBefore.Unix()
	}
	if len(req.Extensions) > 0 {
		claims.Extensions = map[string]json.RawMessage{}
		for name, v := range req.Extensions {
			if !strings.HasPrefix(name, "x_") {
				return nil, invalidArgument("Extensions", fmt.Sprintf("%q: extension claims start with x_", name))
			}
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, invalidArgument("Extensions", fmt.Sprintf("%q: %v", name, err))
			}
			claims.Extensions[name] = raw
		}
	}
	return claims, nil
}

// GenerateURL mints a token and returns the base URL of flavor with it, in
// one step.
func (c *Client) GenerateURL(req TokenRequest, flavor Flavor) (string, error) {
	tok, err := c.CreateToken(req)
	if err != nil {
		return "", err
	}
	return c.BaseURL(tok.Value, flavor)
}

// Inspect decodes a token minted with this client's aes key (an ecc
// backend key can sign but not decrypt) and checks its time claims with the
// relay's default leeway.
func (c *Client) Inspect(tok string) (*token.Claims, error) {
	if c.key.Method() != token.MethodAES {
		return nil, &Error{Code: CodeInvalidConfig, Message: "an ecc backend key cannot decrypt tokens; inspect them with the relay's key file"}
	}
	keys := token.NewKeyring()
	if err := c.file.AddTo(keys); err != nil {
		return nil, configError(err)
	}
	claims, err := token.Decode(tok, keys, c.now())
	if err != nil {
		return nil, &Error{Code: token.Code(err), Message: "the token cannot be used: " + token.Code(err), cause: err}
	}
	return claims, nil
}
