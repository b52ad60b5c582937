package logstats_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/logstats"
	"github.com/relayapi/relayapi/server/internal/store"
)

var since = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func rec(at time.Duration, jti, sub string, status int, code string, latencyMS, ttfbMS int) store.Record {
	return store.Record{
		Time: since.Add(at), TokenID: jti, Subject: sub, Status: status, ErrorCode: code,
		Latency: time.Duration(latencyMS) * time.Millisecond, TTFB: time.Duration(ttfbMS) * time.Millisecond,
		PromptTokens: 10, CompletionTokens: 5,
	}
}

func compute(t *testing.T, r logstats.Range, recs ...store.Record) logstats.Stats {
	t.Helper()
	a := logstats.New(r)
	for _, x := range recs {
		a.Add(x)
	}
	return a.Stats(false)
}

func pct(p logstats.Percentiles) string {
	f := func(v *float64) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprint(*v)
	}
	return f(p.P50) + " " + f(p.P90) + " " + f(p.P99)
}

func TestEveryBucketIsPresentOldestFirstEvenWhenEmpty(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(5 * time.Minute), Bucket: time.Minute}
	st := compute(t, r, rec(90*time.Second, "a", "u", 200, "", 10, 2))
	if len(st.Buckets) != 5 {
		t.Fatalf("%d buckets", len(st.Buckets))
	}
	for i, b := range st.Buckets {
		if want := since.Add(time.Duration(i) * time.Minute); !b.Start.Equal(want) || b.Start.Location() != time.UTC {
			t.Errorf("bucket %d starts %v, want %v UTC", i, b.Start, want)
		}
		want := int64(0)
		if i == 1 {
			want = 1
		}
		if b.Requests != want || b.ByCode == nil {
			t.Errorf("bucket %d: %+v", i, b)
		}
	}
	if empty := st.Buckets[0]; empty.LatencyMS.P50 != nil || empty.TTFBMS.P99 != nil {
		t.Errorf("an empty bucket has percentiles %s / %s", pct(empty.LatencyMS), pct(empty.TTFBMS))
	}
	b, _ := json.Marshal(st.Buckets[0])
	if want := `{"start":"2026-12-01T10:00:00Z","requests":0,"errors":0,"by_code":{},"prompt_tokens":0,` +
		`"completion_tokens":0,"latency_ms":{"p50":null,"p90":null,"p99":null},"ttfb_ms":{"p50":null,"p90":null,"p99":null}}`; string(b) != want {
		t.Errorf("empty bucket JSON\n%s\nwant\n%s", b, want)
	}
}

func TestAPartialLastBucketAndTheRangeBoundsAreKept(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(150 * time.Second), Bucket: time.Minute}
	st := compute(t, r,
		rec(0, "a", "u", 200, "", 1, 1),                 // since: inside
		rec(149*time.Second, "a", "u", 200, "", 1, 1),   // the partial third bucket
		rec(150*time.Second, "a", "u", 200, "", 1, 1),   // until: outside
		rec(-time.Millisecond, "a", "u", 200, "", 1, 1)) // before since: outside
	if len(st.Buckets) != 3 || st.Buckets[0].Requests != 1 || st.Buckets[2].Requests != 1 {
		t.Fatalf("%+v", st.Buckets)
	}
	if st.Totals.Requests != 2 || st.Scanned != 4 {
		t.Fatalf("totals %d, scanned %d", st.Totals.Requests, st.Scanned)
	}
}

func TestErrorsCodesAndTokensAreCounted(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(2 * time.Minute), Bucket: time.Minute}
	st := compute(t, r,
		rec(1*time.Second, "a", "u", 200, "", 1, 1),
		rec(2*time.Second, "a", "u", 429, "rate_limited", 1, 0),
		rec(3*time.Second, "a", "u", 502, "upstream_error", 1, 0),
		rec(61*time.Second, "b", "v", 429, "rate_limited", 1, 0),
		rec(62*time.Second, "b", "v", 404, "", 1, 1),            // an upstream 404: an error without a relay code
		rec(63*time.Second, "b", "v", 200, "client_gone", 1, 1)) // a code on a 2xx counts by code, not as an error
	b0, b1 := st.Buckets[0], st.Buckets[1]
	if b0.Requests != 3 || b0.Errors != 2 || fmt.Sprint(b0.ByCode) != "map[rate_limited:1 upstream_error:1]" {
		t.Errorf("bucket 0: %+v", b0.Summary)
	}
	if b1.Requests != 3 || b1.Errors != 2 || fmt.Sprint(b1.ByCode) != "map[client_gone:1 rate_limited:1]" {
		t.Errorf("bucket 1: %+v", b1.Summary)
	}
	tot := st.Totals
	if tot.Requests != 6 || tot.Errors != 4 || fmt.Sprint(tot.ByCode) != "map[client_gone:1 rate_limited:2 upstream_error:1]" ||
		tot.PromptTokens != 60 || tot.CompletionTokens != 30 {
		t.Errorf("totals: %+v", tot)
	}
}

// Nearest rank: the smallest value with at least p% of the values at or
// below it. TTFB leaves out records that sent no byte.
func TestPercentilesAreNearestRank(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: time.Hour}
	var recs []store.Record
	for i := 100; i >= 1; i-- { // out of order on purpose
		recs = append(recs, rec(time.Duration(i)*time.Second, "a", "u", 200, "", i, i%10))
	}
	st := compute(t, r, recs...)
	if got := pct(st.Totals.LatencyMS); got != "50 90 99" {
		t.Errorf("latency of 1..100 ms: %s", got)
	}
	// TTFB: i%10 for i = 1..100, the 10 zeros left out: 90 values, each
	// of 1..9 ten times. Rank ceil(.5*90) = 45 → 5; ceil(.9*90) = 81 → 9;
	// ceil(.99*90) = 90 → 9.
	if got := pct(st.Totals.TTFBMS); got != "5 9 9" {
		t.Errorf("ttfb: %s", got)
	}
	one := compute(t, r, rec(time.Second, "a", "u", 200, "", 7, 0))
	if got := pct(one.Totals.LatencyMS); got != "7 7 7" {
		t.Errorf("one value: %s", got)
	}
	if got := pct(one.Totals.TTFBMS); got != "null null null" {
		t.Errorf("no first byte: %s", got)
	}
	sub := compute(t, r, store.Record{Time: since, Latency: 1500 * time.Microsecond, TTFB: 250 * time.Microsecond})
	if *sub.Totals.LatencyMS.P50 != 1.5 || *sub.Totals.TTFBMS.P50 != 0.25 {
		t.Errorf("sub-millisecond: %s %s", pct(sub.Totals.LatencyMS), pct(sub.Totals.TTFBMS))
	}
}

func TestTopListsRankBothWaysAndLeaveOutEmptySubjects(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: time.Hour}
	var recs []store.Record
	add := func(jti, sub string, calls int, tokensEach int64) {
		for range calls {
			x := rec(time.Minute, jti, sub, 200, "", 1, 1)
			x.PromptTokens, x.CompletionTokens = tokensEach, 0
			recs = append(recs, x)
		}
	}
	add("many-calls", "alice", 5, 1)   // 5 calls, 5 tokens
	add("big-spender", "bob", 1, 1000) // 1 call, 1000 tokens
	add("no-sub", "", 3, 10)           // 3 calls, 30 tokens
	add("tie-b", "carol", 2, 2)
	add("tie-a", "carol", 2, 2)
	for i := range 12 {
		add(fmt.Sprintf("small-%02d", i), "dave", 1, 0)
	}
	st := compute(t, r, recs...)
	names := func(ts []logstats.TokenCount) string {
		var s []string
		for _, x := range ts {
			s = append(s, fmt.Sprintf("%s(%s):%d/%d", x.JTI, x.Sub, x.Calls, x.Tokens))
		}
		return strings.Join(s, " ")
	}
	if got := names(st.TopTokens.ByCalls); !strings.HasPrefix(got,
		"many-calls(alice):5/5 no-sub():3/30 tie-a(carol):2/4 tie-b(carol):2/4 big-spender(bob):1/1000 small-00(dave):1/0") ||
		len(st.TopTokens.ByCalls) != logstats.TopN {
		t.Errorf("tokens by calls: %s", got)
	}
	if got := names(st.TopTokens.ByTokens[:5]); got != "big-spender(bob):1/1000 no-sub():3/30 many-calls(alice):5/5 tie-a(carol):2/4 tie-b(carol):2/4" {
		t.Errorf("tokens by tokens: %s", got)
	}
	subs := func(ss []logstats.SubjectCount) string {
		var s []string
		for _, x := range ss {
			s = append(s, fmt.Sprintf("%s:%d/%d", x.Sub, x.Calls, x.Tokens))
		}
		return strings.Join(s, " ")
	}
	if got := subs(st.TopSubjects.ByCalls); got != "dave:12/0 alice:5/5 carol:4/8 bob:1/1000" {
		t.Errorf("subjects by calls: %s", got)
	}
	if got := subs(st.TopSubjects.ByTokens); got != "bob:1/1000 carol:4/8 alice:5/5 dave:12/0" {
		t.Errorf("subjects by tokens: %s", got)
	}
	empty := compute(t, r)
	if b, _ := json.Marshal(empty.TopTokens); string(b) != `{"by_calls":[],"by_tokens":[]}` {
		t.Errorf("empty top list: %s", b)
	}
}

// A token's sub is that of its newest record (the scan runs newest first).
func TestATokensSubjectIsItsNewest(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: time.Hour}
	st := compute(t, r, rec(2*time.Minute, "a", "new", 200, "", 1, 1), rec(time.Minute, "a", "old", 200, "", 1, 1))
	if got := st.TopTokens.ByCalls[0]; got.Sub != "new" || got.Calls != 2 {
		t.Errorf("%+v", got)
	}
}

func TestRangeCheck(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		r    logstats.Range
		want error
	}{
		{logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: time.Minute}, nil},
		{logstats.Range{Since: since, Until: since.Add(day), Bucket: time.Minute}, nil}, // 1440 buckets
		{logstats.Range{Since: since, Until: since.Add(day + time.Second), Bucket: time.Minute}, logstats.ErrManyBuckets},
		{logstats.Range{Since: since, Until: since.Add(7 * day), Bucket: day}, nil},
		{logstats.Range{Since: since, Until: since.Add(7*day + time.Second), Bucket: day}, logstats.ErrLongRange},
		{logstats.Range{Since: since, Until: since, Bucket: time.Minute}, logstats.ErrEmptyRange},
		{logstats.Range{Since: since.Add(time.Second), Until: since, Bucket: time.Minute}, logstats.ErrEmptyRange},
		{logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: 9 * time.Second}, logstats.ErrBucketSize},
		{logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: day + time.Second}, logstats.ErrBucketSize},
		{logstats.Range{Since: since, Until: since.Add(time.Minute), Bucket: day}, nil}, // one bucket past until
	} {
		if err := c.r.Check(); !errors.Is(err, c.want) {
			t.Errorf("%v..%v by %v: %v, want %v", c.r.Since, c.r.Until, c.r.Bucket, err, c.want)
		}
	}
}

type scanner struct {
	recs      []store.Record
	truncated bool
	err       error
	limit     int
}

func (s *scanner) ScanRecords(_ context.Context, _, _ time.Time, limit int, fn func(store.Record) error) (bool, error) {
	s.limit = limit
	for _, r := range s.recs {
		if err := fn(r); err != nil {
			return false, err
		}
	}
	return s.truncated, s.err
}

func TestComputeScansTheRangeAndReportsTruncation(t *testing.T) {
	r := logstats.Range{Since: since, Until: since.Add(time.Hour), Bucket: time.Minute}
	s := &scanner{recs: []store.Record{rec(time.Minute, "a", "u", 200, "", 1, 1)}, truncated: true}
	st, err := logstats.Compute(context.Background(), s, r, 123)
	if err != nil || !st.Truncated || st.Scanned != 1 || s.limit != 123 || len(st.Buckets) != 60 {
		t.Fatalf("%+v %v (limit %d)", st, err, s.limit)
	}
	s.err = store.ErrUnavailable
	if _, err := logstats.Compute(context.Background(), s, r, 1); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("store error: %v", err)
	}
	if _, err := logstats.Compute(context.Background(), s, logstats.Range{Since: since, Until: since}, 1); !errors.Is(err, logstats.ErrEmptyRange) {
		t.Fatalf("bad range: %v", err)
	}
}
