package sqlitestore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"time"
)

// Pruning used to be one transaction deleting an hour of request log
// (millions of rows at full load): it held the writer for seconds and put
// every freed page in the WAL at once. It now goes in steps, one per
// writer batch, each after the batch's calls are answered; a step ends
// after pruneChunk rows or pruneStepBudget of work, whichever comes first
// (a row takes 3 to 15 µs here: 1,000 of them could hold the writer
// 15 ms). The calls queued meanwhile run between two steps.
const (
	pruneChunk      = 1000
	pruneStepBudget = 2 * time.Millisecond
	// pruneLogRows is what one DELETE of a log step removes, so the step
	// can stop on its budget.
	pruneLogRows = 100
)

// pruneRest paces the steps: after a step, Prune waits pruneRest times
// what the step took, queueing included, before it sends the next. Sent
// back to back, one step rode along with every writer batch, and a relay
// starting on a million rows past retention answered a tenth of its usual
// rate for the 4 s they took (bench/run scale, issue 22). Paced, pruning
// takes at most a fifth of the writer's time, less when calls queue ahead
// of it (a step then takes longer, and so does the rest after it), and
// still deletes ~100,000 rows a second on an idle writer.
const pruneRest = 4

// Prune deletes log records older than before and the state of tokens
// expired before it, one bounded step at a time, paced by pruneRest. A ctx
// that ends stops it between steps, with what it deleted so far committed;
// the next Prune deletes the rest.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	o := &pruneOp{ms: before.UnixMilli(), secs: before.Unix()}
	for o.at.table != pruneDone {
		start := time.Now()
		if err := s.w.do(ctx, o); err != nil {
			return err
		}
		o.at = o.next // only a committed step moves on
		if o.at.table == pruneDone {
			break
		}
		if err := pause(ctx, pruneRest*time.Since(start)); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pruneTable is where a prune stands: the tables go in this order.
type pruneTable uint8

const (
	pruneLog pruneTable = iota
	pruneTokens
	pruneRevocations
	pruneSubjects
	pruneDone
)

// pruneCursor is the table a step prunes and, for the tables scanned in
// key order, the last key the previous step scanned (resume).
type pruneCursor struct {
	table  pruneTable
	resume bool
	key    string
	window int64 // subject_usage: the key is (key, window)
}

// pruneOp is one step. apply may run twice (see op), so it reads at and
// writes next; Prune moves at to next once the step committed.
type pruneOp struct {
	ms, secs int64
	at, next pruneCursor
}

// pruneOp runs after the batch's calls are answered (see runBatch).
func (*pruneOp) background() {}

func (o *pruneOp) apply(w *writer) error {
	// Steps delete rows the cache may hold: write the batch's pending rows
	// first, so the cache equals the file and the deleted entries can go.
	if err := w.flush(); err != nil {
		return err
	}
	var err error
	switch o.at.table {
	case pruneLog:
		o.next, err = w.pruneLogStep(o.at, o.ms)
	case pruneTokens:
		o.next, err = w.pruneTokensStep(o.at, o.secs)
	case pruneRevocations:
		o.next, err = w.pruneRevocationsStep(o.at, o.secs)
	case pruneSubjects:
		o.next, err = w.pruneSubjectsStep(o.at, o.ms)
	default:
		o.next = o.at
	}
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}

// nextTable is the cursor at the start of the table after c's.
func (c pruneCursor) nextTable() pruneCursor {
	return pruneCursor{table: c.table + 1}
}

// pruneLogStep deletes the oldest log lines older than ms.
func (w *writer) pruneLogStep(c pruneCursor, ms int64) (pruneCursor, error) {
	start := time.Now()
	for deleted := 0; deleted < pruneChunk && time.Since(start) < pruneStepBudget; deleted += pruneLogRows {
		n, err := w.stmts.pruneLog.execCount(ms, int64(pruneLogRows))
		if err != nil || n < pruneLogRows {
			return c.nextTable(), err
		}
	}
	return c, nil
}

// pruneTokensStep deletes the tokens expired before secs among the next
// ones in key order, with their leases, from the file and the cache.
func (w *writer) pruneTokensStep(c pruneCursor, secs int64) (pruneCursor, error) {
	return w.pruneKeyed(w.stmts.scanTokens, c, func(r keyRow) (bool, error) {
		if r.expiresAt >= secs {
			return false, nil
		}
		w.cache.tokens.Remove(r.key)
		if err := w.stmts.deleteTokenLeases.exec(r.key); err != nil {
			return true, err
		}
		return true, w.stmts.deleteToken.exec(r.key)
	})
}

// pruneRevocationsStep deletes the revocations of tokens expired before
// secs (expires_at 0: the token was unknown, the revocation stays).
func (w *writer) pruneRevocationsStep(c pruneCursor, secs int64) (pruneCursor, error) {
	return w.pruneKeyed(w.stmts.scanRevocations, c, func(r keyRow) (bool, error) {
		if r.expiresAt == 0 || r.expiresAt >= secs {
			return false, nil
		}
		w.cache.tokens.Remove(r.key)
		return true, w.stmts.deleteRevocation.exec(r.key)
	})
}

// pruneSubjectsStep deletes the subject windows that started before ms.
func (w *writer) pruneSubjectsStep(c pruneCursor, ms int64) (pruneCursor, error) {
	return w.pruneKeyed(w.stmts.scanSubjects, c, func(r keyRow) (bool, error) {
		if r.window >= ms {
			return false, nil
		}
		k := subjectKey{r.key, r.window}
		w.cache.subjects.Remove(k)
		return true, w.stmts.deleteSubject.exec(k.subject, k.window)
	})
}

// keyRow is a row of a table pruned in key order: (jti, expires_at) of
// tokens and revocations, (subject, window_start) of subject windows.
type keyRow struct {
	key       string
	window    int64
	expiresAt int64
}

// pruneKeyed scans the rows after c in key order and hands them to prune,
// which deletes the row if it expired, until pruneChunk deletions or
// pruneStepBudget; it returns where the next step starts.
func (w *writer) pruneKeyed(scan *rawStmt, c pruneCursor, prune func(keyRow) (deleted bool, err error)) (pruneCursor, error) {
	rows, end, err := w.scanKeys(scan, c)
	if err != nil {
		return c, err
	}
	start, deletions := time.Now(), 0
	for i, r := range rows {
		deleted, err := prune(r)
		if err != nil {
			return c, err
		}
		if deleted {
			deletions++
		}
		if i < len(rows)-1 && (deletions == pruneChunk || time.Since(start) >= pruneStepBudget) {
			return pruneCursor{table: c.table, resume: true, key: r.key, window: r.window}, nil
		}
	}
	if end || len(rows) == 0 {
		return c.nextTable(), nil
	}
	last := rows[len(rows)-1]
	return pruneCursor{table: c.table, resume: true, key: last.key, window: last.window}, nil
}

// scanKeys reads the next pruneChunk rows of a table in key order after
// c; end says the scan reached the end of the table. The rows are read in
// full before any is deleted.
func (w *writer) scanKeys(st *rawStmt, c pruneCursor) (_ []keyRow, end bool, _ error) {
	// The scan starts at the cursor's row (it may be gone) and skips it.
	limit := int64(pruneChunk)
	if c.resume {
		limit++
	}
	args := []driver.Value{c.key, limit}
	if c.table == pruneSubjects {
		window := c.window
		if !c.resume {
			window = math.MinInt64
		}
		args = []driver.Value{c.key, window, limit}
	}
	rows, err := st.rows(args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var r keyRow
	dest := []any{&r.key, &r.expiresAt}
	if c.table == pruneSubjects {
		dest = []any{&r.key, &r.window}
	}
	var out []keyRow
	read := int64(0)
	for {
		ok, err := next(rows, dest...)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return out, read < limit, nil
		}
		read++
		if c.resume && r.key == c.key && r.window == c.window {
			continue
		}
		out = append(out, r)
	}
}
