package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Admit loads the token's state, decides with store.Decide and writes the
// grant back, in one immediate transaction.
func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Grant, error) {
	var g store.Grant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := a.Now.UnixMilli()
		if err := expireLeases(ctx, tx, a.TokenID, now); err != nil {
			return err
		}
		st, err := loadState(ctx, tx, a)
		if err != nil {
			return err
		}
		var tat int64
		g, tat = store.Decide(st, a)
		if g.Decision != store.Admitted {
			return nil
		}
		return recordAdmission(ctx, tx, a, &g, tat)
	})
	return g, err
}

// expireLeases ends leases a crashed or stalled relay stopped renewing.
// Their reservations are charged as used: the provider may have served
// the call in full, and a budget must never be overshot.
func expireLeases(ctx context.Context, tx *sql.Tx, jti string, now int64) error {
	var charged sql.NullInt64
	if err := tx.QueryRowContext(ctx,
		`SELECT SUM(reserved) FROM leases WHERE jti = ? AND expires_at <= ?`, jti, now).Scan(&charged); err != nil {
		return err
	}
	if !charged.Valid {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE jti = ? AND expires_at <= ?`, jti, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx,
		`UPDATE token_usage SET completion_tokens = completion_tokens + ?, last_error = 'lease_expired' WHERE jti = ?`,
		charged.Int64, jti)
	return err
}

func loadState(ctx context.Context, tx *sql.Tx, a store.Admission) (store.State, error) {
	var st store.State
	err := tx.QueryRowContext(ctx,
		`SELECT calls, rpm_tat, prompt_tokens + completion_tokens FROM token_usage WHERE jti = ?`, a.TokenID).
		Scan(&st.Calls, &st.RPMTAT, &st.TokensUsed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, err
	}
	var revoked int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM revocations WHERE jti = ?`, a.TokenID).Scan(&revoked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, err
	}
	st.Revoked = revoked == 1
	if a.Concurrency > 0 || a.TokenBudget > 0 {
		if err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*), COALESCE(SUM(reserved), 0) FROM leases WHERE jti = ?`, a.TokenID).
			Scan(&st.ActiveLeases, &st.Reserved); err != nil {
			return st, err
		}
	}
	if a.SubjectLimit.Calls > 0 && a.Subject != "" {
		window := store.WindowStart(a.Now, a.SubjectLimit.Window).UnixMilli()
		err := tx.QueryRowContext(ctx,
			`SELECT calls FROM subject_usage WHERE subject = ? AND window_start = ?`, a.Subject, window).Scan(&st.SubjectCalls)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return st, err
		}
	}
	return st, nil
}

func recordAdmission(ctx context.Context, tx *sql.Tx, a store.Admission, g *store.Grant, tat int64) error {
	now := a.Now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `
INSERT INTO token_usage (jti, calls, expires_at, first_seen, last_seen, max_calls, subject, rpm_tat, token_budget)
VALUES (?1, 1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (jti) DO UPDATE SET calls = calls + 1, last_seen = ?3, rpm_tat = ?6,
	max_calls = ?4, token_budget = ?7`,
		a.TokenID, a.ExpiresAt.Unix(), now, a.MaxCalls, a.Subject, tat, a.TokenBudget); err != nil {
		return err
	}
	if a.Concurrency > 0 || a.TokenBudget > 0 {
		g.LeaseID = newLeaseID()
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO leases (jti, lease_id, expires_at, reserved) VALUES (?, ?, ?, ?)`,
			a.TokenID, g.LeaseID, a.Now.Add(a.LeaseTTL).UnixMilli(), g.Reserved); err != nil {
			return err
		}
	}
	if a.SubjectLimit.Calls > 0 && a.Subject != "" {
		window := store.WindowStart(a.Now, a.SubjectLimit.Window).UnixMilli()
		if _, err := tx.ExecContext(ctx, `
INSERT INTO subject_usage (subject, window_start, calls) VALUES (?, ?, 1)
ON CONFLICT (subject, window_start) DO UPDATE SET calls = calls + 1`, a.Subject, window); err != nil {
			return err
		}
	}
	return nil
}

func newLeaseID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RenewLease extends a lease; a lease that already expired (and was charged)
// is not revived.
func (s *Store) RenewLease(ctx context.Context, jti, leaseID string, ttl time.Duration, now time.Time) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE leases SET expires_at = ? WHERE jti = ? AND lease_id = ? AND expires_at > ?`,
		now.Add(ttl).UnixMilli(), jti, leaseID, now.UnixMilli())
	return unavailable(err)
}

// Settle ends a call: the lease and its reservation go, the tokens used are
// added, and a refunded call is given back.
func (s *Store) Settle(ctx context.Context, st store.Settlement) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if st.LeaseID != "" {
			res, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE jti = ? AND lease_id = ?`, st.TokenID, st.LeaseID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				// The lease expired and its reservation was already charged
				// in full; charging again would count the call twice.
				return nil
			}
		}
		refund := 0
		if st.Refund {
			refund = 1
		}
		_, err := tx.ExecContext(ctx, `
UPDATE token_usage SET prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,
	calls = MAX(calls - ?, 0), last_error = CASE WHEN ? = '' THEN last_error ELSE ? END
WHERE jti = ?`, st.PromptTokens, st.CompletionTokens, refund, st.LastError, st.LastError, st.TokenID)
		return err
	})
}

// Revoke records the revocation; it expires with the token if the store
// knows the token, otherwise it is kept.
func (s *Store) Revoke(ctx context.Context, jti string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `
INSERT INTO revocations (jti, revoked_at, expires_at)
VALUES (?1, ?2, COALESCE((SELECT expires_at FROM token_usage WHERE jti = ?1), 0))
ON CONFLICT (jti) DO NOTHING`, jti, now.UnixMilli())
	return unavailable(err)
}
