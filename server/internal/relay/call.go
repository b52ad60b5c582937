package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/intake"
	"github.com/relayapi/relayapi/server/internal/provider"
	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/usage"
	"github.com/relayapi/relayapi/server/token"
)

// call is one admitted request on its way through the proxy: what the
// proxy callbacks need, and what settlement records at the end.
type call struct {
	h        *Handler
	claims   *token.Claims
	provider *provider.Provider
	pool     *credentials.Pool // relay-held keys, nil when the token has one
	found    intake.Found
	format   usage.Format
	stream   bool
	origin   string // allowed origin to echo, "" for none
	model    string // as forwarded (after model_map)
	body     []byte
	fields   *reqlog.Fields
	start    time.Time

	grant          store.Grant
	promptEstimate int64

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
	}
	if refund || m == nil {
		h.settle(c, refund, 0, 0, false)
		return
	}
	if !c.upstreamOK {
		// Providers do not bill their 4xx answers.
		h.settle(c, false, 0, 0, false)
		return
	}
	u := m.usage()
	prompt, completion, estimated := u.Prompt, u.Completion, false
	if !u.Reported {
		// No usage from the provider (the client left mid-stream, or the
		// endpoint reports none): charge the prompt estimate and what was
		// streamed, and say so in the request log.
		if prompt == 0 {
			prompt = c.promptEstimate
		}
		estimated = prompt+completion > 0
	}
	h.settle(c, false, prompt, completion, estimated)
}

// settle records the end of the call in the store (always, exactly once),
// the request log and the metrics.
func (h *Handler) settle(c *call, refund bool, prompt, completion int64, estimated bool) {
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
		PromptTokens: prompt, CompletionTokens: completion, Refund: refund, LastError: lastError, Now: h.now(),
	})
	h.opts.Metrics.StoreLatency("settle", time.Since(start), err)
	if err != nil {
		h.log.Error("settlement failed", "jti", c.claims.ID, "err", err)
	}
	c.fields.PromptTokens, c.fields.CompletionTokens, c.fields.Estimated = prompt, completion, estimated
	h.opts.Metrics.Tokens(c.provider.Name, c.model, prompt, completion, estimated)
}
