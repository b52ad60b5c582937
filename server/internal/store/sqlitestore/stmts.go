package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts are the writer's statements, prepared once on its connection:
// parsing SQL text for every statement was a fifth of the relay's CPU.
type stmts struct {
	begin, commit, rollback *sql.Stmt

	loadUsage, loadRevoked, loadLeases, loadSubject *sql.Stmt

	expireLeases, chargeExpired *sql.Stmt
	upsertUsage, insertLease    *sql.Stmt
	upsertSubject               *sql.Stmt
	deleteLease, settleUsage    *sql.Stmt
	renewLease, revoke          *sql.Stmt
	insertLog                   *sql.Stmt

	all []*sql.Stmt
}

func prepare(ctx context.Context, conn *sql.Conn) (*stmts, error) {
	s := &stmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.begin, `BEGIN IMMEDIATE`},
		{&s.commit, `COMMIT`},
		{&s.rollback, `ROLLBACK`},
		{&s.loadUsage, `SELECT calls, rpm_tat, prompt_tokens + completion_tokens FROM token_usage WHERE jti = ?`},
		{&s.loadRevoked, `SELECT EXISTS (SELECT 1 FROM revocations WHERE jti = ?)`},
		{&s.loadLeases, `SELECT lease_id, expires_at, reserved FROM leases WHERE jti = ?`},
		{&s.loadSubject, `SELECT calls FROM subject_usage WHERE subject = ? AND window_start = ?`},
		{&s.expireLeases, `DELETE FROM leases WHERE jti = ? AND expires_at <= ?`},
		{&s.chargeExpired, `UPDATE token_usage SET completion_tokens = completion_tokens + ?, last_error = 'lease_expired' WHERE jti = ?`},
		{&s.upsertUsage, `
INSERT INTO token_usage (jti, calls, expires_at, first_seen, last_seen, max_calls, subject, rpm_tat, token_budget)
VALUES (?1, 1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (jti) DO UPDATE SET calls = calls + 1, last_seen = ?3, rpm_tat = ?6,
	max_calls = ?4, token_budget = ?7`},
		{&s.insertLease, `INSERT INTO leases (jti, lease_id, expires_at, reserved) VALUES (?, ?, ?, ?)`},
		{&s.upsertSubject, `
INSERT INTO subject_usage (subject, window_start, calls) VALUES (?, ?, 1)
ON CONFLICT (subject, window_start) DO UPDATE SET calls = calls + 1`},
		{&s.deleteLease, `DELETE FROM leases WHERE jti = ? AND lease_id = ?`},
		{&s.settleUsage, `
UPDATE token_usage SET prompt_tokens = prompt_tokens + ?1, completion_tokens = completion_tokens + ?2,
	calls = MAX(calls - ?3, 0), last_error = CASE WHEN ?4 = '' THEN last_error ELSE ?4 END
WHERE jti = ?5`},
		{&s.renewLease, `UPDATE leases SET expires_at = ? WHERE jti = ? AND lease_id = ? AND expires_at > ?`},
		{&s.revoke, `
INSERT INTO revocations (jti, revoked_at, expires_at)
VALUES (?1, ?2, COALESCE((SELECT expires_at FROM token_usage WHERE jti = ?1), 0))
ON CONFLICT (jti) DO NOTHING`},
		{&s.insertLog, `INSERT INTO request_log (time, request_id, jti, subject, provider, model,
	path, status, latency_us, ttfb_us, prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
	} {
		stmt, err := conn.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.dst = stmt
		s.all = append(s.all, stmt)
	}
	return s, nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range s.all {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
