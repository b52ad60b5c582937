package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// logTimes is when the log records of these tests happened: in the recent
// past, as real ones are. Redis assigns a stream entry its arrival time
// and may stop a read with a lower time bound at entries that arrived
// well before it, which holds only for records logged after their Time.
func logTimes() time.Time {
	return time.Now().Add(-time.Hour).Truncate(time.Second)
}

// filterLog is a log with one record per combination worth telling
// apart, oldest first (the order they are logged in, so arrival order is
// time order on every backend).
func filterLog(t0 time.Time) []store.Record {
	type row struct {
		jti, sub, provider, model, code string
		status                          int
	}
	rows := []row{
		{"tok-a", "alice", "openai", "gpt-4o", "", 200},
		{"tok-a", "alice", "openai", "gpt-4o-mini", "rate_limited", 429},
		{"tok-b", "bob", "anthropic", "claude", "", 200},
		{"tok-b", "bob", "anthropic", "claude", "upstream_error", 502},
		{"tok-c", "", "openai", "gpt-4o", "budget_exceeded", 402},
		{"tok-a", "alice", "openai", "gpt-4o", "", 201},
		{"tok-c", "", "mock", "m", "upstream_timeout", 504},
		{"tok-b", "bob", "openai", "gpt-4o", "", 301},
		{"tok-a", "alice", "anthropic", "claude", "rate_limited", 429},
		{"tok-d", "dora", "mock", "m", "", 200},
	}
	recs := make([]store.Record, len(rows))
	for i, r := range rows {
		recs[i] = store.Record{
			Time: t0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("f%d", i), TokenID: r.jti,
			Subject: r.sub, Provider: r.provider, Model: r.model, Path: "/v1/chat/completions",
			Status: r.status, ErrorCode: r.code, Latency: time.Duration(i+1) * time.Millisecond,
			PromptTokens: int64(i), CompletionTokens: int64(2 * i),
		}
	}
	return recs
}

// readAll pages through f with its Limit and returns the request ids in
// the order served, failing on a page longer than the limit or a cursor
// that does not advance.
func readAll(t *testing.T, s store.Store, f store.RecordFilter) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%+v: more than 100 pages", f)
		}
		page, next, err := s.Requests(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if len(page) > store.PageSize(f.Limit) {
			t.Fatalf("%+v: page of %d", f, len(page))
		}
		for _, r := range page {
			if seen[r.RequestID] {
				t.Fatalf("%+v: %s served twice", f, r.RequestID)
			}
			seen[r.RequestID] = true
			ids = append(ids, r.RequestID)
		}
		if next == "" {
			return ids
		}
		if next == f.Cursor {
			t.Fatalf("%+v: the cursor does not advance", f)
		}
		f.Cursor = next
	}
}

// expect is the request ids of recs f matches, newest first.
func expect(recs []store.Record, f store.RecordFilter) []string {
	var ids []string
	for _, r := range slices.Backward(recs) {
		if f.Match(r) {
			ids = append(ids, r.RequestID)
		}
	}
	return ids
}

// requestLogFilters pins every RecordFilter field, alone and combined,
// against the same records on every backend, each on one page and paged
// one record at a time.
func requestLogFilters(t *testing.T, s store.Store) {
	t0 := logTimes()
	recs := filterLog(t0)
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	filters := []struct {
		name string
		f    store.RecordFilter
		want string
	}{
		{"none", store.RecordFilter{}, "f9 f8 f7 f6 f5 f4 f3 f2 f1 f0"},
		{"jti", store.RecordFilter{TokenID: "tok-a"}, "f8 f5 f1 f0"},
		{"sub", store.RecordFilter{Subject: "bob"}, "f7 f3 f2"},
		{"provider", store.RecordFilter{Provider: "anthropic"}, "f8 f3 f2"},
		{"model", store.RecordFilter{Model: "gpt-4o"}, "f7 f5 f4 f0"},
		{"code", store.RecordFilter{Code: "rate_limited"}, "f8 f1"},
		{"no code", store.RecordFilter{Code: store.CodeNone}, "f9 f7 f5 f2 f0"},
		{"unknown code", store.RecordFilter{Code: "no_such_code"}, ""},
		{"status", store.RecordFilter{StatusMin: 429, StatusMax: 429}, "f8 f1"},
		{"4xx", store.RecordFilter{StatusMin: 400, StatusMax: 499}, "f8 f4 f1"},
		{"2xx", store.RecordFilter{StatusMin: 200, StatusMax: 299}, "f9 f5 f2 f0"},
		{"5xx", store.RecordFilter{StatusMin: 500, StatusMax: 599}, "f6 f3"},
		{"status at least", store.RecordFilter{StatusMin: 500}, "f6 f3"},
		{"status at most", store.RecordFilter{StatusMax: 299}, "f9 f5 f2 f0"},
		{"since is inclusive", store.RecordFilter{Since: t0.Add(7 * time.Minute)}, "f9 f8 f7"},
		{"until is exclusive", store.RecordFilter{Until: t0.Add(2 * time.Minute)}, "f1 f0"},
		{"range", store.RecordFilter{Since: t0.Add(3 * time.Minute), Until: t0.Add(6 * time.Minute)}, "f5 f4 f3"},
		{"empty range", store.RecordFilter{Since: t0.Add(90 * time.Second), Until: t0.Add(110 * time.Second)}, ""},
		{"sub-ms bounds", store.RecordFilter{Since: t0.Add(time.Minute - time.Microsecond), Until: t0.Add(2*time.Minute + time.Microsecond)}, "f2 f1"},
		{"jti and status", store.RecordFilter{TokenID: "tok-a", StatusMin: 400, StatusMax: 499}, "f8 f1"},
		{"everything", store.RecordFilter{TokenID: "tok-a", Subject: "alice", Provider: "openai", Model: "gpt-4o",
			Code: store.CodeNone, StatusMin: 200, StatusMax: 299, Since: t0, Until: t0.Add(6 * time.Minute)}, "f5 f0"},
		{"nothing matches", store.RecordFilter{TokenID: "tok-d", Provider: "openai"}, ""},
	}
	for _, c := range filters {
		want := expect(recs, c.f)
		if got := fmt.Sprint(want); got != "["+c.want+"]" {
			t.Fatalf("%s: the test's own expectation %v is not %q", c.name, got, c.want)
		}
		for _, limit := range []int{0, 1, 3} {
			f := c.f
			f.Limit = limit
			if got := readAll(t, s, f); !slices.Equal(got, want) {
				t.Errorf("%s, limit %d: got %v, want %v", c.name, limit, got, want)
			}
		}
	}
	page, _, err := s.Requests(ctx, store.RecordFilter{TokenID: "tok-b", Code: "upstream_error"})
	if err != nil || len(page) != 1 {
		t.Fatalf("%v %v", page, err)
	}
	if r := page[0]; r.Subject != "bob" || r.Provider != "anthropic" || r.Status != 502 || !r.Time.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("filtered record %+v", r)
	}
}

// requestLogFilteredPaging: a filter that keeps one record in seven still
// pages to the end, newest first, every match once, whether the backend
// filters in its query or while it scans (a page may then end short of
// its limit with a cursor); an unfiltered page is full.
func requestLogFilteredPaging(t *testing.T, s store.Store) {
	t0 := logTimes()
	var recs []store.Record
	for i := range 300 {
		r := store.Record{Time: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("p%03d", i),
			TokenID: "pager", Provider: "mock", Status: 200}
		if i%7 == 3 {
			r.Status, r.ErrorCode = 429, "rate_limited"
		}
		recs = append(recs, r)
	}
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.RecordFilter{
		{Code: "rate_limited", Limit: 5},
		{TokenID: "pager", StatusMin: 400, StatusMax: 499, Limit: 7},
		{Since: t0.Add(100 * time.Second), Until: t0.Add(200 * time.Second), Code: "rate_limited", Limit: 2},
		{Since: t0.Add(250 * time.Second), Limit: 10},
	} {
		if got, want := readAll(t, s, f), expect(recs, f); !slices.Equal(got, want) {
			t.Errorf("%+v: got %v, want %v", f, got, want)
		}
	}
	page, next, err := s.Requests(ctx, store.RecordFilter{Limit: 40})
	if err != nil || len(page) != 40 || next == "" || page[0].RequestID != "p299" {
		t.Fatalf("unfiltered page: %d records, next %q, %v", len(page), next, err)
	}
	if _, _, err := s.Requests(ctx, store.RecordFilter{Code: "rate_limited", Cursor: "%%%"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("a bad cursor with a filter: %v", err)
	}
}

// scanRecords pins ScanRecords: the range only (since inclusive, until
// exclusive), newest first, at most limit records, truncated exactly when
// records of the range were left, and fn's error returned as is.
func scanRecords(t *testing.T, s store.Store) {
	t0 := logTimes()
	recs := filterLog(t0)
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	scan := func(since, until time.Time, limit int) ([]string, bool) {
		t.Helper()
		var ids []string
		truncated, err := s.ScanRecords(ctx, since, until, limit, func(r store.Record) error {
			ids = append(ids, r.RequestID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, truncated
	}
	since, until := t0.Add(2*time.Minute), t0.Add(8*time.Minute)
	want := []string{"f7", "f6", "f5", "f4", "f3", "f2"}
	for _, c := range []struct {
		limit     int
		n         int
		truncated bool
	}{{store.MaxScan, 6, false}, {6, 6, false}, {5, 5, true}, {1, 1, true}, {0, 0, false}} {
		ids, truncated := scan(since, until, c.limit)
		if !slices.Equal(ids, want[:c.n]) || truncated != c.truncated {
			t.Errorf("limit %d: %v truncated %v, want %v truncated %v", c.limit, ids, truncated, want[:c.n], c.truncated)
		}
	}
	if ids, truncated := scan(t0.Add(-time.Hour), t0, 10); len(ids) != 0 || truncated {
		t.Errorf("a range before every record: %v %v", ids, truncated)
	}
	if ids, _ := scan(t0, t0.Add(time.Hour), 100); !slices.Equal(ids, expect(recs, store.RecordFilter{})) {
		t.Errorf("the whole log: %v", ids)
	}
	var got store.Record
	stop := errors.New("stop")
	_, err := s.ScanRecords(ctx, t0.Add(4*time.Minute), t0.Add(5*time.Minute), 10, func(r store.Record) error {
		got = r
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("fn's error: %v", err)
	}
	want4 := recs[4]
	if got.RequestID != "f4" || got.TokenID != want4.TokenID || got.ErrorCode != want4.ErrorCode ||
		got.Status != want4.Status || got.Latency != want4.Latency || got.CompletionTokens != want4.CompletionTokens ||
		!got.Time.Equal(want4.Time) {
		t.Fatalf("scanned %+v, logged %+v", got, want4)
	}
}
