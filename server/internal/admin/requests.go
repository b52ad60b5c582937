package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	relayapi "github.com/relayapi/relayapi/sdk/go"
	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/store"
)

// RequestRecord is one request-log line as JSON (schema RequestRecord in
// docs/openapi.yaml), the type the Go SDK reads it into: never bodies,
// keys or tokens.
type RequestRecord = relayapi.RequestRecord

// NewRequestRecord converts a store record.
func NewRequestRecord(r store.Record) RequestRecord {
	return RequestRecord{
		Time:             r.Time.UTC(),
		RequestID:        r.RequestID,
		TokenID:          r.TokenID,
		Subject:          r.Subject,
		Provider:         r.Provider,
		Model:            r.Model,
		Path:             r.Path,
		Status:           r.Status,
		LatencyMS:        millis(r.Latency),
		TTFBMS:           millis(r.TTFB),
		PromptTokens:     r.PromptTokens,
		CompletionTokens: r.CompletionTokens,
		Estimated:        r.Estimated,
		UsageSource:      nonEmpty(r.UsageSource),
		BytesIn:          r.BytesIn,
		BytesOut:         r.BytesOut,
		ErrorCode:        nonEmpty(r.ErrorCode),
	}
}

func (c call) listRequests() {
	p, ok := c.page()
	if !ok {
		return
	}
	f, bad := recordFilter(c.r.URL.Query())
	if bad != nil {
		c.fail(bad)
		return
	}
	f.Limit, f.Cursor = p.limit, p.cursor
	rows, next, err := c.h.store.Requests(c.r.Context(), f)
	if err != nil {
		c.pageFailed("requests", err)
		return
	}
	data := make([]RequestRecord, 0, len(rows))
	for _, r := range rows {
		data = append(data, NewRequestRecord(r))
	}
	writeJSON(c.w, http.StatusOK, Page[RequestRecord]{Data: data, NextCursor: nonEmpty(next)})
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var (
	errBadStatus = apierror.New("bad_request", "status must be a status code (429) or a class: 2xx, 3xx, 4xx or 5xx.")
	errBadTime   = apierror.New("bad_request",
		"since and until must be RFC 3339 times, e.g. 2026-12-07T10:00:00Z (a + in an offset is %2B in a URL).")
)

// recordFilter reads the request-log filters of the query (but the page).
func recordFilter(q url.Values) (store.RecordFilter, *apierror.Error) {
	f := store.RecordFilter{
		TokenID: q.Get("jti"), Subject: q.Get("sub"), Provider: q.Get("provider"), Model: q.Get("model"), Code: q.Get("code"),
	}
	var ok bool
	if f.StatusMin, f.StatusMax, ok = statusRange(q.Get("status")); !ok {
		return f, errBadStatus
	}
	var err error
	if f.Since, err = optionalTime(q.Get("since")); err != nil {
		return f, errBadTime
	}
	if f.Until, err = optionalTime(q.Get("until")); err != nil {
		return f, errBadTime
	}
	return f, nil
}

// statusRange reads an exact status or a class as inclusive bounds
// (0, 0: no filter).
func statusRange(s string) (lo, hi int, ok bool) {
	if s == "" {
		return 0, 0, true
	}
	if len(s) == 3 && s[1:] == "xx" && s[0] >= '2' && s[0] <= '5' {
		lo = int(s[0]-'0') * 100
		return lo, lo + 99, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 || len(s) != 3 {
		return 0, 0, false
	}
	return n, n, true
}

// optionalTime parses an RFC 3339 time; "" is the zero time (unbounded).
func optionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}
