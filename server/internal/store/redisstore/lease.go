package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// RenewLease extends a live lease; a lapsed one is not revived.
func (s *Store) RenewLease(ctx context.Context, jti, leaseID string, ttl time.Duration, now time.Time) error {
	c := newCall(ctx, s.scripts.renew, replyInt, keysOf(jti).leases)
	defer c.release()
	c.str(leaseID)
	c.int(now.UnixMilli())
	c.int(now.Add(ttl).UnixMilli())
	return unavailable("renew lease", s.pipe.do(c))
}

// Settle releases the lease and its reservation, adds the tokens used and
// gives the call back on refund while the token's refunds are below the
// limit; a lapsed lease is not charged twice. One script on the token's
// keys, so the refund limit holds across relays sharing the server.
func (s *Store) Settle(ctx context.Context, st store.Settlement) error {
	k := keysOf(st.TokenID)
	c := newCall(ctx, s.scripts.settle, replyInt, k.usage, k.leases, k.reserved)
	defer c.release()
	c.str(st.LeaseID)
	c.int(st.PromptTokens)
	c.int(st.CompletionTokens)
	c.bool(st.Refund)
	c.str(st.LastError)
	c.int(st.RefundLimit)
	return unavailable("settle", s.pipe.do(c))
}

// Revoke records the revocation. It expires with the token's state when
// the token is known. A token never seen has no known exp, so its
// revocation is kept without expiry until the token is first presented:
// a TTL would let a long-lived revoked token work again once it lapsed.
// Such revocations are operator actions, few and tiny.
func (s *Store) Revoke(ctx context.Context, jti string, now time.Time) error {
	k := keysOf(jti)
	err := s.scripts.revoke.Run(ctx, s.rdb, []string{k.revoked, k.usage}, now.UnixMilli()).Err()
	return unavailable("revoke", err)
}

// Hold charges a call in progress and re-sizes its lease's reservation
// (store.Rehold, which hold.lua mirrors), sweeping lapsed leases first as
// Admit does. One script on the token's keys, so concurrent Admits, Holds
// and Settles of one token stay exact across relays.
func (s *Store) Hold(ctx context.Context, h store.Hold) (store.Held, error) {
	k := keysOf(h.TokenID)
	c := newCall(ctx, s.scripts.hold, replyInts, k.usage, k.leases, k.reserved)
	defer c.release()
	c.str(h.LeaseID)
	c.int(h.Now.UnixMilli())
	c.int(h.TokenBudget)
	c.int(h.PromptTokens)
	c.int(h.CompletionTokens)
	c.int(h.Want)
	if err := s.pipe.do(c); err != nil {
		return store.Held{}, unavailable("hold", err)
	}
	r := c.intsReply()
	if len(r) != 3 {
		return store.Held{}, unavailable("hold", fmt.Errorf("script replied %d values", len(r)))
	}
	return store.Held{Lapsed: r[0] == 1, Reserved: r[1], BudgetRemaining: r[2]}, nil
}
