package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Settle ends a call: the lease and its reservation go, the tokens used are
// added, and a refunded call is given back.
func (s *Store) Settle(ctx context.Context, st store.Settlement) error {
	return s.w.do(ctx, &settleOp{st})
}

type settleOp struct{ s store.Settlement }

func (o *settleOp) apply(w *writer) error {
	st := &o.s
	ts, err := w.token(st.TokenID)
	if err != nil {
		return err
	}
	if st.LeaseID != "" {
		if _, ok := ts.leases[st.LeaseID]; !ok {
			// The lease expired and its reservation was already charged
			// in full; charging again would count the call twice.
			return nil
		}
		if _, err := w.stmts.deleteLease.Exec(st.TokenID, st.LeaseID); err != nil {
			return fmt.Errorf("delete lease: %w", err)
		}
		ts.removeLease(st.LeaseID)
	}
	if !ts.exists || (st.PromptTokens == 0 && st.CompletionTokens == 0 && !st.Refund && st.LastError == "") {
		return nil // the UPDATE would change no row
	}
	var refund int64
	if st.Refund {
		refund = 1
	}
	if _, err := w.stmts.settleUsage.Exec(st.PromptTokens, st.CompletionTokens, refund, st.LastError, st.TokenID); err != nil {
		return fmt.Errorf("settle usage: %w", err)
	}
	ts.used += st.PromptTokens + st.CompletionTokens
	ts.calls = max(ts.calls-refund, 0)
	return nil
}

// RenewLease extends a lease; a lease that already expired (and was charged)
// is not revived.
func (s *Store) RenewLease(ctx context.Context, jti, leaseID string, ttl time.Duration, now time.Time) error {
	return s.w.do(ctx, &renewOp{jti: jti, leaseID: leaseID, expiresAt: now.Add(ttl).UnixMilli(), now: now.UnixMilli()})
}

type renewOp struct {
	jti, leaseID   string
	expiresAt, now int64
}

func (o *renewOp) apply(w *writer) error {
	ts, err := w.token(o.jti)
	if err != nil {
		return err
	}
	l, ok := ts.leases[o.leaseID]
	if !ok || l.expiresAt <= o.now {
		return nil
	}
	if _, err := w.stmts.renewLease.Exec(o.expiresAt, o.jti, o.leaseID, o.now); err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	// A shorter ttl may move the expiry earlier than the known lower bound.
	l.expiresAt = o.expiresAt
	ts.leases[o.leaseID] = l
	ts.noExpiryBefore = min(ts.noExpiryBefore, l.expiresAt)
	return nil
}

// Revoke records the revocation; it expires with the token if the store
// knows the token, otherwise it is kept.
func (s *Store) Revoke(ctx context.Context, jti string, now time.Time) error {
	return s.w.do(ctx, &revokeOp{jti: jti, now: now.UnixMilli()})
}

type revokeOp struct {
	jti string
	now int64
}

func (o *revokeOp) apply(w *writer) error {
	if _, err := w.stmts.revoke.Exec(o.jti, o.now); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	// An uncached token reads its revocation from the file when loaded.
	if ts, ok := w.cache.tokens.Peek(o.jti); ok {
		ts.revoked = true
	}
	return nil
}
