package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Settle ends a call: the lease and its reservation go, the tokens used are
// added, and a refunded call is given back while the token's refunds are
// below the settlement's limit (store.RefundAllowed). The single writer
// applies it whole, so the limit holds under any concurrency.
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
		w.dropLease(ts, st.LeaseID)
	}
	refund := store.RefundAllowed(*st, ts.calls, ts.refunds)
	if !ts.exists || (st.PromptTokens == 0 && st.CompletionTokens == 0 && !refund && st.LastError == "") {
		return nil // the row does not change
	}
	if refund {
		ts.calls--
		ts.refunds++
	}
	ts.promptTokens += st.PromptTokens
	ts.completionTokens += st.CompletionTokens
	if st.LastError != "" {
		ts.lastError = st.LastError
	}
	w.touch(ts)
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
	w.renewLease(ts, o.leaseID, o.expiresAt)
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
	// The revocation copies the token's expiry from its row: write the
	// pending rows first.
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.stmts.revoke.exec(o.jti, o.now, o.jti); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	// An uncached token reads its revocation from the file when loaded.
	if ts, ok := w.cache.tokens.Peek(o.jti); ok {
		ts.revoked = true
	}
	return nil
}

// Hold charges a live call and re-sizes its lease's reservation
// (store.Rehold), in the writer like every other change of a token.
func (s *Store) Hold(ctx context.Context, h store.Hold) (store.Held, error) {
	o := &holdOp{h: h}
	if err := s.w.do(ctx, o); err != nil {
		return store.Held{}, err
	}
	return o.held, nil
}

type holdOp struct {
	h    store.Hold
	held store.Held
}

func (o *holdOp) apply(w *writer) error {
	h := &o.h
	o.held = store.Held{}
	ts, err := w.token(h.TokenID)
	if err != nil {
		return err
	}
	w.expireLeases(ts, h.Now.UnixMilli())
	l, ok := ts.leases[h.LeaseID]
	if !ok || !ts.exists {
		// Lapsed (and charged its reservation) or already settled.
		o.held.Lapsed = true
		return nil
	}
	if h.PromptTokens != 0 || h.CompletionTokens != 0 {
		ts.promptTokens += h.PromptTokens
		ts.completionTokens += h.CompletionTokens
		w.touch(ts)
	}
	o.held = store.Rehold(*h, ts.used(), ts.reserved-l.reserved)
	if o.held.Reserved != l.reserved {
		w.updateLease(ts, h.LeaseID, l.expiresAt, o.held.Reserved)
	}
	return nil
}
