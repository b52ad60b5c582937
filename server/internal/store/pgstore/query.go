package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

const usageColumns = `t.jti, t.subject, t.calls, t.max_calls, t.refunds, t.prompt_tokens, t.completion_tokens,
	t.token_budget, t.first_seen, t.last_seen, t.expires_at, t.last_error,
	(SELECT COALESCE(sum(reserved), 0)::bigint FROM relayapi_leases l WHERE l.jti = t.jti),
	EXISTS (SELECT 1 FROM relayapi_revocations r WHERE r.jti = t.jti)`

func scanUsage(row pgx.Row) (store.Usage, error) {
	var u store.Usage
	err := row.Scan(&u.TokenID, &u.Subject, &u.Calls, &u.MaxCalls, &u.Refunds, &u.PromptTokens, &u.CompletionTokens,
		&u.TokenBudget, &u.FirstSeen, &u.LastSeen, &u.ExpiresAt, &u.LastError, &u.Reserved, &u.Revoked)
	return u, err
}

// Usage reports a token's counters; a token revoked before it was ever
// seen is known, as revoked.
func (s *Store) Usage(ctx context.Context, jti string) (store.Usage, bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := scanUsage(s.pool.QueryRow(ctx, `SELECT `+usageColumns+` FROM relayapi_tokens t WHERE t.jti = $1`, jti))
	if err == nil {
		return u, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Usage{}, false, s.fail(err)
	}
	var revoked bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM relayapi_revocations WHERE jti = $1)`, jti).Scan(&revoked)
	if err != nil || !revoked {
		return store.Usage{}, false, s.fail(err)
	}
	return store.Usage{TokenID: jti, Revoked: true}, true, nil
}

// Tokens lists tokens by jti after the cursor. Two statements rather
// than "$1 = ” OR subject = $1", which a cached generic plan could not
// serve from the subject index.
func (s *Store) Tokens(ctx context.Context, f store.TokenFilter) ([]store.Usage, string, error) {
	limit := store.PageSize(f.Limit)
	after, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var rows pgx.Rows
	if f.Subject == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+usageColumns+` FROM relayapi_tokens t
WHERE t.jti > $1 ORDER BY t.jti LIMIT $2`, after, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+usageColumns+` FROM relayapi_tokens t
WHERE t.subject = $1 AND t.jti > $2 ORDER BY t.jti LIMIT $3`, f.Subject, after, limit+1)
	}
	if err != nil {
		return nil, "", s.fail(err)
	}
	page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Usage, error) { return scanUsage(r) })
	if err != nil {
		return nil, "", s.fail(err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(page[limit-1].TokenID)
	}
	return page, next, nil
}
