package sqlitestore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// maxRowsPerStmt bounds a multi-row statement (see rowsStmt): binding and
// running a statement costs about as much as the B-tree work of a short
// row, and AUTOINCREMENT reads and writes sqlite_sequence once per
// statement. Beyond 32 rows a request-log INSERT gains little; 17 columns
// × 32 rows stays far below SQLite's parameter limit.
const maxRowsPerStmt = 32

// rowsStmt writes any number of rows with statements prepared for 1, 2,
// 4 … maxRowsPerStmt rows: full chunks, then at most one statement per
// smaller size.
type rowsStmt struct {
	width  int        // parameters per row
	bySize []*rawStmt // bySize[k] writes 1<<k rows
}

// exec writes the rows whose parameters args holds, width per row.
func (r *rowsStmt) exec(args []driver.Value) error {
	for k := len(r.bySize) - 1; k >= 0; k-- {
		n := r.width << k
		for len(args) >= n {
			if err := r.bySize[k].exec(args[:n]...); err != nil {
				return err
			}
			args = args[n:]
		}
	}
	return nil
}

// rowsSQL is head, then rows copies of row joined by sep.
func rowsSQL(head, row, sep string, rows int) string {
	return head + strings.Repeat(row+sep, rows-1) + row
}

// stmts are the writer's statements, prepared once on its connection:
// parsing SQL text for every statement was a fifth of the relay's CPU.
type stmts struct {
	begin, commit, rollback *rawStmt

	loadUsage, loadRevoked, loadLeases, loadSubject *rawStmt

	insertUsage, updateUsage     *rawStmt
	insertSubject, updateSubject *rawStmt
	renewLease                   *rawStmt
	revoke                       *rawStmt
	putBlob, deleteBlob          *rawStmt

	insertLeases, deleteLeases, insertLogs rowsStmt

	pruneLog                                  *rawStmt
	scanTokens, scanRevocations, scanSubjects *rawStmt
	deleteToken, deleteTokenLeases            *rawStmt
	deleteRevocation, deleteSubject           *rawStmt
	shortWait, longWait, restartWAL           *rawStmt

	all []*rawStmt
}

func prepare(c driver.Conn) (*stmts, error) {
	s := &stmts{}
	for _, p := range []struct {
		dst **rawStmt
		sql string
	}{
		{&s.begin, `BEGIN IMMEDIATE`},
		{&s.commit, `COMMIT`},
		{&s.rollback, `ROLLBACK`},
		{&s.loadUsage, `SELECT calls, rpm_tat, prompt_tokens, completion_tokens, expires_at, first_seen, last_seen,
	max_calls, token_budget, subject, last_error, refunds FROM token_usage WHERE jti = ?`},
		{&s.loadRevoked, `SELECT EXISTS (SELECT 1 FROM revocations WHERE jti = ?)`},
		{&s.loadLeases, `SELECT lease_id, expires_at, reserved FROM leases WHERE jti = ?`},
		{&s.loadSubject, `SELECT calls FROM subject_usage WHERE subject = ? AND window_start = ?`},
		// A token's row is written once per batch, with the state the
		// batch's ops left in the cache (see flush.go).
		{&s.insertUsage, `INSERT INTO token_usage (jti, calls, expires_at, first_seen, last_seen, max_calls, subject,
	rpm_tat, prompt_tokens, completion_tokens, token_budget, last_error, refunds)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		// jti, subject, expires_at and first_seen never change once inserted.
		{&s.updateUsage, `UPDATE token_usage SET calls = ?, last_seen = ?, max_calls = ?, rpm_tat = ?,
	prompt_tokens = ?, completion_tokens = ?, token_budget = ?, last_error = ?, refunds = ? WHERE jti = ?`},
		{&s.insertSubject, `INSERT INTO subject_usage (subject, window_start, calls) VALUES (?, ?, ?)`},
		{&s.updateSubject, `UPDATE subject_usage SET calls = ? WHERE subject = ? AND window_start = ?`},
		{&s.renewLease, `UPDATE leases SET expires_at = ?, reserved = ? WHERE jti = ? AND lease_id = ?`},
		{&s.revoke, `
INSERT INTO revocations (jti, revoked_at, expires_at)
VALUES (?, ?, COALESCE((SELECT expires_at FROM token_usage WHERE jti = ?), 0))
ON CONFLICT (jti) DO NOTHING`},
		{&s.putBlob, `INSERT INTO blobs (name, data, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`},
		{&s.deleteBlob, `DELETE FROM blobs WHERE name = ?`},
		// Pruning goes in steps of at most pruneChunk rows (see prune.go):
		// the oldest log lines by request_log_time, and the other tables
		// scanned in key order from where the last step stopped (they
		// have no index on their expiry).
		{&s.pruneLog, `DELETE FROM request_log WHERE id IN
	(SELECT id FROM request_log WHERE time < ? ORDER BY time LIMIT ?)`},
		{&s.scanTokens, `SELECT jti, expires_at FROM token_usage WHERE jti >= ? ORDER BY jti LIMIT ?`},
		{&s.scanRevocations, `SELECT jti, expires_at FROM revocations WHERE jti >= ? ORDER BY jti LIMIT ?`},
		{&s.scanSubjects, `SELECT subject, window_start FROM subject_usage
	WHERE (subject, window_start) >= (?, ?) ORDER BY subject, window_start LIMIT ?`},
		{&s.deleteToken, `DELETE FROM token_usage WHERE jti = ?`},
		{&s.deleteTokenLeases, `DELETE FROM leases WHERE jti = ?`},
		{&s.deleteRevocation, `DELETE FROM revocations WHERE jti = ?`},
		{&s.deleteSubject, `DELETE FROM subject_usage WHERE subject = ? AND window_start = ?`},
		// A forced checkpoint (wal.go) waits for readers at most
		// checkpointReaderWait; other statements keep the connection's
		// longer busy_timeout.
		{&s.shortWait, fmt.Sprintf(`PRAGMA busy_timeout = %d`, checkpointReaderWait.Milliseconds())},
		{&s.longWait, fmt.Sprintf(`PRAGMA busy_timeout = %d`, writerBusyTimeout.Milliseconds())},
		{&s.restartWAL, `PRAGMA wal_checkpoint(RESTART)`},
	} {
		if err := s.add(c, p.dst, p.sql); err != nil {
			return nil, err
		}
	}
	for _, r := range []struct {
		dst            *rowsStmt
		width          int
		head, row, sep string
	}{
		{&s.insertLeases, 4, `INSERT INTO leases (jti, lease_id, expires_at, reserved) VALUES `, `(?, ?, ?, ?)`, `, `},
		// Each term is a primary-key lookup (MULTI-INDEX OR). A row-value
		// IN (VALUES …) builds a temporary index per call: twice as slow
		// for one row, slower for up to 32.
		{&s.deleteLeases, 2, `DELETE FROM leases WHERE `, `(jti = ? AND lease_id = ?)`, ` OR `},
		{&s.insertLogs, 17, `INSERT INTO request_log (time, request_id, jti, subject, provider, model, path, status,
	latency_us, ttfb_us, prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code,
	usage_source) VALUES `,
			`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `, `},
	} {
		r.dst.width = r.width
		for rows := 1; rows <= maxRowsPerStmt; rows *= 2 {
			var st *rawStmt
			if err := s.add(c, &st, rowsSQL(r.head, r.row, r.sep, rows)); err != nil {
				return nil, err
			}
			r.dst.bySize = append(r.dst.bySize, st)
		}
	}
	return s, nil
}

// add prepares sql into *dst; on failure it closes what s holds.
func (s *stmts) add(c driver.Conn, dst **rawStmt, sql string) error {
	st, err := prepareRaw(c, sql)
	if err != nil {
		return errors.Join(fmt.Errorf("prepare %q: %w", sql, err), s.close())
	}
	*dst = st
	s.all = append(s.all, st)
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range s.all {
		errs = append(errs, st.close())
	}
	return errors.Join(errs...)
}
