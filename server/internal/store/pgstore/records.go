package pgstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

const recordColumns = `SELECT id, time, request_id, jti, subject, provider, model, path, status, latency_us, ttfb_us,
	prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code, usage_source
	FROM relayapi_request_log `

// Requests reads the log newest first; the cursor is the last id served.
// Only the conditions the filter sets go into the statement: a generic
// plan of a "$1 is empty or jti = $1" test could not use the jti index.
func (s *Store) Requests(ctx context.Context, f store.RecordFilter) ([]store.Record, string, error) {
	limit := store.PageSize(f.Limit)
	before := int64(1<<63 - 1)
	if f.Cursor != "" {
		c, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		if before, err = strconv.ParseInt(c, 10, 64); err != nil {
			return nil, "", store.ErrBadCursor
		}
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	w := recordWhere(f)
	w.add("id < ", before)
	q := recordColumns + `WHERE ` + strings.Join(w.conds, " AND ") + ` ORDER BY id DESC LIMIT ` + w.param(limit+1)
	rows, err := s.pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, "", s.fail(err)
	}
	page, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, "", s.fail(err)
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(strconv.FormatInt(page[limit-1].id, 10))
	}
	records := make([]store.Record, len(page))
	for i, r := range page {
		records[i] = r.Record
	}
	return records, next, nil
}

// where collects conditions with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// param adds an argument and returns its placeholder.
func (w *where) param(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add appends the condition expr followed by v's placeholder.
func (w *where) add(expr string, v any) { w.conds = append(w.conds, expr+w.param(v)) }

func recordWhere(f store.RecordFilter) *where {
	w := &where{}
	for _, c := range []struct{ col, v string }{
		{"jti", f.TokenID}, {"subject", f.Subject}, {"provider", f.Provider}, {"model", f.Model},
	} {
		if c.v != "" {
			w.add(c.col+" = ", c.v)
		}
	}
	switch f.Code {
	case "":
	case store.CodeNone:
		w.add("error_code = ", "")
	default:
		w.add("error_code = ", f.Code)
	}
	if f.StatusMin != 0 {
		w.add("status >= ", f.StatusMin)
	}
	if f.StatusMax != 0 {
		w.add("status <= ", f.StatusMax)
	}
	if !f.Since.IsZero() {
		w.add("time >= ", f.Since)
	}
	if !f.Until.IsZero() {
		w.add("time < ", f.Until)
	}
	return w
}

// ScanRecords reads the range newest first through the time index, one
// row past limit to tell a truncated scan from one that read it all. The
// rows stream to fn as they arrive: the range is never held in memory.
func (s *Store) ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(store.Record) error) (bool, error) {
	if limit <= 0 {
		return false, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, recordColumns+`WHERE time >= $1 AND time < $2 ORDER BY time DESC LIMIT $3`,
		since, until, limit+1)
	if err != nil {
		return false, s.fail(err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n == limit {
			return true, nil
		}
		r, err := scanRecord(rows)
		if err != nil {
			return false, s.fail(err)
		}
		if err := fn(r.Record); err != nil {
			return false, err
		}
	}
	return false, s.fail(rows.Err())
}

type logRow struct {
	id int64
	store.Record
}

func scanRecord(row pgx.CollectableRow) (logRow, error) {
	var r logRow
	var lat, ttfb int64
	err := row.Scan(&r.id, &r.Time, &r.RequestID, &r.TokenID, &r.Subject, &r.Provider, &r.Model, &r.Path, &r.Status,
		&lat, &ttfb, &r.PromptTokens, &r.CompletionTokens, &r.Estimated, &r.BytesIn, &r.BytesOut, &r.ErrorCode,
		&r.UsageSource)
	r.Latency, r.TTFB = time.Duration(lat)*time.Microsecond, time.Duration(ttfb)*time.Microsecond
	return r, err
}
