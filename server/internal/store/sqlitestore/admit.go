package sqlitestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Admit decides with store.Decide on the writer's cached state and writes
// the grant back; it returns once the grant's batch is committed.
func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Grant, error) {
	o := &admitOp{a: a}
	if err := s.w.do(ctx, o); err != nil {
		// The op may have decided before its batch failed.
		return store.Grant{}, err
	}
	return o.g, nil
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
	w.expireLeases(ts, a.Now.UnixMilli())
	st := store.State{
		Revoked: ts.revoked, Calls: ts.calls, RPMTAT: ts.rpmTAT,
		ActiveLeases: int64(len(ts.leases)), TokensUsed: ts.used(), Reserved: ts.reserved,
	}
	subject, limited := subjectWindow(a)
	if limited {
		if st.SubjectCalls, err = w.subjectCalls(subject); err != nil {
			return err
		}
	}
	g, tat := store.Decide(st, *a)
	if g.Decision == store.Admitted {
		w.recordAdmission(a, ts, &g, tat)
		if limited {
			w.setSubject(subject, st.SubjectCalls, st.SubjectCalls+1)
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
func (w *writer) expireLeases(ts *tokenState, now int64) {
	charged, found := w.lapse(ts, now)
	if found && ts.exists {
		ts.completionTokens += charged
		ts.lastError = "lease_expired"
		w.touch(ts)
	}
}

// recordAdmission counts the call: the row is inserted on the token's
// first admission, then only calls, last_seen, rpm_tat and the limits the
// token carries change.
func (w *writer) recordAdmission(a *store.Admission, ts *tokenState, g *store.Grant, tat int64) {
	now := a.Now.UnixMilli()
	if ts.exists {
		ts.calls++
		ts.lastSeen = now
	} else {
		ts.usageRow = usageRow{calls: 1, expiresAt: a.ExpiresAt.Unix(), firstSeen: now, lastSeen: now, subject: a.Subject}
		ts.exists = true
	}
	ts.rpmTAT, ts.maxCalls, ts.tokenBudget = tat, a.MaxCalls, a.TokenBudget
	w.touch(ts)
	if a.Concurrency <= 0 && a.TokenBudget <= 0 {
		return
	}
	g.LeaseID = newLeaseID()
	w.newLease(ts, g.LeaseID, a.Now.Add(a.LeaseTTL).UnixMilli(), g.Reserved)
}

func newLeaseID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
