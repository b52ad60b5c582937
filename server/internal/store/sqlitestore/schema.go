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
