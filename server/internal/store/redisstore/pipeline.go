package redisstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Automatic pipelining: the hot scripts (admit, settle, renew, subject)
// are not sent one per round trip. Callers queue calls; a few workers each
// take whatever is queued and send it as one pipeline, so at saturation
// one write, one read and one pool checkout (with its health-check peek)
// serve many calls. There is no timer: while a pipeline is in flight the
// next calls queue up, so batches grow with load and a lone call goes out
// at once.
//
// Every call keeps its own script and keys (so on a Cluster each still
// goes to its slot's node) and its own reply or error: a failing script
// does not fail its neighbours. A transport failure fails the calls of
// that pipeline, which go-redis never replays (MaxRetries is off, see
// configure): a script is not idempotent.
const (
	// pipelineWorkers lets one pipeline be written or parsed while another
	// is in flight; more would only split batches.
	pipelineWorkers = 2
	// maxBatch bounds one pipeline (its write buffer and reply parsing).
	maxBatch = 256
	// queueLen bounds waiting calls; beyond it callers block (backpressure).
	queueLen = 4 * maxBatch
)

var (
	errClosed = errors.New("store closed")
	// errQueued answers a call that waited a whole timeout in the queue,
	// unsent: Redis is too slow or gone, and the caller must not wait more.
	errQueued = errors.New("queued longer than the store timeout (not sent)")
)

type pipeliner struct {
	rdb redis.UniversalClient
	// timeout bounds a call's wait in the queue, and each pipeline's round
	// trip; so a call is answered within twice the timeout at worst.
	timeout time.Duration
	queue   chan *call

	// mu orders enqueue against close: nothing is queued once the queue
	// is closed, so the workers' final drain answers every queued call.
	mu      sync.RWMutex
	closed  bool
	workers sync.WaitGroup

	// testHookSend, when set, runs in a worker before it sends a batch.
	testHookSend func(batch []*call)
}

func newPipeliner(rdb redis.UniversalClient, timeout time.Duration) *pipeliner {
	p := &pipeliner{rdb: rdb, timeout: timeout, queue: make(chan *call, queueLen)}
	p.workers.Add(pipelineWorkers)
	for range pipelineWorkers {
		go p.run()
	}
	return p
}

// do queues c and waits for its answer, even if c's ctx ends meanwhile: a
// call not yet sent is then answered with the ctx's error when its turn
// comes, and a sent one with its reply, since a granted admission nobody
// hears of would spend a call and hold a lease until it lapses. The
// timeout bounds the wait instead.
func (p *pipeliner) do(c *call) error {
	if err := p.enqueue(c); err != nil {
		return err
	}
	<-c.done
	return c.err
}

func (p *pipeliner) enqueue(c *call) error {
	c.deadline = time.Now().Add(p.timeout)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errClosed
	}
	p.queue <- c
	return nil
}

// close stops taking calls, then waits until every queued call is sent
// and answered.
func (p *pipeliner) close() {
	p.stop()
	p.workers.Wait()
}

func (p *pipeliner) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
}

// worker is one sender's reusable state.
type worker struct {
	*pipeliner
	batch []*call
	cmds  []redis.Cmder
	// pipe is reused: Exec empties it.
	pipe redis.Pipeliner
}

func (p *pipeliner) run() {
	defer p.workers.Done()
	w := worker{
		pipeliner: p,
		batch:     make([]*call, 0, maxBatch),
		cmds:      make([]redis.Cmder, 0, maxBatch),
		pipe:      p.rdb.Pipeline(),
	}
	for c := range p.queue {
		w.batch = p.fill(append(w.batch[:0], c))
		if p.testHookSend != nil {
			p.testHookSend(w.batch)
		}
		w.send(w.batch)
		clear(w.batch) // answered calls belong to their callers again
	}
}

// fill adds what is already queued, without waiting for more.
func (p *pipeliner) fill(batch []*call) []*call {
	for len(batch) < maxBatch {
		select {
		case c, ok := <-p.queue:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// send runs one batch and answers each of its calls.
func (w *worker) send(batch []*call) {
	live := sendable(batch)
	if len(live) == 0 {
		return
	}
	// The timeout bounds the whole round trip (dial, write, read: the
	// client has ContextTimeoutEnabled), so a dead or silent Redis fails
	// the batch fast. It is the full timeout, not what is left of the
	// oldest call's: a pipeline cut short may have run its scripts, and
	// after one slow batch every next one would be cut short too.
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	w.exec(ctx, live, false)
	if retry := needEval(live); len(retry) > 0 {
		w.exec(ctx, retry, true)
	}
	for _, c := range live {
		c.answer(c.cmd.Err())
	}
}

// sendable answers the calls that must not be sent (their caller gave up,
// or they waited a whole timeout: Redis is too slow or gone) and returns
// the others, compacted in place.
func sendable(batch []*call) []*call {
	now := time.Now()
	live := batch[:0]
	for _, c := range batch {
		switch {
		case c.ctx.Err() != nil:
			c.answer(c.ctx.Err())
		case !now.Before(c.deadline):
			c.answer(errQueued)
		default:
			live = append(live, c)
		}
	}
	return live
}

// exec sends calls as one pipeline. Each command carries its own reply or
// error, including transport errors, which go-redis sets on every command
// it could not read; so Exec's summary error is not needed.
func (w *worker) exec(ctx context.Context, calls []*call, eval bool) {
	w.cmds = w.cmds[:0]
	for _, c := range calls {
		w.cmds = append(w.cmds, c.build(ctx, eval))
	}
	_ = w.pipe.BatchProcess(ctx, w.cmds...)
	_, _ = w.pipe.Exec(ctx)
	clear(w.cmds) // each call holds its own command
}

// needEval picks the calls Redis refused with NOSCRIPT, to resend with
// EVAL. It is rare (the cache was emptied), so it may allocate.
func needEval(calls []*call) []*call {
	var retry []*call
	for _, c := range calls {
		if c.noScript() {
			retry = append(retry, c)
		}
	}
	return retry
}
