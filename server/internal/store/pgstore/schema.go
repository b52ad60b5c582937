package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each recorded in
// relayapi_schema_migrations. Never edit one that has shipped: append.
//
// Identifiers are COLLATE "C" so listing order and cursors compare bytes,
// as on the other backends, whatever the database's locale. Times the
// operator may query are timestamptz; rpm_tat stays in Unix ms because
// store.Decide computes in ms.
var migrations = []string{
	`CREATE TABLE relayapi_tokens (
		jti               text COLLATE "C" PRIMARY KEY,
		subject           text COLLATE "C" NOT NULL DEFAULT '',
		calls             bigint NOT NULL,
		max_calls         bigint NOT NULL DEFAULT 0,
		token_budget      bigint NOT NULL DEFAULT 0,
		prompt_tokens     bigint NOT NULL DEFAULT 0,
		completion_tokens bigint NOT NULL DEFAULT 0,
		rpm_tat           bigint NOT NULL DEFAULT 0,
		last_error        text NOT NULL DEFAULT '',
		expires_at        timestamptz NOT NULL,
		first_seen        timestamptz NOT NULL,
		last_seen         timestamptz NOT NULL
	);
	CREATE INDEX relayapi_tokens_subject ON relayapi_tokens (subject, jti);
	CREATE INDEX relayapi_tokens_expires ON relayapi_tokens (expires_at);
	-- expires_at is NULL for a token revoked before it was ever seen:
	-- its expiry is unknown, so the revocation is kept.
	CREATE TABLE relayapi_revocations (
		jti        text COLLATE "C" PRIMARY KEY,
		revoked_at timestamptz NOT NULL,
		expires_at timestamptz
	);
	CREATE TABLE relayapi_leases (
		jti        text COLLATE "C" NOT NULL,
		lease_id   text COLLATE "C" NOT NULL,
		expires_at timestamptz NOT NULL,
		reserved   bigint NOT NULL DEFAULT 0,
		PRIMARY KEY (jti, lease_id)
	);
	CREATE TABLE relayapi_subject_windows (
		subject      text COLLATE "C" NOT NULL,
		window_start timestamptz NOT NULL,
		calls        bigint NOT NULL,
		PRIMARY KEY (subject, window_start)
	);
	CREATE TABLE relayapi_request_log (
		id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		time              timestamptz NOT NULL,
		request_id        text NOT NULL,
		jti               text COLLATE "C" NOT NULL,
		subject           text NOT NULL,
		provider          text NOT NULL,
		model             text NOT NULL,
		path              text NOT NULL,
		status            integer NOT NULL,
		latency_us        bigint NOT NULL,
		ttfb_us           bigint NOT NULL,
		prompt_tokens     bigint NOT NULL,
		completion_tokens bigint NOT NULL,
		estimated         boolean NOT NULL,
		bytes_in          bigint NOT NULL,
		bytes_out         bigint NOT NULL,
		error_code        text NOT NULL
	);
	CREATE INDEX relayapi_request_log_jti ON relayapi_request_log (jti, id);
	CREATE INDEX relayapi_request_log_time ON relayapi_request_log (time);`,
	`ALTER TABLE relayapi_request_log ADD COLUMN usage_source text NOT NULL DEFAULT '';`,
	// Refunds are bounded per token (store.Settlement.RefundLimit).
	`ALTER TABLE relayapi_tokens ADD COLUMN refunds bigint NOT NULL DEFAULT 0;`,
	// Every call updates its token's row twice (admission, settlement) and
	// adds and deletes a lease. Room on each page lets those updates stay
	// on the page (HOT: no indexed column changes), so the three indexes
	// of relayapi_tokens do not grow with every call; vacuuming the
	// churning tables at 2% of dead rows, not 20%, keeps their bloat small
	// with many live tokens (issue 16). Applies to pages written from now.
	`ALTER TABLE relayapi_tokens SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
	ALTER TABLE relayapi_leases SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);
	ALTER TABLE relayapi_subject_windows SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02);`,
	// Shared blobs (store.Blobs): the ACME account key and certificates
	// of tls.cache "store", read by every relay on the database.
	`CREATE TABLE relayapi_blobs (
		name       text COLLATE "C" PRIMARY KEY,
		data       bytea NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now()
	);`,
}

// migrationLock is the advisory lock key ("relayapi" in ASCII) that
// serialises migrations across relays starting at once.
const migrationLock int64 = 0x72656c6179617069

// migrateTimeout bounds start-up: a migration may wait for another
// instance's, but a hung database must not hang the relay forever.
const migrateTimeout = time.Minute

// migrate applies pending migrations in one transaction under a
// transaction-level advisory lock: a second instance waits, then finds
// them applied. The lock comes before CREATE TABLE IF NOT EXISTS, which
// is not itself safe against a concurrent twin. DDL is transactional in
// PostgreSQL, so a failed migration leaves nothing half-applied. A
// database newer than this binary (rolling upgrade) is accepted.
func (s *Store) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	err := pgx.BeginTxFunc(ctx, s.pool, txOptions(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS relayapi_schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM relayapi_schema_migrations`).Scan(&version); err != nil {
			return err
		}
		for i := version; i < len(migrations); i++ {
			if err := apply(ctx, tx, i+1, migrations[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres schema migration: %w", unavailable(err))
	}
	return nil
}

func apply(ctx context.Context, tx pgx.Tx, version int, sql string) error {
	// Without arguments pgx uses the simple protocol, which runs a
	// multi-statement script.
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("migration %d: %w", version, err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO relayapi_schema_migrations (version) VALUES ($1)`, version)
	return err
}
