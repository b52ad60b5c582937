package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

const usageColumns = `u.jti, u.subject, u.calls, u.max_calls, u.refunds, u.prompt_tokens, u.completion_tokens,
	u.token_budget, u.first_seen, u.last_seen, u.expires_at, u.last_error,
	(SELECT COALESCE(SUM(reserved), 0) FROM leases l WHERE l.jti = u.jti),
	EXISTS (SELECT 1 FROM revocations r WHERE r.jti = u.jti)`

func scanUsage(row interface{ Scan(...any) error }) (store.Usage, error) {
	var u store.Usage
	var first, last, exp int64
	err := row.Scan(&u.TokenID, &u.Subject, &u.Calls, &u.MaxCalls, &u.Refunds, &u.PromptTokens, &u.CompletionTokens,
		&u.TokenBudget, &first, &last, &exp, &u.LastError, &u.Reserved, &u.Revoked)
	u.FirstSeen, u.LastSeen, u.ExpiresAt = time.UnixMilli(first), time.UnixMilli(last), time.Unix(exp, 0)
	return u, err
}

// Usage, Tokens and Requests read through the read-only pool: WAL lets
// them run beside the writer, and they see only committed batches, which
// include every write that has returned.
func (s *Store) Usage(ctx context.Context, jti string) (store.Usage, bool, error) {
	u, err := scanUsage(s.read.QueryRowContext(ctx, `SELECT `+usageColumns+` FROM token_usage u WHERE u.jti = ?`, jti))
	if err == nil {
		return u, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return u, false, unavailable(err)
	}
	var one int
	err = s.read.QueryRowContext(ctx, `SELECT 1 FROM revocations WHERE jti = ?`, jti).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Usage{}, false, nil
	case err != nil:
		return store.Usage{}, false, unavailable(err)
	}
	return store.Usage{TokenID: jti, Revoked: true}, true, nil
}

func (s *Store) Tokens(ctx context.Context, f store.TokenFilter) ([]store.Usage, string, error) {
	limit := store.PageSize(f.Limit)
	after, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+usageColumns+` FROM token_usage u
WHERE (?1 = '' OR u.subject = ?1) AND u.jti > ?2 ORDER BY u.jti LIMIT ?3`, f.Subject, after, limit+1)
	if err != nil {
		return nil, "", unavailable(err)
	}
	defer rows.Close()
	var page []store.Usage
	for rows.Next() {
		u, err := scanUsage(rows)
		if err != nil {
			return nil, "", unavailable(err)
		}
		page = append(page, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", unavailable(err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(page[limit-1].TokenID)
	}
	return page, next, nil
}
