package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
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

func (s *Store) Requests(ctx context.Context, f store.RecordFilter) ([]store.Record, string, error) {
	limit := store.PageSize(f.Limit)
	before := int64(1<<63 - 1)
	if f.Cursor != "" {
		c, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		if before, err = strconv.ParseInt(c, 10, 64); err != nil {
			return nil, "", store.ErrBadCursor
		}
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, time, request_id, jti, subject, provider, model, path, status,
	latency_us, ttfb_us, prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code, usage_source
FROM request_log WHERE (?1 = '' OR jti = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3`, f.TokenID, before, limit+1)
	if err != nil {
		return nil, "", unavailable(err)
	}
	defer rows.Close()
	var page []store.Record
	var ids []int64
	for rows.Next() {
		var r store.Record
		var id, t, lat, ttfb int64
		if err := rows.Scan(&id, &t, &r.RequestID, &r.TokenID, &r.Subject, &r.Provider, &r.Model, &r.Path, &r.Status,
			&lat, &ttfb, &r.PromptTokens, &r.CompletionTokens, &r.Estimated, &r.BytesIn, &r.BytesOut, &r.ErrorCode, &r.UsageSource); err != nil {
			return nil, "", unavailable(err)
		}
		r.Time, r.Latency, r.TTFB = time.UnixMilli(t), time.Duration(lat)*time.Microsecond, time.Duration(ttfb)*time.Microsecond
		page, ids = append(page, r), append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", unavailable(err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(strconv.FormatInt(ids[limit-1], 10))
	}
	return page, next, nil
}
