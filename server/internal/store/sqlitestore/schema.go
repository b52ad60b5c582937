package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version records how many
// ran. Never edit one that has shipped: append a new one.
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
	`ALTER TABLE token_usage ADD COLUMN subject TEXT NOT NULL DEFAULT '';
	ALTER TABLE token_usage ADD COLUMN rpm_tat INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE token_usage ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE token_usage ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE token_usage ADD COLUMN token_budget INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE token_usage ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
	CREATE INDEX token_usage_subject ON token_usage (subject, jti);
	CREATE TABLE leases (
		jti        TEXT NOT NULL,
		lease_id   TEXT NOT NULL,
		expires_at INTEGER NOT NULL,
		reserved   INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (jti, lease_id)
	) WITHOUT ROWID;
	CREATE TABLE subject_usage (
		subject      TEXT NOT NULL,
		window_start INTEGER NOT NULL,
		calls        INTEGER NOT NULL,
		PRIMARY KEY (subject, window_start)
	) WITHOUT ROWID;
	CREATE TABLE request_log (
		id                INTEGER PRIMARY KEY AUTOINCREMENT,
		time              INTEGER NOT NULL,
		request_id        TEXT NOT NULL,
		jti               TEXT NOT NULL,
		subject           TEXT NOT NULL,
		provider          TEXT NOT NULL,
		model             TEXT NOT NULL,
		path              TEXT NOT NULL,
		status            INTEGER NOT NULL,
		latency_us        INTEGER NOT NULL,
		ttfb_us           INTEGER NOT NULL,
		prompt_tokens     INTEGER NOT NULL,
		completion_tokens INTEGER NOT NULL,
		estimated         INTEGER NOT NULL,
		bytes_in          INTEGER NOT NULL,
		bytes_out         INTEGER NOT NULL,
		error_code        TEXT NOT NULL
	);
	CREATE INDEX request_log_jti ON request_log (jti, id);
	CREATE INDEX request_log_time ON request_log (time);`,
	// No query reads request_log through request_log_jti (Requests pages
	// by id and filters on jti), and keeping it was most of the cost of
	// logging a request once many tokens are in use: each batch dirtied
	// one leaf page per token. request_log_time serves Prune.
	`DROP INDEX IF EXISTS request_log_jti;`,
	`ALTER TABLE request_log ADD COLUMN usage_source TEXT NOT NULL DEFAULT '';`,
	// Refunds are bounded per token (store.Settlement.RefundLimit): the
	// count of calls given back is kept with the token.
	`ALTER TABLE token_usage ADD COLUMN refunds INTEGER NOT NULL DEFAULT 0;`,
	// No query reads token_usage through token_usage_subject: Tokens
	// filters on the subject with (? = '' OR subject = ?), which SQLite
	// plans once for both cases, by primary key. Keeping it cost a second
	// page at a random place of the file for every new token, a third of
	// the WAL written per call with many tokens (issue 16).
	`DROP INDEX IF EXISTS token_usage_subject;`,
	// Shared blobs (store.Blobs: the ACME cache with tls.cache "store").
	// A rowid table: values of a few KiB sit in overflow pages, which
	// WITHOUT ROWID tables handle poorly.
	`CREATE TABLE blobs (
		name       TEXT PRIMARY KEY,
		data       BLOB NOT NULL,
		updated_at INTEGER NOT NULL
	);`,
}

// pageSize is the page size of a new database file. With many tokens, most
// of what a batch writes is one page per token it touches, at a random
// place of token_usage (jti keys are random), and a WAL frame is a whole
// page: 1 KiB pages write a quarter of the bytes of SQLite's 4 KiB default
// for the same rows (measured with 100,000 tokens: 10.1 KB of WAL per
// call at 4 KiB, 3.5 KB at 1 KiB). A 1 KiB page keeps up to 230 bytes of
// a token row inline, about 80 bytes plus the subject and last error: a
// subject past about 130 characters takes an overflow page, still less
// than one 4 KiB page.
//
// A file keeps the page size it was created with: changing it takes a
// VACUUM outside WAL mode, a rewrite of the whole file that is not done
// on open (it can take minutes and twice the disk). An older file can be
// converted offline, the relay stopped:
//
//	sqlite3 relayapi.db 'PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM; PRAGMA journal_mode=WAL;'
const pageSize = 1024

// initFile sets the page size of a new file, which must come before WAL
// mode (setting it writes the file's first page), then WAL mode, and
// returns the file's page size.
func initFile(ctx context.Context, conn *sql.Conn) (int64, error) {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return 0, fmt.Errorf("set page size: %w", err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return 0, fmt.Errorf("set WAL mode: %w", err)
	}
	if mode != "wal" {
		return 0, fmt.Errorf("set WAL mode: the file stays in %q mode", mode)
	}
	var size int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, fmt.Errorf("read page size: %w", err)
	}
	return size, nil
}

// migrate applies the pending migrations on the writer's connection, before
// the writer goroutine starts, so no other write can interleave.
func migrate(ctx context.Context, conn *sql.Conn) error {
	var version int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := version; i < len(migrations); i++ {
		if err := migrateOne(ctx, conn, i); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, conn *sql.Conn, i int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
		return err
	}
	return tx.Commit()
}
