package sqlitestore

import (
	"context"
	"fmt"

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

// logOp runs after the batch's calls are answered (see runBatch).
func (logOp) background() {}
