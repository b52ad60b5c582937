package relay

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/store"
)

var (
	errRateLimited = apierror.New("rate_limited", "The token's requests-per-minute limit is reached.")
	errConcurrency = apierror.New("concurrency_limited", "The token has too many requests in flight.")
	errBudget      = apierror.New("budget_exceeded", "The token's token budget is used up.")
	errBudgetHeld  = apierror.New("budget_exceeded", "The rest of the token's budget is held by its calls in flight.")
	errSubject     = apierror.New("call_limit_exceeded", "This user has used all of their calls for now.")
	// errClientClosed is never seen (the client is gone); it names the
	// outcome in the access and request logs, with nginx's status 499.
	errClientClosed = &apierror.Error{Status: 499, Code: "client_closed", Message: "The client closed the request."}
)

// admit asks the store to start the call, with what the body told us about
// its size, and maps a refusal to the relay's answer.
func (h *Handler) admit(ctx context.Context, c *token.Claims, promptEstimate, requestedMax int64) (store.Grant, *apierror.Error) {
	start := time.Now()
	a := store.Admission{
		TokenID: c.ID, Subject: c.Subject,
		MaxCalls: c.MaxCalls, RPM: c.RPM, Concurrency: c.Concurrency, TokenBudget: c.TokenBudget,
		PromptEstimate: promptEstimate, RequestedMaxTokens: requestedMax,
		ExpiresAt: time.Unix(c.ExpiresAt, 0), Now: h.now(), LeaseTTL: h.opts.LeaseTTL,
	}
	if c.Subject != "" {
		a.SubjectLimit = h.opts.SubjectLimit
	}
	g, err := h.opts.Store.Admit(ctx, a)
	h.opts.Metrics.StoreLatency("admit", time.Since(start), err)
	if err != nil && ctx.Err() != nil {
		// The client left while its call waited for the store: not an
		// outage, and no one to answer.
		h.log.Debug("client left during admission", "jti", c.ID)
		return g, errClientClosed
	}
	if err != nil {
		if h.opts.FailOpen {
			h.log.Warn("usage store unreachable: forwarding unmetered (store.on_unavailable=fail_open)", "jti", c.ID, "err", err)
			return store.Grant{Decision: store.Admitted}, nil
		}
		h.log.Error("usage store unreachable: call refused", "jti", c.ID, "err", err)
		return g, apierror.StoreDown
	}
	switch g.Decision {
	case store.Admitted:
		return g, nil
	case store.Revoked:
		return g, apierror.TokenRevoked
	case store.CallLimitReached:
		return g, apierror.CallLimit
	case store.RateLimited:
		return g, errRateLimited.WithRetryAfter(g.RetryAfter)
	case store.ConcurrencyLimited:
		return g, errConcurrency.WithRetryAfter(g.RetryAfter)
	case store.BudgetExceeded:
		if g.BudgetHeld > 0 {
			// Calls in flight hold the rest: worth a retry once they end.
			return g, errBudgetHeld.WithRetryAfter(time.Second)
		}
		return g, errBudget
	case store.SubjectLimitReached:
		return g, errSubject.WithRetryAfter(g.RetryAfter)
	}
	return g, apierror.Internal
}

// setRateHeaders writes the x-ratelimit-* headers OpenAI SDKs read, for
// the limits the token carries. They replace the provider's own: what the
// client must respect is the token's limit. The tokens left are what the
// budget holds for other calls before this call's own reservation: a
// client reading them learns what it may still spend, not what this
// call's clamp happens to hold back until it settles.
func setRateHeaders(hdr http.Header, c *token.Claims, g store.Grant) {
	if c.RPM > 0 {
		hdr.Set("X-Ratelimit-Limit-Requests", strconv.FormatInt(c.RPM, 10))
		hdr.Set("X-Ratelimit-Remaining-Requests", strconv.FormatInt(g.RPMRemaining, 10))
		hdr.Set("X-Ratelimit-Reset-Requests", formatReset(g.RPMReset))
	}
	if c.TokenBudget > 0 {
		hdr.Set("X-Ratelimit-Limit-Tokens", strconv.FormatInt(c.TokenBudget, 10))
		hdr.Set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(max(g.BudgetRemaining+g.Reserved, 0), 10))
	}
}

// formatReset writes a duration the way OpenAI does ("1s", "6m0s", "120ms").
func formatReset(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.Round(time.Second).String()
}
