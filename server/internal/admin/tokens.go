package admin

import (
	"net/http"

	relayapi "github.com/relayapi/relayapi/sdk/go"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/store"
)

// TokenUsage is the JSON answer about one token (schema TokenUsage in
// docs/openapi.yaml), the type the Go SDK reads it into. Limits of 0
// ("none") and unknown times are null.
type TokenUsage = relayapi.TokenUsage

// NewTokenUsage converts the store's view of a token.
func NewTokenUsage(u store.Usage) TokenUsage {
	return TokenUsage{
		TokenID:          u.TokenID,
		Subject:          u.Subject,
		Calls:            u.Calls,
		MaxCalls:         positive(u.MaxCalls),
		Refunds:          u.Refunds,
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		TokensUsed:       u.TokensUsed(),
		TokenBudget:      positive(u.TokenBudget),
		TokensReserved:   u.Reserved,
		FirstSeen:        known(u.FirstSeen),
		LastSeen:         known(u.LastSeen),
		ExpiresAt:        known(u.ExpiresAt),
		Revoked:          u.Revoked,
		LastError:        nonEmpty(u.LastError),
	}
}

func (c call) tokenUsage(jti string) {
	u, found, err := c.h.store.Usage(c.r.Context(), jti)
	if err != nil {
		c.storeFailed("usage", err)
		return
	}
	if !found {
		c.fail(errUnknownToken)
		return
	}
	u.TokenID = jti
	writeJSON(c.w, http.StatusOK, NewTokenUsage(u))
}

func (c call) listTokens() {
	p, ok := c.page()
	if !ok {
		return
	}
	f := store.TokenFilter{Subject: c.r.URL.Query().Get("sub"), Limit: p.limit, Cursor: p.cursor}
	rows, next, err := c.h.store.Tokens(c.r.Context(), f)
	if err != nil {
		c.pageFailed("tokens", err)
		return
	}
	data := make([]TokenUsage, 0, len(rows))
	for _, u := range rows {
		data = append(data, NewTokenUsage(u))
	}
	writeJSON(c.w, http.StatusOK, Page[TokenUsage]{Data: data, NextCursor: nonEmpty(next)})
}

func (c call) revoke(jti string) {
	if err := c.h.store.Revoke(c.r.Context(), jti, c.h.now()); err != nil {
		c.storeFailed("revoke", err)
		return
	}
	c.h.log.Info("token revoked", "jti", jti)
	writeJSON(c.w, http.StatusOK, Revoked{TokenID: jti, Revoked: true})
}

// Revoked is the answer to a revocation.
type Revoked struct {
	TokenID string `json:"jti"`
	Revoked bool   `json:"revoked"`
}

func (c call) storeFailed(op string, err error) {
	c.h.log.Error("admin "+op+": store failed", "err", err)
	c.fail(apierror.StoreDown)
}
