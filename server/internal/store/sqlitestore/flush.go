package sqlitestore

import "fmt"

// Ops change the cache and record here what they changed; flush writes
// it in the current transaction before COMMIT, so a token's row is
// written once per batch however many of its calls the batch holds, a
// lease added and removed in one batch is never written, and leases go in
// multi-row statements.
//
// A flush that fails fails the batch, which rolls back and runs each op
// again in its own transaction with its own flush: the faulty op fails
// alone, as when ops wrote their rows themselves.

// pending are the writes recorded since the last flush.
type pending struct {
	tokens       []*tokenState // tokenState.dirty: their token_usage rows changed
	subjects     map[subjectKey]subjectWrite
	leaseInserts []leaseRef // added leases (leaseNew), unless removed again
	leaseRenews  []leaseRef // renewed leases the file has (leaseRenewed)
	leaseDeletes []leaseRef // removed leases the file has
}

func newPending() pending {
	return pending{subjects: make(map[subjectKey]subjectWrite)}
}

// leaseRef names a lease of a cached token.
type leaseRef struct {
	ts *tokenState
	id string
}

// subjectWrite is a subject window's pending row.
type subjectWrite struct {
	calls  int64
	onDisk bool // the file has the row: the flush updates it
}

// touch marks ts's token_usage row for the flush.
func (w *writer) touch(ts *tokenState) {
	if !ts.dirty {
		ts.dirty = true
		w.pending.tokens = append(w.pending.tokens, ts)
	}
}

// setSubject records a window's new count, was its count before.
func (w *writer) setSubject(k subjectKey, was, calls int64) {
	sw, ok := w.pending.subjects[k]
	if !ok {
		// Before its first change in a batch the cache equals the file,
		// where a window has a row once counted (calls > 0).
		sw.onDisk = was > 0
	}
	sw.calls = calls
	w.pending.subjects[k] = sw
	w.cache.subjects.Add(k, calls)
}

// newLease adds a lease to ts, to be inserted by the flush.
func (w *writer) newLease(ts *tokenState, id string, expiresAt, reserved int64) {
	ts.addLease(id, lease{expiresAt: expiresAt, reserved: reserved, state: leaseNew})
	w.pending.leaseInserts = append(w.pending.leaseInserts, leaseRef{ts, id})
}

// renewLease moves a lease's expiry.
func (w *writer) renewLease(ts *tokenState, id string, expiresAt int64) {
	l := ts.leases[id]
	w.updateLease(ts, id, expiresAt, l.reserved)
}

// updateLease changes a lease's expiry and reservation.
func (w *writer) updateLease(ts *tokenState, id string, expiresAt, reserved int64) {
	l := ts.leases[id]
	ts.reserved += reserved - l.reserved
	l.expiresAt, l.reserved = expiresAt, reserved
	if l.state == leaseSaved {
		l.state = leaseRenewed
		w.pending.leaseRenews = append(w.pending.leaseRenews, leaseRef{ts, id})
	}
	ts.leases[id] = l
	// A shorter ttl may move the expiry earlier than the known lower bound.
	ts.noExpiryBefore = min(ts.noExpiryBefore, expiresAt)
}

// flush writes the pending rows in the current transaction. inTx runs it
// before COMMIT; ops that read or write these tables with SQL of their own
// run it first.
func (w *writer) flush() error {
	p := &w.pending
	for _, ts := range p.tokens {
		if err := w.writeToken(ts); err != nil {
			return fmt.Errorf("write token usage: %w", err)
		}
	}
	clear(p.tokens)
	p.tokens = p.tokens[:0]
	for k, sw := range p.subjects {
		var err error
		if sw.onDisk {
			err = w.stmts.updateSubject.exec(sw.calls, k.subject, k.window)
		} else {
			err = w.stmts.insertSubject.exec(k.subject, k.window, sw.calls)
		}
		if err != nil {
			return fmt.Errorf("write subject window: %w", err)
		}
	}
	clear(p.subjects)
	if err := w.flushLeases(); err != nil {
		return err
	}
	return nil
}

func (w *writer) writeToken(ts *tokenState) error {
	ts.dirty = false
	if !ts.exists {
		return nil
	}
	r := &ts.usageRow
	if ts.onDisk {
		return w.stmts.updateUsage.exec(r.calls, r.lastSeen, r.maxCalls, r.rpmTAT, r.promptTokens,
			r.completionTokens, r.tokenBudget, r.lastError, r.refunds, ts.jti)
	}
	if err := w.stmts.insertUsage.exec(ts.jti, r.calls, r.expiresAt, r.firstSeen, r.lastSeen, r.maxCalls,
		r.subject, r.rpmTAT, r.promptTokens, r.completionTokens, r.tokenBudget, r.lastError, r.refunds); err != nil {
		return err
	}
	ts.onDisk = true
	return nil
}

// flushLeases writes the leases added (and not removed again), renewed
// and removed since the last flush. A lease state becomes leaseSaved as
// soon as its write is queued: if the write fails, the rollback drops the
// whole cache anyway.
func (w *writer) flushLeases() error {
	p := &w.pending
	args := w.args[:0]
	defer func() { w.args = args[:0] }()
	for _, ref := range p.leaseInserts {
		l, ok := ref.ts.leases[ref.id]
		if !ok || l.state != leaseNew {
			continue // removed in the same batch: never written
		}
		args = append(args, ref.ts.jti, ref.id, l.expiresAt, l.reserved)
		l.state = leaseSaved
		ref.ts.leases[ref.id] = l
	}
	if err := w.stmts.insertLeases.exec(args); err != nil {
		return fmt.Errorf("insert lease: %w", err)
	}
	clear(args)
	args = args[:0]
	for _, ref := range p.leaseRenews {
		l, ok := ref.ts.leases[ref.id]
		if !ok || l.state != leaseRenewed {
			continue // removed after its renewal: deleted below
		}
		if err := w.stmts.renewLease.exec(l.expiresAt, l.reserved, ref.ts.jti, ref.id); err != nil {
			return fmt.Errorf("renew lease: %w", err)
		}
		l.state = leaseSaved
		ref.ts.leases[ref.id] = l
	}
	for _, ref := range p.leaseDeletes {
		args = append(args, ref.ts.jti, ref.id)
	}
	if err := w.stmts.deleteLeases.exec(args); err != nil {
		return fmt.Errorf("delete lease: %w", err)
	}
	clear(args)
	p.leaseInserts = clearRefs(p.leaseInserts)
	p.leaseRenews = clearRefs(p.leaseRenews)
	p.leaseDeletes = clearRefs(p.leaseDeletes)
	return nil
}

func clearRefs(refs []leaseRef) []leaseRef {
	clear(refs)
	return refs[:0]
}

// forget drops the cache and the pending writes, after a rollback.
func (w *writer) forget() {
	w.cache.purge()
	p := &w.pending
	clear(p.tokens)
	p.tokens = p.tokens[:0]
	clear(p.subjects)
	p.leaseInserts = clearRefs(p.leaseInserts)
	p.leaseRenews = clearRefs(p.leaseRenews)
	p.leaseDeletes = clearRefs(p.leaseDeletes)
	clear(w.args[:cap(w.args)]) // a failed statement's arguments
}
