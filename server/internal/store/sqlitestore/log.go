package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Log appends records to the request log in the writer's next batch.
func (s *Store) Log(ctx context.Context, records []store.Record) error {
	if len(records) == 0 {
		return nil
	}
	return s.w.do(ctx, logOp(records))
}

type logOp []store.Record

func (o logOp) apply(w *writer) error {
	for _, r := range o {
		if _, err := w.stmts.insertLog.Exec(r.Time.UnixMilli(), r.RequestID, r.TokenID, r.Subject, r.Provider,
			r.Model, r.Path, r.Status, r.Latency.Microseconds(), r.TTFB.Microseconds(), r.PromptTokens,
			r.CompletionTokens, r.Estimated, r.BytesIn, r.BytesOut, r.ErrorCode); err != nil {
			return fmt.Errorf("insert request log: %w", err)
		}
	}
	return nil
}

// Prune deletes log records older than before and the state of tokens
// expired before it.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	return s.w.do(ctx, pruneOp{ms: before.UnixMilli(), secs: before.Unix()})
}

type pruneOp struct{ ms, secs int64 }

func (o pruneOp) apply(w *writer) error {
	// Pruning is hourly and may touch any token: drop the whole cache
	// rather than track what it deleted. Later ops reload from the file.
	w.cache.purge()
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM request_log WHERE time < ?`, o.ms},
		{`DELETE FROM leases WHERE jti IN (SELECT jti FROM token_usage WHERE expires_at < ?)`, o.secs},
		{`DELETE FROM token_usage WHERE expires_at < ?`, o.secs},
		{`DELETE FROM revocations WHERE expires_at <> 0 AND expires_at < ?`, o.secs},
		{`DELETE FROM subject_usage WHERE window_start < ?`, o.ms},
	} {
		if _, err := w.conn.ExecContext(context.Background(), q.sql, q.arg); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}
