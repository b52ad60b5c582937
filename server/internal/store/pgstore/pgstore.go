// Package pgstore is the PostgreSQL usage store: durable counters, leases,
// revocations and the request log, shared by every relay instance that
// points at the same database.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Options configures Open.
type Options struct {
	// URL is a libpq-style URL: postgres://user:pass@host:5432/relayapi.
	URL string
	// PoolSize caps open connections per relay (0: pgxpool's default,
	// max(4, GOMAXPROCS)).
	PoolSize int
	// Timeout bounds each store operation, including waiting for a pooled
	// connection or a token's lock (default 5s).
	Timeout time.Duration
}

const defaultTimeout = 5 * time.Second

// Store is a store.Store on PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

var _ store.Store = (*Store)(nil)

// Open connects and applies pending schema migrations; several relays may
// Open the same database at once.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		// Not ErrUnavailable: a bad URL is a configuration error.
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.PoolSize > 0 {
		cfg.MaxConns = int32(o.PoolSize)
	}
	cfg.ConnConfig.ConnectTimeout = o.Timeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unavailable(err)
	}
	s := &Store{pool: pool, timeout: o.Timeout}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// op bounds one operation so a stalled database answers store_unavailable
// instead of holding the request.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// txOptions pins READ COMMITTED whatever the server's default: each
// statement then reads what committed before it started, so state loaded
// after taking a token's lock is current. Under REPEATABLE READ or
// SERIALIZABLE the snapshot would predate the lock wait, and queued
// admissions would fail with serialization errors instead of proceeding.
func txOptions() pgx.TxOptions { return pgx.TxOptions{IsoLevel: pgx.ReadCommitted} }

// inTx runs fn in one transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tx, err := s.begin(ctx)
	if err != nil {
		return s.fail(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // on a dead or timed-out connection pgx closes it; the server rolls back
		return s.fail(err)
	}
	return s.fail(tx.Commit(ctx))
}

// begin starts a transaction. A pooled connection that died with the
// server (restart, failover) fails right here, before anything ran, so one
// retry on a fresh connection is safe, and the other dead ones go too.
func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, txOptions())
	if err == nil || ctx.Err() != nil {
		return tx, err
	}
	s.pool.Reset()
	return s.pool.BeginTx(ctx, txOptions())
}

// fail wraps err as ErrUnavailable and, when the connection (not the
// statement) failed, drops every pooled connection: they most likely died
// together, and each would otherwise fail one more request.
func (s *Store) fail(err error) error {
	if err == nil {
		return nil
	}
	if connLost(err) {
		s.pool.Reset()
	}
	return unavailable(err)
}

func connLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P: shutdown or start-up in progress.
		return pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC" ||
			strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.fail(s.pool.Ping(ctx))
}

func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
