package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"modernc.org/sqlite"
)

const (
	// maxBatch bounds the ops of one transaction, so one commit never
	// keeps the first caller of a long queue waiting for too long.
	maxBatch = 256
	// queueSize bounds the ops waiting for the writer; callers beyond it
	// wait in enqueue, bounded by their ctx.
	queueSize = 4 * maxBatch
)

var errClosed = errors.New("sqlite store is closed")

// op is one write, run by the writer goroutine inside a batch transaction.
// apply may run twice (in a batch that rolled back, then alone), so it must
// compute its result afresh each time and may touch the cache and the
// statements only from the writer goroutine.
type op interface {
	apply(w *writer) error
}

// request carries an op to the writer and its error back.
type request struct {
	ctx  context.Context
	op   op
	err  error
	done chan struct{}
}

func newRequest() any { return &request{done: make(chan struct{}, 1)} }

// requests recycles requests and their reply channels: two per relayed call.
var requests = sync.Pool{New: newRequest}

// writer owns the write connection, its statements and the token cache;
// only its goroutine touches them.
type writer struct {
	conn  *sql.Conn
	dc    driver.Conn // conn's driver connection, held by run's conn.Raw
	stmts *stmts
	cache *cache
	queue chan *request

	// pending holds what the transaction's ops changed in the cache, for
	// flush to write before COMMIT.
	pending pending
	args    []driver.Value // reused for multi-row statements
	later   []*request     // reused by runBatch for the background ops

	// wal keeps the WAL under its ceiling between batches; fault tracks a
	// volume that refuses writes.
	wal   *walGuard
	fault *fault
	// status counts the pages the connection writes (WAL frames), if the
	// driver says; batchFrames sums them over the current batch.
	status      sqlite.DBStatus
	batchFrames int64

	// mu orders enqueue against stop: senders hold it shared, so once stop
	// holds it no send is in flight and the queue can be closed.
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
	// runErr is what closing the statements returned, once stopped is closed.
	runErr error

	// fallbacks counts batches that rolled back and re-ran op by op.
	fallbacks int
}

// newWriter migrates the schema on conn and starts the writer goroutine,
// which prepares the statements on the driver connection.
func newWriter(ctx context.Context, conn *sql.Conn, wal *walGuard, f *fault) (*writer, error) {
	if err := migrate(ctx, conn); err != nil {
		return nil, err
	}
	if err := wal.countExisting(ctx, conn); err != nil {
		return nil, err
	}
	w := &writer{
		conn: conn, cache: newCache(), queue: make(chan *request, queueSize), stopped: make(chan struct{}),
		pending: newPending(), wal: wal, fault: f,
	}
	wal.checkpoint = w.restartWAL
	ready := make(chan error, 1)
	go w.run(ready)
	if err := <-ready; err != nil {
		<-w.stopped
		return nil, err
	}
	return w, nil
}

// do runs o in the writer and waits for its commit. A ctx that ends while
// o waits to be queued gives up; once queued, do waits for the answer,
// since o may already be committed (an Admit dropped here would leak its
// call and lease).
func (w *writer) do(ctx context.Context, o op) error {
	r := requests.Get().(*request)
	r.ctx, r.op = ctx, o
	err := w.enqueue(r)
	if err == nil {
		<-r.done
		err = r.err
	}
	r.ctx, r.op, r.err = nil, nil, nil
	requests.Put(r)
	return err
}

func (w *writer) enqueue(r *request) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return unavailable(errClosed)
	}
	select {
	case w.queue <- r:
		return nil
	case <-r.ctx.Done():
		return unavailable(r.ctx.Err())
	}
}

// run is the writer goroutine: it prepares the statements, reports to
// ready, then takes whatever is queued (up to maxBatch) and commits it as
// one batch, until the queue is closed and drained. It runs inside
// conn.Raw, the only place database/sql lets it use the driver
// connection, which nothing else uses meanwhile.
func (w *writer) run(ready chan<- error) {
	defer close(w.stopped)
	started := false
	err := w.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		st, err := prepare(c)
		if err != nil {
			return err
		}
		w.dc, w.stmts, started = c, st, true
		w.status, _ = c.(sqlite.DBStatus)
		ready <- nil
		w.loop()
		return st.close()
	})
	if !started {
		ready <- err
		return
	}
	w.runErr = err
}

func (w *writer) loop() {
	batch := make([]*request, 0, maxBatch)
	for r := range w.queue {
		// The sender of r handed it straight to this goroutine; yield once
		// so the callers that are runnable (with GOMAXPROCS=1, all of them)
		// queue their ops too, or every batch would hold one op.
		runtime.Gosched()
		batch = w.drain(append(batch[:0], r))
		w.batchFrames = 0
		w.runBatch(batch)
		clear(batch)
		w.wal.check(w.batchFrames)
	}
}

func (w *writer) drain(batch []*request) []*request {
	for len(batch) < maxBatch {
		select {
		case r, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// runBatch commits batch in one transaction, in arrival order, so each op
// sees the writes of the ops before it. If any op fails, or the flush of
// the rows they changed does, the batch rolls back and every op runs again
// in its own transaction (with its own flush), so only the faulty one
// fails. Answers go out only after the commit.
func (w *writer) runBatch(batch []*request) {
	live := w.dropCanceled(batch)
	if len(live) == 0 {
		return
	}
	// Request-log records and prune steps are written after the batch's
	// admissions and settlements are committed and answered, in a
	// transaction of their own: a call never waits for them (the log only
	// audits, pruning only deletes what no call reads).
	hot, later := splitBackground(live, w.later[:0])
	w.runGroup(hot)
	w.runGroup(later)
	clear(later)
	w.later = later[:0]
}

// background marks the ops runBatch commits after the batch's calls.
type background interface {
	op
	background()
}

// splitBackground moves the background ops of live to later, keeping the
// order within each group.
func splitBackground(live, later []*request) (hot, _ []*request) {
	hot = live[:0]
	for _, r := range live {
		if _, ok := r.op.(background); ok {
			later = append(later, r)
			continue
		}
		hot = append(hot, r)
	}
	return hot, later
}

// runGroup runs ops in one transaction and answers them after COMMIT; if
// it fails, each op is replayed in a transaction of its own, so only the
// faulty one gets the error.
func (w *writer) runGroup(group []*request) {
	if len(group) == 0 {
		return
	}
	err := w.inTx(func() error {
		for _, r := range group {
			if err := r.op.apply(w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		w.fallbacks++
		for _, r := range group {
			reply(r, w.inTx(func() error { return r.op.apply(w) }))
		}
		return
	}
	for _, r := range group {
		reply(r, err)
	}
}

// dropCanceled answers the requests whose caller gave up before the
// writer reached them, without running them, and returns the others
// (reusing batch's array).
func (w *writer) dropCanceled(batch []*request) []*request {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			reply(r, err)
			continue
		}
		live = append(live, r)
	}
	return live
}

func reply(r *request, err error) {
	r.err = unavailable(err)
	r.done <- struct{}{}
}

// inTx runs fn in one BEGIN IMMEDIATE transaction, then writes the rows
// it changed (flush) and commits. Any failure rolls back and empties the
// cache, which may hold writes that never reached disk. The outcome tells
// fault whether the volume takes writes.
func (w *writer) inTx(fn func() error) error {
	err := w.tx(fn)
	// A failed transaction's frames count too: they may have grown the
	// WAL file, and the WAL bound is an upper one.
	frames := w.takeFrames()
	w.batchFrames += frames
	switch {
	case err != nil:
		w.fault.note(err)
	case frames > 0:
		w.fault.clear()
	}
	return err
}

// takeFrames returns the pages the connection wrote since the last call:
// the WAL frames of the last transaction. The driver always says; were it
// not to, one page per transaction is a guess that still lets a volume
// fault clear.
func (w *writer) takeFrames() int64 {
	if w.status == nil {
		return 1
	}
	n, _, err := w.status.Status(sqlite.DBStatusCacheWrite, true)
	if err != nil {
		return 1
	}
	return int64(n)
}

func (w *writer) tx(fn func() error) error {
	if err := w.stmts.begin.exec(); err != nil {
		w.rollback()
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(); err != nil {
		w.rollback()
		return err
	}
	if err := w.flush(); err != nil {
		w.rollback()
		return err
	}
	if err := w.stmts.commit.exec(); err != nil {
		w.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback ends a failed transaction. Its own error is moot: SQLite may
// have rolled back already (no transaction is active), and the caller
// reports the error that caused it.
func (w *writer) rollback() {
	_ = w.stmts.rollback.exec()
	w.forget()
}

// stop refuses new ops; queued ones still run.
func (w *writer) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
}

// close stops the writer once the queue is drained (it then frees the
// statements), then closes the connection.
func (w *writer) close() error {
	w.stop()
	<-w.stopped
	return errors.Join(w.runErr, w.conn.Close())
}

// pingOp proves the writer is alive and can commit.
type pingOp struct{}

func (pingOp) apply(*writer) error { return nil }
