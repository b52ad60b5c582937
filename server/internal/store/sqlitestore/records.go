package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

const recordColumns = `id, time, request_id, jti, subject, provider, model, path, status,
	latency_us, ttfb_us, prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code, usage_source`

// maxPageScan bounds the log lines one page filtered on a column without
// an index (token, subject, provider, model, status, code) reads: a filter
// that matches nothing must not read the whole log in one request (2.4 s
// at 10M lines, with the writer unable to restart its WAL meanwhile:
// bench/run scale, issue 22). The page then ends short, or empty, with a
// cursor to read on from, as on Redis. request_log keeps no index on those
// columns on purpose (see schema.go): each costs a page write per call.
const maxPageScan = 50_000

// noCursor is the id a first page reads below.
const noCursor = math.MaxInt64

// Requests pages the log by id, newest first; the cursor is the id the
// next page reads below. Only the conditions the filter sets go into the
// statement, so the planner sees a plain query (request_log_time serves a
// time range); a filter on other columns reads at most maxPageScan ids.
func (s *Store) Requests(ctx context.Context, f store.RecordFilter) ([]store.Record, string, error) {
	limit := store.PageSize(f.Limit)
	before := int64(noCursor)
	if f.Cursor != "" {
		c, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		if before, err = strconv.ParseInt(c, 10, 64); err != nil {
			return nil, "", store.ErrBadCursor
		}
	}
	where, args := recordWhere(f)
	where, args = append(where, "id < ?"), append(args, before)
	floor, err := s.scanFloor(ctx, f, before)
	if err != nil {
		return nil, "", err
	}
	if floor > 0 {
		where, args = append(where, "id >= ?"), append(args, floor)
	}
	args = append(args, limit+1)
	rows, err := s.read.QueryContext(ctx, `SELECT `+recordColumns+` FROM request_log
WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", unavailable(err)
	}
	defer rows.Close()
	var page []store.Record
	var ids []int64
	for rows.Next() {
		id, r, err := scanRecord(rows)
		if err != nil {
			return nil, "", unavailable(err)
		}
		page, ids = append(page, r), append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", unavailable(err)
	}
	switch {
	case len(page) > limit:
		return page[:limit], store.EncodeCursor(strconv.FormatInt(ids[limit-1], 10)), nil
	case floor > 0:
		// Short of a page within the bound: read on below it, if any line is
		// there.
		more, err := s.anyBelow(ctx, floor)
		if err != nil || !more {
			return page, "", err
		}
		return page, store.EncodeCursor(strconv.FormatInt(floor, 10)), nil
	}
	return page, "", nil
}

// scanFloor is the lowest id a page of f below before may read: 0 (no
// bound) unless f filters on a column without an index.
func (s *Store) scanFloor(ctx context.Context, f store.RecordFilter, before int64) (int64, error) {
	selective := f.TokenID != "" || f.Subject != "" || f.Provider != "" || f.Model != "" ||
		f.Code != "" || f.StatusMin != 0 || f.StatusMax != 0
	if !selective {
		return 0, nil
	}
	if before == noCursor {
		var top sql.NullInt64
		if err := s.read.QueryRowContext(ctx, `SELECT max(id) FROM request_log`).Scan(&top); err != nil {
			return 0, unavailable(err)
		}
		before = top.Int64 + 1
	}
	return max(before-maxPageScan, 1), nil
}

// anyBelow reports whether the log has a line with an id below id.
func (s *Store) anyBelow(ctx context.Context, id int64) (bool, error) {
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM request_log WHERE id < ? LIMIT 1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

// recordWhere is the filter's conditions (but the page) and their
// arguments. Times are stored in Unix ms: a bound is rounded up to the
// next ms, so a line passes exactly when RecordFilter.Match passes it.
func recordWhere(f store.RecordFilter) ([]string, []any) {
	where, args := []string{}, []any{}
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	for _, c := range []struct{ col, v string }{
		{"jti", f.TokenID}, {"subject", f.Subject}, {"provider", f.Provider}, {"model", f.Model},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	switch f.Code {
	case "":
	case store.CodeNone:
		add("error_code = ?", "")
	default:
		add("error_code = ?", f.Code)
	}
	if f.StatusMin != 0 {
		add("status >= ?", int64(f.StatusMin))
	}
	if f.StatusMax != 0 {
		add("status <= ?", int64(f.StatusMax))
	}
	if !f.Since.IsZero() {
		add("time >= ?", ceilMilli(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", ceilMilli(f.Until))
	}
	return where, args
}

func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// ScanRecords reads the range newest first through request_log_time, one
// row past limit to tell a truncated scan from one that read it all.
func (s *Store) ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(store.Record) error) (bool, error) {
	if limit <= 0 {
		return false, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+recordColumns+` FROM request_log
WHERE time >= ? AND time < ? ORDER BY time DESC, id DESC LIMIT ?`, ceilMilli(since), ceilMilli(until), limit+1)
	if err != nil {
		return false, unavailable(err)
	}
	defer rows.Close()
	return scanRows(rows, limit, fn)
}

func scanRows(rows *sql.Rows, limit int, fn func(store.Record) error) (bool, error) {
	for n := 0; rows.Next(); n++ {
		if n == limit {
			return true, nil
		}
		_, r, err := scanRecord(rows)
		if err != nil {
			return false, unavailable(err)
		}
		if err := fn(r); err != nil {
			return false, err
		}
	}
	return false, unavailable(rows.Err())
}

func scanRecord(row interface{ Scan(...any) error }) (int64, store.Record, error) {
	var r store.Record
	var id, t, lat, ttfb int64
	err := row.Scan(&id, &t, &r.RequestID, &r.TokenID, &r.Subject, &r.Provider, &r.Model, &r.Path, &r.Status,
		&lat, &ttfb, &r.PromptTokens, &r.CompletionTokens, &r.Estimated, &r.BytesIn, &r.BytesOut, &r.ErrorCode, &r.UsageSource)
	r.Time, r.Latency, r.TTFB = time.UnixMilli(t), time.Duration(lat)*time.Microsecond, time.Duration(ttfb)*time.Microsecond
	return id, r, err
}
