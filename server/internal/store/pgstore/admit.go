package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Advisory lock classes (the two-int4 key space, apart from the
// migration lock's bigint one). A hash collision between two tokens only
// makes them wait for each other; it never mixes their state.
const (
	tokenLockClass   int32 = 0x52410001
	subjectLockClass int32 = 0x52410002
)

// Admit takes the token's lock, ends lapsed leases, loads the state,
// decides with store.Decide and writes the grant, in one READ COMMITTED
// transaction. The lock, not the isolation level, makes it atomic: every
// Admit of a token runs after the previous one committed, and each
// statement sees what committed before it. An advisory lock rather than
// SELECT … FOR UPDATE, because the token's row need not exist yet and a
// refusal must not create one.
func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Grant, error) {
	var g store.Grant
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		st, err := lockAndLoad(ctx, tx, a)
		if err != nil {
			return err
		}
		var tat int64
		g, tat = store.Decide(st, a)
		if g.Decision != store.Admitted {
			return nil // commit anyway: the lapsed leases were charged
		}
		return recordAdmission(ctx, tx, a, &g, tat)
	})
	if err != nil {
		// A grant that did not commit must not look admitted.
		return store.Grant{}, err
	}
	return g, nil
}

func subjectLimited(a store.Admission) bool { return a.SubjectLimit.Calls > 0 && a.Subject != "" }

// lockAndLoad sends its statements in one round trip; the server runs them
// in order, so the load only starts once the locks are held.
func lockAndLoad(ctx context.Context, tx pgx.Tx, a store.Admission) (store.State, error) {
	var st store.State
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, tokenLockClass, a.TokenID)
	if subjectLimited(a) {
		// The subject window spans tokens; always taken after the token's
		// lock, so two admissions can never wait on each other in a cycle.
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, subjectLockClass, a.Subject)
	}
	b.Queue(sweepLapsed, a.TokenID, a.Now)
	// One statement, one snapshot: a Settle committing meanwhile is seen
	// whole (lease gone and tokens added) or not at all.
	b.Queue(loadState, a.TokenID, a.Subject, store.WindowStart(a.Now, a.SubjectLimit.Window)).
		QueryRow(func(row pgx.Row) error {
			return row.Scan(&st.Revoked, &st.Calls, &st.RPMTAT, &st.TokensUsed,
				&st.ActiveLeases, &st.Reserved, &st.SubjectCalls)
		})
	return st, tx.SendBatch(ctx, b).Close()
}

// sweepLapsed ends leases a crashed or stalled relay stopped renewing and
// charges their reservations as used: the provider may have served the
// call in full, and a budget must never be overshot. Only the statement
// that deletes a lease charges it, so a racing Settle cannot charge twice.
const sweepLapsed = `WITH lapsed AS (
	DELETE FROM relayapi_leases WHERE jti = $1 AND expires_at <= $2 RETURNING reserved)
UPDATE relayapi_tokens SET completion_tokens = completion_tokens + (SELECT sum(reserved) FROM lapsed)::bigint,
	last_error = 'lease_expired'
WHERE jti = $1 AND EXISTS (SELECT 1 FROM lapsed)`

const loadState = `SELECT
	EXISTS (SELECT 1 FROM relayapi_revocations WHERE jti = $1),
	COALESCE(t.calls, 0), COALESCE(t.rpm_tat, 0), COALESCE(t.prompt_tokens + t.completion_tokens, 0),
	(SELECT count(*) FROM relayapi_leases WHERE jti = $1),
	(SELECT COALESCE(sum(reserved), 0)::bigint FROM relayapi_leases WHERE jti = $1),
	COALESCE((SELECT calls FROM relayapi_subject_windows WHERE subject = $2 AND window_start = $3), 0)
FROM (SELECT) AS one LEFT JOIN relayapi_tokens t ON t.jti = $1`

const upsertToken = `INSERT INTO relayapi_tokens
	(jti, calls, expires_at, first_seen, last_seen, max_calls, subject, rpm_tat, token_budget)
VALUES ($1, 1, $2, $3, $3, $4, $5, $6, $7)
ON CONFLICT (jti) DO UPDATE SET calls = relayapi_tokens.calls + 1, last_seen = $3, rpm_tat = $6,
	max_calls = $4, token_budget = $7`

func recordAdmission(ctx context.Context, tx pgx.Tx, a store.Admission, g *store.Grant, tat int64) error {
	b := &pgx.Batch{}
	b.Queue(upsertToken, a.TokenID, a.ExpiresAt, a.Now, a.MaxCalls, a.Subject, tat, a.TokenBudget)
	if a.Concurrency > 0 || a.TokenBudget > 0 {
		g.LeaseID = newLeaseID()
		b.Queue(`INSERT INTO relayapi_leases (jti, lease_id, expires_at, reserved) VALUES ($1, $2, $3, $4)`,
			a.TokenID, g.LeaseID, a.Now.Add(a.LeaseTTL), g.Reserved)
	}
	if subjectLimited(a) {
		b.Queue(`INSERT INTO relayapi_subject_windows (subject, window_start, calls) VALUES ($1, $2, 1)
ON CONFLICT (subject, window_start) DO UPDATE SET calls = relayapi_subject_windows.calls + 1`,
			a.Subject, store.WindowStart(a.Now, a.SubjectLimit.Window))
	}
	return tx.SendBatch(ctx, b).Close()
}

func newLeaseID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
