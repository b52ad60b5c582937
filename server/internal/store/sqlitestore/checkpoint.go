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
	// appended counts the frames the writer appended, as it reports them
	// after each batch (walGuard.check).
	appended atomic.Int64
	// seen is what the last checkpoint found in the WAL, ok false once the
	// writer read it: with the frames appended since, the truth the
	// writer's own count comes back to.
	mu       sync.Mutex
	seen     walObservation
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, "busy_timeout(10000)"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, kicks: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// walObservation is the WAL's size in frames as a checkpoint found it,
// and the writer's count of appended frames when that checkpoint began:
// every batch the writer reported before is in frames, every batch after
// may not be.
type walObservation struct {
	frames, appendedBefore int64
	ok                     bool
}

// observedFrames takes the frames the writer's last batch appended and
// returns, once per checkpoint, an upper bound of the WAL's size in
// frames: what the last checkpoint found plus what the writer appended
// since it began. ok is false when no checkpoint ran since the last call.
//
// Without the frames appended since, a checkpoint that read the WAL
// before a batch and reported after it made the writer count that batch
// out (a WAL 16 frames larger than counted, under a loaded CI).
func (c *checkpointer) observedFrames(batch int64) (bound int64, ok bool) {
	appended := c.appended.Add(batch)
	c.mu.Lock()
	o := c.seen
	c.seen.ok = false
	c.mu.Unlock()
	if !o.ok {
		return 0, false
	}
	return o.frames + appended - o.appendedBefore, true
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
		before := c.appended.Load()
		if frames, _, err := c.checkpoint(context.Background()); err == nil && frames >= 0 {
			c.record(int64(frames), before)
		}
	}
}

// record keeps what a checkpoint found in the WAL, with the writer's count
// of appended frames read before the checkpoint began.
func (c *checkpointer) record(frames, appendedBefore int64) {
	c.mu.Lock()
	c.seen = walObservation{frames: frames, appendedBefore: appendedBefore, ok: true}
	c.mu.Unlock()
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
