package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the WAL is copied back into the database
// when the writer does not ask sooner.
//
// SQLite's automatic checkpoint runs inside the commit that crosses 1,000
// WAL pages, fsyncs included, so every few hundred admissions one waited
// milliseconds: the relay's p99. The writer's connection turns it off
// (wal_autocheckpoint=0) and this loop checkpoints from a connection of
// its own instead; a PASSIVE checkpoint runs alongside the writer without
// blocking it.
const checkpointEvery = time.Second

// checkpointer runs PASSIVE checkpoints every checkpointEvery, and at
// once when the writer kicks it (the WAL grows fast: see walGuard), until
// stop is closed.
//
// Alone it cannot bound the WAL under sustained load: the writer appends
// between any two of its checkpoints, so the WAL never starts over. The
// writer's forced RESTART does that (wal.go); this loop copies the bulk of
// the frames beforehand, beside the writer, so that RESTART has little
// left to copy while the writer waits.
type checkpointer struct {
	db    *sql.DB
	kicks chan struct{}
	// walFrames is what the last checkpoint found in the WAL (-1: none
	// since the writer last read it): the truth the writer's own count
	// comes back to (walGuard.check).
	walFrames atomic.Int64
	stop      chan struct{}
	stopOnce  sync.Once
	done      chan struct{}
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, "busy_timeout(10000)"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, kicks: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.walFrames.Store(-1)
	go c.run()
	return c, nil
}

// observedFrames returns, once, the WAL's size in frames as the last
// checkpoint found it; ok is false when no checkpoint ran since.
func (c *checkpointer) observedFrames() (frames int64, ok bool) {
	frames = c.walFrames.Swap(-1)
	return frames, frames >= 0
}

// kick asks for a checkpoint now; it never blocks, and kicks that arrive
// while one is pending make one checkpoint.
func (c *checkpointer) kick() {
	select {
	case c.kicks <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		case <-c.kicks:
		}
		// A failed checkpoint is retried on the next tick; the WAL only
		// grows meanwhile, and every commit in it is durable already.
		// What it found in the WAL is the truth the writer's count comes
		// back to. Not 0 when it copied it all: under load the writer has
		// appended meanwhile, and the WAL does not start over.
		if frames, _, err := c.checkpoint(context.Background()); err == nil && frames >= 0 {
			c.walFrames.Store(int64(frames))
		}
	}
}

// checkpoint copies what it can of the WAL into the database: walFrames
// is the WAL's size in frames, copied how many of them are now in the
// database.
func (c *checkpointer) checkpoint(ctx context.Context) (walFrames, copied int, err error) {
	var busy int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walFrames, &copied)
	return walFrames, copied, err
}

// stopLoop ends the periodic checkpoints (checkpoint still works).
func (c *checkpointer) stopLoop() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}

func (c *checkpointer) close() error {
	c.stopLoop()
	return c.db.Close()
}
