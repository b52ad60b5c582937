package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/endpoint"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/policy"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/usage"
)

// call is one admitted request on its way through the proxy: what the
// proxy callbacks need, and what settlement records at the end.
type call struct {
	h        *Handler
	tok      *policy.Token
	claims   *token.Claims
	provider *provider.Provider
	pool     *credentials.Pool // relay-held keys, nil when the token has one
	// upstreamKey is the real key of the attempt that answered: what an
	// error answer must never carry back (see scrubKey).
	upstreamKey string
	found       intake.Found
	path        string         // found.Path unescaped
	route       endpoint.Route // what the endpoint catalog says of the request
	format      usage.Format
	stream      bool
	origin      string // allowed origin to echo, "" for none
	model       string // the model served: the path's, or the body's after model_map
	body        []byte
	fields      *reqlog.Fields
	start       time.Time

	// bodyModelMapped is what model_map puts in the body's "model";
	// forwardPath, when set, is the escaped path with model_map applied to
	// the model it names.
	bodyModelMapped string
	forwardPath     string
	// filterModels: the answer is a model listing a token with `models`
	// sees filtered.
	filterModels bool

	grant store.Grant
	// chargedPrompt/Completion were charged before the settlement (a
	// realtime session, response by response): the settlement adds the
	// rest.
	chargedPrompt, chargedCompletion int64
	promptEstimate                   int64 // reserved for the prompt
	answers                          int64 // choices the call asked for
	capPerAnswer                     int64 // the output cap forwarded, 0 for none
	free                             bool  // a free endpoint: charged nothing
	fixed                            int64 // an unmetered endpoint at the operator's fixed price
	// clientUsage: the client asked for stream_options.include_usage;
	// stripUsage: the relay asked for it, and takes it back out.
	clientUsage, stripUsage bool

	done chan struct{} // closed at settlement: stops lease renewal
	// cancelUp cancels the upstream request (always set by rewrite); client
	// is the client's own request context.
	cancelUp context.CancelFunc
	client   context.Context
	// connected is set once the current upstream attempt has a connection
	// (TCP and TLS done): a timeout after it is the provider's slowness,
	// before it the provider is unreachable.
	connected atomic.Bool
	// In drain mode, stopWatch stops waiting for the client to leave and
	// drainTimer bounds the drain once it has.
	stopWatch  func() bool
	drainTimer *time.Timer

	mu         sync.Mutex
	refund     bool
	settled    bool
	meter      *meteredBody
	lastError  string
	upstreamOK bool // the provider answered 2xx
	streaming  bool // an event stream is being relayed (active-streams gauge)
}

// markRefund notes that the upstream attempt failed before any byte
// reached the client: the call is given back at settlement.
func (c *call) markRefund(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refund = true
	c.lastError = code
}

// clientGone reports whether the client has left (or its request ended).
func (c *call) clientGone() bool {
	return c.client != nil && c.client.Err() != nil
}

// startDrain bounds a drain: the upstream is cancelled DrainTimeout after
// the client left. It runs when the client's context ends (and again, as a
// no-op, when the proxy closes the body), so a stalled stream in drain
// mode cannot outlive its client by more than the drain timeout.
func (c *call) startDrain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drainTimer == nil && !c.settled {
		c.drainTimer = time.AfterFunc(c.h.opts.DrainTimeout, c.cancelUp)
	}
}

// renewLease keeps a long call's concurrency/budget lease alive; if the
// relay dies, renewals stop and the store lets the lease lapse.
func (h *Handler) renewLease(c *call) {
	ticker := time.NewTicker(h.opts.LeaseTTL / 3)
	defer ticker.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), h.opts.LeaseTTL/3)
			err := h.opts.Store.RenewLease(ctx, c.claims.ID, c.grant.LeaseID, h.opts.LeaseTTL, h.now())
			cancel()
			if err != nil {
				h.log.Warn("lease renewal failed", "jti", c.claims.ID, "err", err)
			}
		}
	}
}

// Usage sources, as the request log records them.
const (
	sourceProvider    = "provider"    // the provider's reported usage
	sourceEstimate    = "estimate"    // the stream broke off or the client left: estimated
	sourceReservation = "reservation" // a 2xx whose usage could not be read: the whole reservation
	sourceCut         = "cut"         // a stream stopped past its cap: clamp or estimate, whichever is more
	sourceFixed       = "fixed"       // an unmetered endpoint at the operator's price
	sourceFree        = "free"        // an endpoint the provider does not bill
	sourceRefund      = ""            // nothing charged, the call given back
)

// finish settles the call once the proxy is done with it.
func (h *Handler) finish(c *call) {
	if c.stopWatch != nil {
		c.stopWatch()
	}
	if c.cancelUp != nil {
		c.cancelUp()
	}
	if c.streaming {
		h.opts.Metrics.StreamEnded()
	}
	c.mu.Lock()
	refund, m := c.refund, c.meter
	if c.drainTimer != nil {
		c.drainTimer.Stop()
	}
	c.mu.Unlock()
	if m != nil {
		m.stopIdle()
		defer m.release()
	}
	switch {
	case refund || m == nil:
		h.settle(c, refund, 0, 0, sourceRefund)
	case !c.upstreamOK:
		// Providers do not bill their 4xx answers.
		h.settle(c, false, 0, 0, sourceRefund)
	case c.free:
		h.settle(c, false, 0, 0, sourceFree)
	case c.fixed > 0:
		h.settle(c, false, c.fixed, 0, sourceFixed)
	default:
		prompt, completion, source := h.charge(c, m)
		h.settle(c, false, prompt, completion, source)
	}
}

// charge is what a 2xx answer costs: the provider's reported usage when
// the relay could read it; an estimate when the answer broke off (the
// client left, the provider failed or fell silent); after a cut, the
// clamp or the estimate, whichever is more; and otherwise — an answer
// complete but without readable usage — the whole reservation: what the
// relay cannot meter it does not give away.
func (h *Handler) charge(c *call, m *meteredBody) (prompt, completion int64, source string) {
	u, cut, broken := m.outcome()
	switch {
	case cut:
		cu := m.cutUsage()
		return cu.Prompt, cu.Completion, sourceCut
	case u.Reported:
		return u.Prompt, u.Completion, sourceProvider
	case broken || c.claims.TokenBudget == 0:
		prompt = u.Prompt
		if prompt == 0 {
			prompt = c.promptEstimate
		}
		return prompt, u.Completion, sourceEstimate
	}
	h.log.Warn("no usage in a 2xx answer: charging the whole reservation",
		"jti", c.claims.ID, "provider", c.provider.Name, "endpoint", c.route.Name)
	return c.promptEstimate, max(c.grant.Reserved-c.promptEstimate, 0), sourceReservation
}

// settle records the end of the call in the store (always, exactly once),
// the request log and the metrics.
func (h *Handler) settle(c *call, refund bool, prompt, completion int64, source string) {
	c.mu.Lock()
	if c.settled {
		c.mu.Unlock()
		return
	}
	c.settled = true
	lastError := c.lastError
	c.mu.Unlock()
	close(c.done)
	if lastError == "" {
		lastError = c.fields.Code
	}
	// Not the client's context: the call is settled even when the client
	// left. Every store bounds its own operations (store.timeout).
	start := time.Now()
	err := h.opts.Store.Settle(context.Background(), store.Settlement{
		TokenID: c.claims.ID, LeaseID: c.grant.LeaseID, Reserved: c.grant.Reserved,
		PromptTokens: prompt - c.chargedPrompt, CompletionTokens: completion - c.chargedCompletion, Refund: refund, RefundLimit: c.claims.MaxCalls,
		LastError: lastError, Now: h.now(),
	})
	h.opts.Metrics.StoreLatency("settle", time.Since(start), err)
	if err != nil {
		h.log.Error("settlement failed", "jti", c.claims.ID, "err", err)
	}
	estimated := source == sourceEstimate || source == sourceReservation || source == sourceCut
	if prompt+completion == 0 && source == sourceEstimate {
		estimated = false
	}
	c.fields.PromptTokens, c.fields.CompletionTokens, c.fields.Estimated = prompt, completion, estimated
	c.fields.UsageSource = source
	h.opts.Metrics.Tokens(c.provider.Name, c.model, prompt, completion, estimated)
}
