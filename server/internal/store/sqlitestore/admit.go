package sqlitestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Admit decides with store.Decide on the writer's cached state and writes
// the grant back; it returns once the grant's batch is committed.
func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Grant, error) {
	o := &admitOp{a: a}
	err := s.w.do(ctx, o)
	return o.g, err
}

type admitOp struct {
	a store.Admission
	g store.Grant
}

func (o *admitOp) apply(w *writer) error {
	a := &o.a
	o.g = store.Grant{}
	ts, err := w.token(a.TokenID)
	if err != nil {
		return err
	}
	if err := w.expireLeases(a.TokenID, ts, a.Now.UnixMilli()); err != nil {
		return err
	}
	st := store.State{
		Revoked: ts.revoked, Calls: ts.calls, RPMTAT: ts.rpmTAT,
		ActiveLeases: int64(len(ts.leases)), TokensUsed: ts.used, Reserved: ts.reserved,
	}
	subject, limited := subjectWindow(a)
	if limited {
		if st.SubjectCalls, err = w.subjectCalls(subject); err != nil {
			return err
		}
	}
	g, tat := store.Decide(st, *a)
	if g.Decision == store.Admitted {
		if err := w.recordAdmission(a, ts, &g, tat); err != nil {
			return err
		}
		if limited {
			if err := w.countSubject(subject, st.SubjectCalls); err != nil {
				return err
			}
		}
	}
	o.g = g
	return nil
}

// subjectWindow is the subject window an admission counts in, if the
// operator limits subjects and the token has one.
func subjectWindow(a *store.Admission) (subjectKey, bool) {
	if a.SubjectLimit.Calls <= 0 || a.Subject == "" {
		return subjectKey{}, false
	}
	return subjectKey{a.Subject, store.WindowStart(a.Now, a.SubjectLimit.Window).UnixMilli()}, true
}

// expireLeases ends leases a crashed or stalled relay stopped renewing.
// Their reservations are charged as used: the provider may have served
// the call in full, and a budget must never be overshot.
func (w *writer) expireLeases(jti string, ts *tokenState, now int64) error {
	charged, found := ts.lapsed(now)
	if !found {
		return nil
	}
	if _, err := w.stmts.expireLeases.Exec(jti, now); err != nil {
		return fmt.Errorf("delete lapsed leases: %w", err)
	}
	if _, err := w.stmts.chargeExpired.Exec(charged, jti); err != nil {
		return fmt.Errorf("charge lapsed leases: %w", err)
	}
	if ts.exists {
		ts.used += charged
	}
	return nil
}

func (w *writer) recordAdmission(a *store.Admission, ts *tokenState, g *store.Grant, tat int64) error {
	now := a.Now.UnixMilli()
	if _, err := w.stmts.upsertUsage.Exec(a.TokenID, a.ExpiresAt.Unix(), now, a.MaxCalls, a.Subject, tat, a.TokenBudget); err != nil {
		return fmt.Errorf("count call: %w", err)
	}
	if ts.exists {
		ts.calls++
	} else {
		ts.exists, ts.calls = true, 1
	}
	ts.rpmTAT = tat
	if a.Concurrency <= 0 && a.TokenBudget <= 0 {
		return nil
	}
	g.LeaseID = newLeaseID()
	l := lease{expiresAt: a.Now.Add(a.LeaseTTL).UnixMilli(), reserved: g.Reserved}
	if _, err := w.stmts.insertLease.Exec(a.TokenID, g.LeaseID, l.expiresAt, l.reserved); err != nil {
		return fmt.Errorf("insert lease: %w", err)
	}
	ts.addLease(g.LeaseID, l)
	return nil
}

func (w *writer) countSubject(k subjectKey, calls int64) error {
	if _, err := w.stmts.upsertSubject.Exec(k.subject, k.window); err != nil {
		return fmt.Errorf("count subject call: %w", err)
	}
	w.cache.subjects.Add(k, calls+1)
	return nil
}

func newLeaseID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
