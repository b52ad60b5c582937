package pgstore

import (
	"context"
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
