// Package relay is the heart of RelayAPI: it takes a request carrying a
// token, checks it against everything the token allows, spends one call in
// the usage store, and forwards the request to the provider with the real
// key, streaming the answer back as it arrives.
package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/token"
)

// Options configure a Handler. Every field is required unless noted.
type Options struct {
	Keys      *token.Keyring
	Providers *provider.Registry
	Store     store.Store
	// Transport reaches the providers.
	Transport http.RoundTripper
	// ClientIP resolves the client address (trusted proxies applied).
	ClientIP func(*http.Request) netip.Addr
	// CORSOrigins apply to tokens without an `origins` claim.
	CORSOrigins  []string
	Leeway       time.Duration
	CacheSize    int
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Handler relays token-authenticated requests. Create it with New.
type Handler struct {
	opts  Options
	cache *lru.Cache[[sha256.Size]byte, *policy.Token]
	proxy *httputil.ReverseProxy
	log   *slog.Logger
	now   func() time.Time
}

// New builds a Handler.
func New(opts Options) (*Handler, error) {
	cache, err := lru.New[[sha256.Size]byte, *policy.Token](opts.CacheSize)
	if err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, cache: cache, log: opts.Logger, now: opts.Now}
	if h.now == nil {
		h.now = time.Now
	}
	h.proxy = &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      opts.Transport,
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.upstreamError,
		ErrorLog:       slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	return h, nil
}

// decode opens a token, paying the crypto once per distinct token: the
// compiled claims are cached by the token's SHA-256. Failures are not
// cached, so garbage cannot evict good entries.
func (h *Handler) decode(raw string) (*policy.Token, error) {
	if len(raw) > token.MaxTokenSize {
		return nil, token.ErrInvalid
	}
	sum := sha256.Sum256([]byte(raw))
	if t, ok := h.cache.Get(sum); ok {
		return t, nil
	}
	claims, err := h.opts.Keys.Open(raw)
	if err != nil {
		h.log.Debug("token rejected", "reason", err.Error())
		return nil, err
	}
	t := policy.Compile(claims)
	h.cache.Add(sum, t)
	return t, nil
}

func tokenError(err error) *apierror.Error {
	switch {
	case errors.Is(err, token.ErrExpired):
		return apierror.TokenExpired
	case errors.Is(err, token.ErrNotYetValid):
		return apierror.TokenNotYet
	}
	return apierror.InvalidToken
}

// admit spends one call; errors map to the relay's answers.
func (h *Handler) admit(ctx context.Context, c *token.Claims) *apierror.Error {
	decision, err := h.opts.Store.Admit(ctx, store.Admission{
		TokenID: c.ID, MaxCalls: c.MaxCalls, ExpiresAt: time.Unix(c.ExpiresAt, 0), Now: h.now(),
	})
	if err != nil {
		h.log.Error("usage store failed", "jti", c.ID, "err", err)
		return apierror.StoreDown
	}
	switch decision {
	case store.Revoked:
		return apierror.TokenRevoked
	case store.CallLimitReached:
		return apierror.CallLimit
	}
	return nil
}

// refund returns a call whose upstream attempt failed before any byte
// reached the client. It runs detached from the request's context, which
// may already be cancelled.
func (h *Handler) refund(tokenID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.opts.Store.Refund(ctx, tokenID); err != nil {
		h.log.Error("refund failed", "jti", tokenID, "err", err)
	}
}
