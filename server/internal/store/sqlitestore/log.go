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
	args := w.args[:0]
	for i := range o {
		r := &o[i]
		args = append(args, r.Time.UnixMilli(), r.RequestID, r.TokenID, r.Subject, r.Provider,
			r.Model, r.Path, int64(r.Status), r.Latency.Microseconds(), r.TTFB.Microseconds(), r.PromptTokens,
			r.CompletionTokens, r.Estimated, r.BytesIn, r.BytesOut, r.ErrorCode, r.UsageSource)
	}
	err := w.stmts.insertLogs.exec(args)
	clear(args) // keep no record alive
	w.args = args[:0]
	if err != nil {
		return fmt.Errorf("insert request log: %w", err)
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
	// Pruning is hourly and may touch any token: write the batch's pending
	// rows, then drop the whole cache rather than track what it deleted.
	// Later ops reload from the file.
	if err := w.flush(); err != nil {
		return err
	}
	w.cache.purge()
	for _, q := range []struct {
		st  *rawStmt
		arg int64
	}{
		{w.stmts.pruneLog, o.ms},
		{w.stmts.pruneLeases, o.secs},
		{w.stmts.pruneUsage, o.secs},
		{w.stmts.pruneRevocations, o.secs},
		{w.stmts.pruneSubjects, o.ms},
	} {
		if err := q.st.exec(q.arg); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}
