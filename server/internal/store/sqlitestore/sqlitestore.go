// Package sqlitestore is the embedded default usage store: one SQLite file
// in WAL mode (modernc.org/sqlite, no cgo).
//
// One writer goroutine owns the only write connection and runs every write
// (Admit, Settle, RenewLease, Revoke, Log, Prune) in group-committed
// batches, with the token state cached in its memory; reads go through a
// separate read-only pool. The cache is sound only because no other process
// writes the file, which an exclusive lock on "<path>.lock" enforces.
//
// The writer keeps the WAL under a ceiling whatever the load (wal.go),
// prunes in small steps between batches (prune.go), and treats a full
// volume as an outage it recovers from by itself (fault.go).
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/relayapi/relayapi/server/internal/store"
)

const (
	// readConns is the size of the read pool: admin reads are rare, and
	// WAL lets each of them run beside the writer.
	readConns = 4
	// writerBusyTimeout bounds the writer's wait for a lock. Nothing else
	// writes the file, so it only waits out a connection's recovery of
	// the WAL index, or an outside tool's checkpoint.
	writerBusyTimeout = 10 * time.Second
)

// Store is a store.Store on SQLite.
type Store struct {
	w    *writer
	wdb  *sql.DB // holds the writer's connection
	read *sql.DB // read-only pool for Usage, Tokens, Requests
	ckpt *checkpointer
	lock *os.File

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Options tune a Store; the zero value is the default.
type Options struct {
	// Logger receives the WAL checkpoints the writer forces (debug) and
	// storage faults (warn); nil discards them.
	Logger *slog.Logger
	// WALRestartBytes is the WAL size past which the writer, between two
	// batches, checkpoints the whole WAL and restarts it from its start
	// (0: DefaultWALRestartBytes). The WAL file stays under
	// WALCeiling(WALRestartBytes).
	WALRestartBytes int64
	// OnCheckpoint, if set, is called by the writer after each checkpoint
	// it forced, with the pause it caused (for metrics). It runs on the
	// writer goroutine: it must return at once.
	OnCheckpoint func(Checkpoint)
}

// Open opens (creating if needed) the database at path with the default
// Options; see OpenOptions.
func Open(path string) (*Store, error) {
	return OpenOptions(path, Options{})
}

// OpenOptions opens (creating if needed) the database at path and locks it
// for this process: a second Open of the same file, here or in another
// process, fails with ErrInUse while this Store is open.
//
// Durability: a write returns only after the COMMIT of its batch (group
// commit). In WAL mode with synchronous=NORMAL a committed call survives a
// crash of the relay process; only an OS crash or power loss may lose the
// last commits.
func OpenOptions(path string, o Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDatabase(path)
	if err != nil {
		return nil, err
	}
	s, err := open(path, o)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func open(path string, o Options) (*Store, error) {
	ctx := context.Background()
	limits := newWALLimits(o.WALRestartBytes)
	// journal_size_limit: once the WAL restarts from its start, its first
	// commit truncates the file to the restart size, so a WAL that grew
	// past it (a long reader held it) gives the space back.
	wdb, err := sql.Open("sqlite", dsn(path, "synchronous(NORMAL)",
		fmt.Sprintf("busy_timeout(%d)", writerBusyTimeout.Milliseconds()), "foreign_keys(1)",
		"wal_autocheckpoint(0)", fmt.Sprintf("journal_size_limit(%d)", limits.restartAt)))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	pageSize, err := initFile(ctx, conn)
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, err
	}
	// The checkpointer connects on its first checkpoint, after the writer
	// made the file WAL; the writer needs its kick.
	ckpt, err := startCheckpointer(path)
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	wal := newWALGuard(limits, pageSize, ckpt.kick, ckpt.observedFrames, logger, o.OnCheckpoint)
	w, err := newWriter(ctx, conn, wal, newFault(filepath.Dir(path), logger))
	if err != nil {
		ckpt.close()
		conn.Close()
		wdb.Close()
		return nil, err
	}
	// Readers open after the writer made the file WAL; query_only makes a
	// stray write through them an error instead of a second writer.
	read, err := sql.Open("sqlite", dsn(path, "busy_timeout(10000)", "query_only(1)"))
	if err != nil {
		ckpt.close()
		w.close()
		wdb.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	return &Store{w: w, wdb: wdb, read: read, ckpt: ckpt}, nil
}

func dsn(path string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	// BeginTx (used by migrations) takes the write lock at BEGIN.
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Ping checks that a reader can reach the file, that the writer still
// commits batches, and that the volume takes writes again if the last
// write failed on it (full disk, I/O error; see fault).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return unavailable(err)
	}
	if err := s.w.do(ctx, pingOp{}); err != nil {
		return err
	}
	return unavailable(s.w.fault.ready())
}

// Stats reports the WAL and the storage fault state, for metrics.
func (s *Store) Stats() Stats {
	st := s.w.wal.stats()
	st.StorageFault = s.w.fault.active()
	return st
}

// Close stops accepting writes, finishes the queued ones, then closes the
// connections (readers first, so the writer's close checkpoints the WAL)
// and releases the lock. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ckptErr := s.ckpt.close()
		readErr := s.read.Close()
		writeErr := s.w.close()
		s.closeErr = errors.Join(ckptErr, readErr, writeErr, s.wdb.Close(), s.lock.Close())
	})
	return s.closeErr
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
}
