package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Why the WAL needs a bound: a checkpoint copies WAL frames into the
// database file, but only a writer that starts a transaction while every
// frame is copied restarts the WAL from its start. Under sustained load
// the writer appends between any two PASSIVE checkpoints, so that moment
// never comes and the file grows without end (issue 16: 3.2 GiB in a
// minute with many tokens, never given back).
//
// So the writer, the only one that appends, counts the frames it appended
// since the WAL last started over and acts in two steps:
//
//   - past half restartAt it asks the background checkpointer for a
//     PASSIVE checkpoint now, which copies the bulk of the frames (and
//     fsyncs) beside the writer, without stopping it;
//   - past restartAt it runs a RESTART checkpoint itself, between two
//     batches. Nothing appends meanwhile (the writer is the one
//     appending), so it copies only what the background checkpoint has
//     not yet, waits for readers still on old frames (at most
//     checkpointReaderWait) and the next commit starts the WAL over.
//
// The writer pauses for that RESTART alone; Checkpoint reports the pause.
// The WAL file keeps its size when the WAL starts over (overwriting is
// cheaper than growing a file, fsyncs included); journal_size_limit trims
// it back to restartAt when it grew past it.

const (
	// DefaultWALRestartBytes is the WAL size at which the writer forces a
	// checkpoint that restarts the WAL.
	DefaultWALRestartBytes = 16 << 20
	// walCeilingFactor: the WAL file stays under this many times the
	// restart size. The margin covers what is appended while a RESTART
	// waits for its turn (a background checkpoint holds the checkpoint
	// lock, or readers hold old snapshots, see checkpointRetry).
	walCeilingFactor = 4
	// walHeader is the size of the WAL file's header, walFrameHeader that
	// of each frame's, before the page.
	walHeader, walFrameHeader = 32, 24
	// checkpointReaderWait bounds how long a forced checkpoint waits for
	// readers that still read old WAL frames (admin queries take
	// milliseconds). It is the checkpoint's busy_timeout.
	checkpointReaderWait = 50 * time.Millisecond
	// checkpointRetry spaces forced checkpoints that readers kept from
	// finishing or that failed (a full disk), so a long reader costs the
	// writer one checkpointReaderWait per interval, not one per batch.
	checkpointRetry = 250 * time.Millisecond
	// ceilingWarnEvery rate-limits the warnings of a WAL past its ceiling
	// and of failed checkpoints.
	ceilingWarnEvery = time.Minute
	// kickEvery spaces the writer's calls for a background checkpoint:
	// each one fsyncs the database and the WAL, and a writer calling for
	// one after every batch would keep the disk syncing without end.
	kickEvery = 250 * time.Millisecond
)

// WALCeiling is the size the WAL file stays under with the given
// Options.WALRestartBytes (0: the default), as long as no reader holds one
// snapshot for more than about a second under full write load.
func WALCeiling(restartBytes int64) int64 {
	return newWALLimits(restartBytes).ceiling
}

// walLimits are the WAL sizes the writer acts on.
type walLimits struct {
	kickAt    int64 // the writer asks for a background checkpoint past it
	restartAt int64 // the writer forces a RESTART checkpoint past it; journal_size_limit
	ceiling   int64 // documented bound of the file
}

func newWALLimits(restartBytes int64) walLimits {
	if restartBytes <= 0 {
		restartBytes = DefaultWALRestartBytes
	}
	return walLimits{kickAt: restartBytes / 2, restartAt: restartBytes, ceiling: walCeilingFactor * restartBytes}
}

// Checkpoint is one checkpoint the writer forced between two batches.
type Checkpoint struct {
	// Pause is how long the writer stopped for it.
	Pause time.Duration
	// WALBytes is the size of the WAL file that called for it.
	WALBytes int64
	// Restarted is false when readers kept it from finishing or it failed
	// (Err): it is tried again checkpointRetry later.
	Restarted bool
	Err       error
}

// Stats are the store's WAL counters, for metrics.
type Stats struct {
	// WALBytes bounds the WAL's frames in use from above: what the writer
	// appended since it last restarted the WAL. The file may be larger,
	// up to the restart size, which it keeps for reuse.
	WALBytes int64
	// Checkpoints counts the checkpoints the writer forced, Busy those
	// readers kept from finishing and Failed those that returned an error
	// (both are retried). An attempt that found the background checkpoint
	// running did nothing and is not counted.
	Checkpoints, CheckpointsBusy, CheckpointsFailed int64
	// CheckpointPauseTotal and CheckpointPauseMax sum and bound the pauses
	// they caused the writer.
	CheckpointPauseTotal, CheckpointPauseMax time.Duration
	// StorageFault is true while the last write failed on the volume (full
	// disk, I/O error) and no write succeeded since.
	StorageFault bool
}

// walGuard keeps the WAL under its ceiling. The writer goroutine runs
// check; stats may be read from any goroutine.
type walGuard struct {
	limits    walLimits
	frameSize int64
	kick      func() // asks the background checkpointer for a checkpoint now
	// observed takes a batch's frames and returns, once per background
	// checkpoint, an upper bound of the WAL's size in frames from what
	// that checkpoint found (checkpointer.observedFrames).
	observed func(batch int64) (bound int64, ok bool)
	log      *slog.Logger
	observe  func(Checkpoint)

	// Writer goroutine only.
	frames     int64     // appended since the WAL last started over (an upper bound)
	kickedAt   time.Time // the last call for a background checkpoint
	retryAt    time.Time // after a forced checkpoint that could not finish
	warnings   rateLimit // of a WAL past its ceiling, of failed checkpoints
	checkpoint func() (lockBusy, readersBusy bool, err error)

	walBytes atomic.Int64
	mu       sync.Mutex
	st       Stats // but WALBytes
}

func newWALGuard(limits walLimits, pageSize int64, kick func(), observed func(int64) (int64, bool), log *slog.Logger, observe func(Checkpoint)) *walGuard {
	return &walGuard{limits: limits, frameSize: pageSize + walFrameHeader, kick: kick, observed: observed, log: log, observe: observe}
}

// countExisting starts the count with the frames the WAL already holds
// when the writer starts: the migrations', or those of a process that did
// not close cleanly. Uncounted, they would let the WAL pass the restart
// size by that much unseen. The PASSIVE checkpoint that reports them also
// copies them back, so the writer's first commit may start the WAL over:
// the count is an upper bound, as always.
func (g *walGuard) countExisting(ctx context.Context, conn *sql.Conn) error {
	var busy, frames, copied int64
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("read the WAL's size: %w", err)
	}
	g.frames = max(frames, 0)
	g.walBytes.Store(walHeader + g.frames*g.frameSize)
	return nil
}

// check runs after each batch, which appended frames to the WAL: past
// kickAt it asks for a background checkpoint, past restartAt it forces
// one that restarts the WAL.
//
// frames counts every frame since the WAL last started over, as an upper
// bound: when a background checkpoint catches up in a lull, the writer's
// next transaction starts the WAL over without telling. So the count
// comes back to what the last background checkpoint found in the WAL
// (plus the batches since it began) whenever that is less:
// a count running ahead would call for checkpoints that have nothing to
// do, and each fsyncs (2,972 fsyncs in 8 s with one token before this).
func (g *walGuard) check(frames int64) {
	g.frames += frames
	if bound, ok := g.observed(frames); ok {
		g.frames = min(g.frames, bound)
	}
	size := walHeader + g.frames*g.frameSize
	g.walBytes.Store(size)
	now := time.Now()
	if size > g.limits.ceiling && g.warnings.allow(now) {
		g.log.Warn("sqlite WAL past its ceiling: a reader holds an old snapshot, or checkpoints fail",
			"wal_bytes", size, "ceiling", g.limits.ceiling)
	}
	switch {
	case size <= g.limits.kickAt:
	case size <= g.limits.restartAt:
		if now.Sub(g.kickedAt) >= kickEvery {
			g.kickedAt = now
			g.kick()
		}
	case now.After(g.retryAt):
		g.force(size)
	}
}

// force runs a RESTART checkpoint and accounts for it.
func (g *walGuard) force(size int64) {
	start := time.Now()
	lockBusy, readersBusy, err := g.checkpoint()
	if lockBusy && err == nil {
		// The background checkpoint is copying: nothing was done or waited
		// for, and the next batch tries again with less left to copy.
		return
	}
	c := Checkpoint{Pause: time.Since(start), WALBytes: size, Restarted: err == nil && !readersBusy, Err: err}
	if c.Restarted {
		g.frames = 0 // the next commit starts the WAL over
	} else {
		g.retryAt = start.Add(checkpointRetry)
	}
	g.account(c)
	switch {
	case err != nil && g.warnings.allow(start):
		g.log.Warn("sqlite WAL checkpoint failed; retrying", "wal_bytes", size, "err", err)
	case err == nil:
		g.log.Debug("sqlite WAL checkpoint forced", "wal_bytes", size, "pause", c.Pause,
			"restarted", c.Restarted, "readers_busy", readersBusy)
	}
	if g.observe != nil {
		g.observe(c)
	}
}

func (g *walGuard) account(c Checkpoint) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.st.Checkpoints++
	if c.Err != nil {
		g.st.CheckpointsFailed++
	} else if !c.Restarted {
		g.st.CheckpointsBusy++
	}
	g.st.CheckpointPauseTotal += c.Pause
	g.st.CheckpointPauseMax = max(g.st.CheckpointPauseMax, c.Pause)
}

// rateLimit lets a warning through once per ceilingWarnEvery, so a state
// that lasts (a full disk) does not flood the log.
type rateLimit struct{ last time.Time }

func (r *rateLimit) allow(now time.Time) bool {
	if !r.last.IsZero() && now.Sub(r.last) < ceilingWarnEvery {
		return false
	}
	r.last = now
	return true
}

func (g *walGuard) stats() Stats {
	g.mu.Lock()
	st := g.st
	g.mu.Unlock()
	st.WALBytes = g.walBytes.Load()
	return st
}

// restartWAL is walGuard.checkpoint: a RESTART checkpoint on the writer's
// connection, between transactions, with the wait for readers bounded.
// lockBusy: another connection is checkpointing (SQLite then does not
// wait); readersBusy: readers kept it from copying or restarting it all.
func (w *writer) restartWAL() (lockBusy, readersBusy bool, err error) {
	if err := w.stmts.shortWait.exec(); err != nil {
		return false, false, fmt.Errorf("set checkpoint busy timeout: %w", err)
	}
	var busy, logFrames, copied int64
	_, err = w.stmts.restartWAL.row(nil, &busy, &logFrames, &copied)
	if werr := w.stmts.longWait.exec(); werr != nil && err == nil {
		err = fmt.Errorf("restore busy timeout: %w", werr)
	}
	if err != nil {
		return false, false, fmt.Errorf("wal checkpoint: %w", err)
	}
	if busy == 0 {
		return false, false, nil
	}
	// SQLITE_BUSY before any work (another checkpointer holds the lock)
	// reports -1 frames.
	return logFrames < 0, logFrames >= 0, nil
}
