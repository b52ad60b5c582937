package sqlitestore

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// minFreeToRecover is the free space a volume that filled up must have
	// again before Ping reports the store ready: room for thousands of
	// calls, so readiness does not flap on the last few free blocks.
	minFreeToRecover = 1 << 20
	// faultHold is how long Ping reports a storage fault it cannot see the
	// end of (an I/O error, or no free-space figure on this platform):
	// after it, Ping lets calls probe the volume again.
	faultHold = 5 * time.Second
)

// fault remembers that the volume refused a write (full disk, I/O error),
// until a transaction that wrote frames commits again. Every call on the
// store fails meanwhile with ErrUnavailable anyway, through its own
// transaction; fault exists for Ping: readiness must fail, yet a relay
// that receives no traffic while unready must see the volume recover.
// The writer goroutine sets and clears it; Ping reads it.
type fault struct {
	dir  string // the volume of the database, for its free space
	free func(dir string) (int64, bool)
	log  *slog.Logger

	on atomic.Bool // the fast path of clear, on every commit that wrote

	mu   sync.Mutex
	err  error
	full bool // SQLITE_FULL: the volume has no room
	at   time.Time
}

func newFault(dir string, log *slog.Logger) *fault {
	return &fault{dir: dir, free: freeBytes, log: log}
}

// isStorageFault says whether err is the volume failing a write rather
// than an op's own error (a constraint) or a canceled call.
func isStorageFault(err error) (fault, full bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false, false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return true, true
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
		return true, false
	}
	return false, false
}

// note records a failed transaction's error if the volume caused it.
func (f *fault) note(err error) {
	isFault, full := isStorageFault(err)
	if !isFault {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on.Load() {
		f.log.Warn("sqlite store: the volume refuses writes; calls fail with store_unavailable until it recovers",
			"dir", f.dir, "err", err)
	}
	f.err, f.full, f.at = err, full, time.Now()
	f.on.Store(true)
}

// clear ends the fault: a transaction wrote frames and committed.
func (f *fault) clear() {
	if !f.on.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.Info("sqlite store: the volume takes writes again", "dir", f.dir, "down", time.Since(f.at).Round(time.Millisecond))
	f.err = nil
	f.on.Store(false)
}

func (f *fault) active() bool { return f.on.Load() }

// ready is nil unless the last write failed on the volume and it shows no
// sign of recovery: too little free space, or, when that cannot tell
// (another fault, no free-space figure), less than faultHold ago.
func (f *fault) ready() error {
	if !f.on.Load() {
		return nil
	}
	f.mu.Lock()
	err, full, at := f.err, f.full, f.at
	f.mu.Unlock()
	if err == nil {
		return nil
	}
	free, known := f.free(f.dir)
	switch {
	case known && free < minFreeToRecover:
		return fmt.Errorf("last write failed (%w); %d bytes free in %s", err, free, f.dir)
	case known && full:
		return nil // space is back: let calls write
	case time.Since(at) < faultHold:
		return fmt.Errorf("last write failed: %w", err)
	}
	return nil
}
