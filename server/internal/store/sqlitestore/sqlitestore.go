// Package sqlitestore is the embedded default usage store: one SQLite file
// in WAL mode (modernc.org/sqlite, no cgo).
//
// One writer goroutine owns the only write connection and runs every write
// (Admit, Settle, RenewLease, Revoke, Log, Prune) in group-committed
// batches, with the token state cached in its memory; reads go through a
// separate read-only pool. The cache is sound only because no other process
// writes the file, which an exclusive lock on "<path>.lock" enforces.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/relayapi/relayapi/server/internal/store"
)

// readConns is the size of the read pool: admin reads are rare, and WAL
// lets each of them run beside the writer.
const readConns = 4

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

// Open opens (creating if needed) the database at path and locks it for
// this process: a second Open of the same file, here or in another
// process, fails with ErrInUse while this Store is open.
//
// Durability: a write returns only after the COMMIT of its batch (group
// commit). In WAL mode with synchronous=NORMAL a committed call survives a
// crash of the relay process; only an OS crash or power loss may lose the
// last commits.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDatabase(path)
	if err != nil {
		return nil, err
	}
	s, err := open(path)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func open(path string) (*Store, error) {
	ctx := context.Background()
	wdb, err := sql.Open("sqlite", dsn(path, "journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)", "wal_autocheckpoint(0)"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w, err := newWriter(ctx, conn)
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, err
	}
	// Readers open after the writer made the file WAL; query_only makes a
	// stray write through them an error instead of a second writer.
	read, err := sql.Open("sqlite", dsn(path, "busy_timeout(10000)", "query_only(1)"))
	if err != nil {
		w.close()
		wdb.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	ckpt, err := startCheckpointer(path)
	if err != nil {
		read.Close()
		w.close()
		wdb.Close()
		return nil, err
	}
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

// Ping checks that a reader can reach the file and that the writer still
// commits batches.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return unavailable(err)
	}
	return s.w.do(ctx, pingOp{})
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
