package pgstore

import (
	"context"
	"time"

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
const settle = `WITH ended AS (
	DELETE FROM relayapi_leases WHERE jti = $1 AND lease_id = $2 RETURNING 1)
UPDATE relayapi_tokens SET prompt_tokens = prompt_tokens + $3, completion_tokens = completion_tokens + $4,
	calls = GREATEST(calls - $5, 0), last_error = CASE WHEN $6 = '' THEN last_error ELSE $6 END
WHERE jti = $1 AND ($2 = '' OR EXISTS (SELECT 1 FROM ended))`

// Settle releases the lease and reservation, adds the tokens used and
// refunds the call when asked.
func (s *Store) Settle(ctx context.Context, st store.Settlement) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	refund := 0
	if st.Refund {
		refund = 1
	}
	_, err := s.pool.Exec(ctx, settle, st.TokenID, st.LeaseID, st.PromptTokens, st.CompletionTokens, refund, st.LastError)
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
