// Package requestlog writes the per-request log to the store off the
// request path: records are queued and written in batches by one
// goroutine, so a request never waits for the log.
package requestlog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

const (
	queueSize  = 8192
	batchSize  = 256
	flushEvery = 50 * time.Millisecond
)

// Writer batches records into the store.
type Writer struct {
	st      store.Store
	log     *slog.Logger
	queue   chan store.Record
	dropped atomic.Int64
	stop    chan struct{}
	done    sync.WaitGroup
}

// New starts a writer; Close flushes and stops it.
func New(st store.Store, log *slog.Logger) *Writer {
	w := &Writer{st: st, log: log, queue: make(chan store.Record, queueSize), stop: make(chan struct{})}
	w.done.Add(1)
	go w.run()
	return w
}

// Add queues a record. When the queue is full (the store is slower than
// the traffic) the record is dropped and counted rather than slowing
// requests: the log is an audit aid, the counters are the source of truth.
func (w *Writer) Add(r store.Record) {
	select {
	case w.queue <- r:
	default:
		if w.dropped.Add(1)%1000 == 1 {
			w.log.Warn("request log queue full: dropping records", "dropped_total", w.dropped.Load())
		}
	}
}

// Dropped reports how many records were dropped.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Close writes what is queued and stops the writer.
func (w *Writer) Close() {
	close(w.stop)
	w.done.Wait()
}

func (w *Writer) run() {
	defer w.done.Done()
	ticker := time.NewTicker(flushEvery)
	defer ticker.Stop()
	batch := make([]store.Record, 0, batchSize)
	for {
		select {
		case r := <-w.queue:
			batch = append(batch, r)
			if len(batch) >= batchSize {
				batch = w.flush(batch)
			}
		case <-ticker.C:
			batch = w.flush(batch)
		case <-w.stop:
			for {
				select {
				case r := <-w.queue:
					batch = append(batch, r)
				default:
					w.flush(batch)
					return
				}
			}
		}
	}
}

func (w *Writer) flush(batch []store.Record) []store.Record {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.st.Log(ctx, batch); err != nil {
		w.log.Error("request log write failed", "records", len(batch), "err", err)
	}
	return batch[:0]
}
