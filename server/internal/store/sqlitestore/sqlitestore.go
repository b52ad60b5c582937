// Package sqlitestore is the embedded default usage store: one SQLite file
// in WAL mode (modernc.org/sqlite, no cgo).
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Store is a store.Store on SQLite.
type Store struct {
	db *sql.DB
}

// migrations are applied in order; PRAGMA user_version records how many ran.
var migrations = []string{
	`CREATE TABLE token_usage (
		jti        TEXT PRIMARY KEY,
		calls      INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE revocations (
		jti        TEXT PRIMARY KEY,
		revoked_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	`ALTER TABLE token_usage ADD COLUMN max_calls INTEGER NOT NULL DEFAULT 0;`,
}

// Open opens (creating if needed) the database at path. In WAL mode with
// synchronous=NORMAL a committed call survives a crash of the relay
// process; only an OS crash or power loss may lose the last commits.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One connection: SQLite has one writer anyway, and serialising here
	// avoids SQLITE_BUSY retries under load.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// admitSQL spends one call in a single statement: it inserts the first call,
// or increments while under the limit, and does neither for a revoked token.
// No row returned means the call was refused.
const admitSQL = `
INSERT INTO token_usage (jti, calls, expires_at, first_seen, last_seen, max_calls)
SELECT ?1, 1, ?2, ?3, ?3, ?5 WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE jti = ?1)
ON CONFLICT (jti) DO UPDATE SET calls = calls + 1, last_seen = excluded.last_seen
WHERE token_usage.calls < ?4
RETURNING calls`

func (s *Store) Admit(ctx context.Context, a store.Admission) (store.Decision, error) {
	limit := a.MaxCalls
	if limit <= 0 {
		limit = math.MaxInt64
	}
	var calls int64
	err := s.db.QueryRowContext(ctx, admitSQL, a.TokenID, a.ExpiresAt.Unix(), a.Now.UnixMilli(), limit, a.MaxCalls).Scan(&calls)
	if err == nil {
		return store.Admitted, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, unavailable(err)
	}
	revoked, err := s.isRevoked(ctx, a.TokenID)
	if err != nil {
		return 0, err
	}
	if revoked {
		return store.Revoked, nil
	}
	return store.CallLimitReached, nil
}

func (s *Store) isRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM revocations WHERE jti = ?`, jti).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

func (s *Store) Refund(ctx context.Context, jti string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE token_usage SET calls = calls - 1 WHERE jti = ? AND calls > 0`, jti)
	return unavailable(err)
}

func (s *Store) Revoke(ctx context.Context, jti string, expiresAt time.Time) error {
	exp := int64(0)
	if !expiresAt.IsZero() {
		exp = expiresAt.Unix()
	}
	_, err := s.db.ExecContext(ctx, `
INSERT INTO revocations (jti, revoked_at, expires_at)
VALUES (?1, ?2, COALESCE(NULLIF(?3, 0), (SELECT expires_at FROM token_usage WHERE jti = ?1), 0))
ON CONFLICT (jti) DO NOTHING`, jti, time.Now().UnixMilli(), exp)
	return unavailable(err)
}

func (s *Store) Usage(ctx context.Context, jti string) (store.Usage, bool, error) {
	u := store.Usage{TokenID: jti}
	var first, last int64
	err := s.db.QueryRowContext(ctx, `SELECT calls, max_calls, first_seen, last_seen FROM token_usage WHERE jti = ?`, jti).Scan(&u.Calls, &u.MaxCalls, &first, &last)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return u, false, unavailable(err)
	}
	if found {
		u.FirstSeen, u.LastSeen = time.UnixMilli(first), time.UnixMilli(last)
	}
	revoked, err := s.isRevoked(ctx, jti)
	if err != nil {
		return u, false, err
	}
	u.Revoked = revoked
	return u, found || revoked, nil
}

func (s *Store) Ping(ctx context.Context) error {
	return unavailable(s.db.PingContext(ctx))
}

func (s *Store) Close() error { return s.db.Close() }

func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
}
