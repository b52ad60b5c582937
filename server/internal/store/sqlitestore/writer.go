package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
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
	stmts *stmts
	cache *cache
	queue chan *request

	// mu orders enqueue against stop: senders hold it shared, so once stop
	// holds it no send is in flight and the queue can be closed.
	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}

	// fallbacks counts batches that rolled back and re-ran op by op.
	fallbacks int
}

// newWriter migrates the schema on conn, prepares the statements and
// starts the writer goroutine.
func newWriter(ctx context.Context, conn *sql.Conn) (*writer, error) {
	if err := migrate(ctx, conn); err != nil {
		return nil, err
	}
	st, err := prepare(ctx, conn)
	if err != nil {
		return nil, err
	}
	w := &writer{conn: conn, stmts: st, cache: newCache(), queue: make(chan *request, queueSize), stopped: make(chan struct{})}
	go w.run()
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

// run is the writer goroutine: it takes whatever is queued (up to
// maxBatch) and commits it as one batch, until the queue is closed and
// drained.
func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]*request, 0, maxBatch)
	for r := range w.queue {
		// The sender of r handed it straight to this goroutine; yield once
		// so the callers that are runnable (with GOMAXPROCS=1, all of them)
		// queue their ops too, or every batch would hold one op.
		runtime.Gosched()
		batch = w.drain(append(batch[:0], r))
		w.runBatch(batch)
		clear(batch)
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
// sees the writes of the ops before it. If any op fails, the batch rolls
// back and every op runs again in its own transaction, so only the faulty
// one fails. Answers go out only after the commit.
func (w *writer) runBatch(batch []*request) {
	live := w.dropCanceled(batch)
	if len(live) == 0 {
		return
	}
	err := w.inTx(func() error {
		for _, r := range live {
			if err := r.op.apply(w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(live) > 1 {
		w.fallbacks++
		for _, r := range live {
			reply(r, w.inTx(func() error { return r.op.apply(w) }))
		}
		return
	}
	for _, r := range live {
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

// inTx runs fn in one BEGIN IMMEDIATE transaction. Any failure rolls back
// and empties the cache, which may hold writes that never reached disk.
func (w *writer) inTx(fn func() error) error {
	if _, err := w.stmts.begin.Exec(); err != nil {
		w.rollback()
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(); err != nil {
		w.rollback()
		return err
	}
	if _, err := w.stmts.commit.Exec(); err != nil {
		w.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback ends a failed transaction. Its own error is moot: SQLite may
// have rolled back already (no transaction is active), and the caller
// reports the error that caused it.
func (w *writer) rollback() {
	_, _ = w.stmts.rollback.Exec()
	w.cache.purge()
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

// close stops the writer once the queue is drained, then frees the
// statements and the connection.
func (w *writer) close() error {
	w.stop()
	<-w.stopped
	return errors.Join(w.stmts.close(), w.conn.Close())
}

// pingOp proves the writer is alive and can commit.
type pingOp struct{}

func (pingOp) apply(*writer) error { return nil }
