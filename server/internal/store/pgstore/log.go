package pgstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

var logColumns = []string{"time", "request_id", "jti", "subject", "provider", "model", "path", "status",
	"latency_us", "ttfb_us", "prompt_tokens", "completion_tokens", "estimated", "bytes_in", "bytes_out", "error_code",
	"usage_source"}

// Log appends records with one COPY: a batch costs one round trip and
// one commit, and ids follow the slice order.
func (s *Store) Log(ctx context.Context, records []store.Record) error {
	if len(records) == 0 {
		return nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	rows := pgx.CopyFromSlice(len(records), func(i int) ([]any, error) {
		r := records[i]
		return []any{r.Time, text(r.RequestID), text(r.TokenID), text(r.Subject), text(r.Provider),
			text(r.Model), text(r.Path), r.Status, r.Latency.Microseconds(), r.TTFB.Microseconds(),
			r.PromptTokens, r.CompletionTokens, r.Estimated, r.BytesIn, r.BytesOut, text(r.ErrorCode),
			text(r.UsageSource)}, nil
	})
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"relayapi_request_log"}, logColumns, rows)
	return s.fail(err)
}

// text makes a string storable: PostgreSQL rejects NUL bytes and invalid
// UTF-8, and one odd model name or path must not lose the whole batch.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Requests reads the log newest first; the cursor is the last id served.
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
	ctx, cancel := s.op(ctx)
	defer cancel()
	const cols = `SELECT id, time, request_id, jti, subject, provider, model, path, status, latency_us, ttfb_us,
	prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code, usage_source
	FROM relayapi_request_log `
	var rows pgx.Rows
	var err error
	if f.TokenID == "" {
		rows, err = s.pool.Query(ctx, cols+`WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit+1)
	} else {
		rows, err = s.pool.Query(ctx, cols+`WHERE jti = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, f.TokenID, before, limit+1)
	}
	if err != nil {
		return nil, "", s.fail(err)
	}
	page, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, "", s.fail(err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(strconv.FormatInt(page[limit-1].id, 10))
	}
	records := make([]store.Record, len(page))
	for i, r := range page {
		records[i] = r.Record
	}
	return records, next, nil
}

type logRow struct {
	id int64
	store.Record
}

func scanRecord(row pgx.CollectableRow) (logRow, error) {
	var r logRow
	var lat, ttfb int64
	err := row.Scan(&r.id, &r.Time, &r.RequestID, &r.TokenID, &r.Subject, &r.Provider, &r.Model, &r.Path, &r.Status,
		&lat, &ttfb, &r.PromptTokens, &r.CompletionTokens, &r.Estimated, &r.BytesIn, &r.BytesOut, &r.ErrorCode,
		&r.UsageSource)
	r.Latency, r.TTFB = time.Duration(lat)*time.Microsecond, time.Duration(ttfb)*time.Microsecond
	return r, err
}

// pruneBatch bounds the rows one prune statement deletes. Prune used to
// be one transaction: ten minutes of request log at full load is millions
// of rows, a DELETE that outlives the store's operation timeout (so it
// rolled back, every time, and the table only grew) and holds back
// vacuum while it runs. Each batch commits on its own.
const pruneBatch = 5000

// pruneSteps delete, $2 rows at most each, what expired before $1. The
// tokens step removes the tokens' leases in the same statement.
var pruneSteps = []string{
	`DELETE FROM relayapi_request_log WHERE id IN
	(SELECT id FROM relayapi_request_log WHERE time < $1 ORDER BY time LIMIT $2)`,
	`WITH expired AS (SELECT jti FROM relayapi_tokens WHERE expires_at < $1 ORDER BY expires_at LIMIT $2),
	leases AS (DELETE FROM relayapi_leases WHERE jti IN (SELECT jti FROM expired))
	DELETE FROM relayapi_tokens WHERE jti IN (SELECT jti FROM expired)`,
	`DELETE FROM relayapi_revocations WHERE jti IN
	(SELECT jti FROM relayapi_revocations WHERE expires_at < $1 LIMIT $2)`, // NULL: kept
	`DELETE FROM relayapi_subject_windows WHERE (subject, window_start) IN
	(SELECT subject, window_start FROM relayapi_subject_windows WHERE window_start < $1 LIMIT $2)`,
}

// Prune deletes log records older than before and the state of tokens
// that expired before it, in batches of pruneBatch rows. A ctx that ends
// stops it between batches, with what it deleted so far committed; the
// next Prune deletes the rest.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	for _, q := range pruneSteps {
		for {
			n, err := s.pruneOnce(ctx, q, before)
			if err != nil {
				return err
			}
			if n < pruneBatch {
				break
			}
		}
	}
	return nil
}

func (s *Store) pruneOnce(ctx context.Context, q string, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, before, pruneBatch)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
