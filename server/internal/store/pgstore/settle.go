package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

// RenewLease extends a lease; a lease that already lapsed (and was
// charged) is not revived. One statement: a racing sweep either deletes
// the row first or re-checks the renewed expiry and leaves it.
func (s *Store) RenewLease(ctx context.Context, jti, leaseID string, ttl time.Duration, now time.Time) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx,
		`UPDATE relayapi_leases SET expires_at = $1 WHERE jti = $2 AND lease_id = $3 AND expires_at > $4`,
		now.Add(ttl), jti, leaseID, now)
	return s.fail(err)
}

// settle is one statement, so it needs no token lock: the lease row
// decides. If a sweep deleted the lapsed lease first, it already charged
// the reservation in full, nothing is deleted here, and charging again
// would count the call twice. Without a lease (no concurrency or budget
// limit) the call is settled unconditionally. The counters are
// increments, so they compose with a concurrent Admit in either order.
//
// The refund is store.RefundAllowed, written twice (SET expressions all
// read the row as it was): $5 asks for it, $7 is the refund limit (0:
// none). The UPDATE locks the row, and under READ COMMITTED a settlement
// that waited for a concurrent one re-evaluates its SET on the row that
// one committed, so concurrent refunds never pass the limit.
const settle = `WITH ended AS (
	DELETE FROM relayapi_leases WHERE jti = $1 AND lease_id = $2 RETURNING 1)
UPDATE relayapi_tokens SET prompt_tokens = prompt_tokens + $3, completion_tokens = completion_tokens + $4,
	calls = calls - CASE WHEN $5 AND calls > 0 AND ($7 <= 0 OR refunds < $7) THEN 1 ELSE 0 END,
	refunds = refunds + CASE WHEN $5 AND calls > 0 AND ($7 <= 0 OR refunds < $7) THEN 1 ELSE 0 END,
	last_error = CASE WHEN $6 = '' THEN last_error ELSE $6 END
WHERE jti = $1 AND ($2 = '' OR EXISTS (SELECT 1 FROM ended))`

// Settle releases the lease and reservation, adds the tokens used and
// refunds the call when asked and the token's refunds are below the limit.
func (s *Store) Settle(ctx context.Context, st store.Settlement) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, settle, st.TokenID, st.LeaseID, st.PromptTokens, st.CompletionTokens,
		st.Refund, st.LastError, st.RefundLimit)
	return s.fail(err)
}

// Revoke records the revocation; it expires with the token if the store
// knows the token, otherwise (NULL expiry) it is kept.
func (s *Store) Revoke(ctx context.Context, jti string, now time.Time) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO relayapi_revocations (jti, revoked_at, expires_at)
VALUES ($1, $2, (SELECT expires_at FROM relayapi_tokens WHERE jti = $1))
ON CONFLICT (jti) DO NOTHING`, jti, now)
	return s.fail(err)
}

// holdLease locks the held lease's row, so a Settle of it waits for the
// Hold (or, if it came first, the lease is gone and nothing is charged),
// and reads the token's counters in the same statement, one snapshot. No
// row: the lease lapsed or was settled, or the token is unknown.
const holdLease = `SELECT l.reserved, t.prompt_tokens + t.completion_tokens,
	(SELECT COALESCE(sum(reserved), 0)::bigint FROM relayapi_leases WHERE jti = $1 AND lease_id <> $2)
FROM relayapi_leases l JOIN relayapi_tokens t ON t.jti = l.jti
WHERE l.jti = $1 AND l.lease_id = $2
FOR UPDATE OF l`

// Hold charges a call in progress and re-sizes its lease's reservation
// (store.Rehold). Like Admit it takes the token's lock and ends lapsed
// leases first, so concurrent Admits and Holds of one token never hand
// out the same budget twice; the charge is an increment, so it composes
// with a concurrent Settle of another lease.
func (s *Store) Hold(ctx context.Context, h store.Hold) (store.Held, error) {
	var held store.Held
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		held = store.Held{}
		var mine, used, others int64
		found := false
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, tokenLockClass, h.TokenID)
		b.Queue(sweepLapsed, h.TokenID, h.Now)
		b.Queue(holdLease, h.TokenID, h.LeaseID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				found = true
				if err := rows.Scan(&mine, &used, &others); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !found {
			held.Lapsed = true
			return nil // commit anyway: the lapsed leases were charged
		}
		held = store.Rehold(h, used+h.PromptTokens+h.CompletionTokens, others)
		b = &pgx.Batch{}
		if h.PromptTokens != 0 || h.CompletionTokens != 0 {
			b.Queue(`UPDATE relayapi_tokens SET prompt_tokens = prompt_tokens + $2,
	completion_tokens = completion_tokens + $3 WHERE jti = $1`, h.TokenID, h.PromptTokens, h.CompletionTokens)
		}
		if held.Reserved != mine {
			b.Queue(`UPDATE relayapi_leases SET reserved = $3 WHERE jti = $1 AND lease_id = $2`,
				h.TokenID, h.LeaseID, held.Reserved)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return store.Held{}, err
	}
	return held, nil
}
