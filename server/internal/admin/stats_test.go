package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/admin"
	"github.com/relayapi/relayapi/server/internal/store"
)

var statsFields = sorted("since,until,bucket_seconds,buckets,totals,top_tokens,top_subjects,active_streams,scanned,truncated")

func statsOf(t *testing.T, r response) (map[string]any, admin.Stats) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("stats: %d %s", r.status, r.body)
	}
	var st admin.Stats
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	m := r.object(t)
	if keys(m) != statsFields {
		t.Fatalf("stats fields %s", keys(m))
	}
	return m, st
}

func TestStatsDefaultToTheLastHourByTheMinute(t *testing.T) {
	now := base.Add(90 * time.Minute)
	f := newFixture(t, adminKey, admin.WithNow(func() time.Time { return now }),
		admin.WithActiveStreams(func() int64 { return 3 }))
	m, st := statsOf(t, f.get("/admin/stats"))
	if !st.Since.Equal(now.Add(-time.Hour)) || !st.Until.Equal(now) || st.BucketSeconds != 60 || len(st.Buckets) != 60 {
		t.Fatalf("%v..%v by %d: %d buckets", st.Since, st.Until, st.BucketSeconds, len(st.Buckets))
	}
	if st.ActiveStreams != 3 || st.Scanned != 0 || st.Truncated {
		t.Fatalf("%+v", st)
	}
	if m["since"] != "2026-11-25T21:30:00Z" || m["until"] != "2026-11-25T22:30:00Z" {
		t.Fatalf("times %v %v", m["since"], m["until"])
	}
	b, _ := json.Marshal(m["totals"])
	if want := `{"by_code":{},"completion_tokens":0,"errors":0,"latency_ms":{"p50":null,"p90":null,"p99":null},` +
		`"prompt_tokens":0,"requests":0,"ttfb_ms":{"p50":null,"p90":null,"p99":null}}`; string(b) != want {
		t.Fatalf("empty totals %s", b)
	}
	b, _ = json.Marshal(m["top_subjects"])
	if string(b) != `{"by_calls":[],"by_tokens":[]}` {
		t.Fatalf("empty top subjects %s", b)
	}
	// until alone: the hour before it; since alone: from it to now.
	_, st = statsOf(t, f.get("/admin/stats?until=2026-11-25T21:10:00Z"))
	if !st.Since.Equal(base.Add(-50*time.Minute)) || len(st.Buckets) != 60 {
		t.Fatalf("until only: %v, %d buckets", st.Since, len(st.Buckets))
	}
	_, st = statsOf(t, f.get("/admin/stats?since=2026-11-25T22:00:00Z&bucket=600"))
	if !st.Until.Equal(now) || len(st.Buckets) != 3 || st.BucketSeconds != 600 {
		t.Fatalf("since only: %v, %d buckets", st.Until, len(st.Buckets))
	}
}

func TestStatsAggregateTheLogOfTheRange(t *testing.T) {
	f := newFixture(t, adminKey)
	at := func(s int, jti, sub string, status int, code string, latencyMS int) store.Record {
		r := record(s, jti)
		r.Subject, r.Status, r.ErrorCode = sub, status, code
		r.Latency, r.TTFB = time.Duration(latencyMS)*time.Millisecond, time.Millisecond
		return r
	}
	f.log(
		at(-1, "early", "x", 200, "", 1), // before since
		at(5, "tok-a", "alice", 200, "", 10),
		at(10, "tok-a", "alice", 429, "rate_limited", 20),
		at(70, "tok-b", "bob", 502, "upstream_error", 30),
		at(75, "tok-b", "bob", 200, "", 40),
		at(80, "tok-b", "", 200, "", 50),
		at(180, "late", "y", 200, "", 1), // at until: outside
	)
	m, st := statsOf(t, f.get("/admin/stats?since=2026-11-25T21:00:00Z&until=2026-11-25T21:03:00Z&bucket=60"))
	if len(st.Buckets) != 3 || st.Scanned != 5 || st.Truncated {
		t.Fatalf("%d buckets, scanned %d", len(st.Buckets), st.Scanned)
	}
	b0, b1, b2 := st.Buckets[0], st.Buckets[1], st.Buckets[2]
	if b0.Requests != 2 || b0.Errors != 1 || fmt.Sprint(b0.ByCode) != "map[rate_limited:1]" || *b0.LatencyMS.P50 != 10 || *b0.LatencyMS.P99 != 20 {
		t.Errorf("bucket 0 %+v", b0)
	}
	if b1.Requests != 3 || b1.Errors != 1 || *b1.LatencyMS.P50 != 40 || *b1.TTFBMS.P90 != 1 || b1.PromptTokens != 21 || b1.CompletionTokens != 27 {
		t.Errorf("bucket 1 %+v", b1)
	}
	if b2.Requests != 0 || b2.LatencyMS.P50 != nil || !b2.Start.Equal(base.Add(2*time.Minute)) {
		t.Errorf("bucket 2 %+v", b2)
	}
	if st.Totals.Requests != 5 || st.Totals.Errors != 2 || *st.Totals.LatencyMS.P50 != 30 || *st.Totals.LatencyMS.P90 != 50 {
		t.Errorf("totals %+v", st.Totals)
	}
	tops, _ := json.Marshal(m["top_tokens"])
	if want := `{"by_calls":[{"calls":3,"jti":"tok-b","sub":"","tokens":48},{"calls":2,"jti":"tok-a","sub":"alice","tokens":32}],` +
		`"by_tokens":[{"calls":3,"jti":"tok-b","sub":"","tokens":48},{"calls":2,"jti":"tok-a","sub":"alice","tokens":32}]}`; string(tops) != want {
		t.Errorf("top tokens\n%s\nwant\n%s", tops, want)
	}
	subs, _ := json.Marshal(m["top_subjects"])
	if want := `{"by_calls":[{"calls":2,"sub":"alice","tokens":32},{"calls":2,"sub":"bob","tokens":32}],` +
		`"by_tokens":[{"calls":2,"sub":"alice","tokens":32},{"calls":2,"sub":"bob","tokens":32}]}`; string(subs) != want {
		t.Errorf("top subjects (the empty sub left out)\n%s\nwant\n%s", subs, want)
	}
	bucket, _ := json.Marshal(m["buckets"].([]any)[0])
	if !strings.Contains(string(bucket), `"start":"2026-11-25T21:00:00Z"`) || !strings.Contains(string(bucket), `"ttfb_ms":{"p50":1,"p90":1,"p99":1}`) {
		t.Errorf("bucket JSON %s", bucket)
	}
}

func TestStatsParametersOutOfBoundsAreBadRequest(t *testing.T) {
	f := newFixture(t, adminKey, admin.WithNow(func() time.Time { return base }))
	for _, query := range []string{
		"bucket=9", "bucket=86401", "bucket=0", "bucket=-60", "bucket=abc", "bucket=1.5", "bucket=60s",
		"since=yesterday", "until=2026-11-25", "since=2026-11-25T21:00:00+01:00",
		"since=2026-11-25T22:00:00Z",                                     // after until (now)
		"since=2026-11-25T21:00:00Z&until=2026-11-25T21:00:00Z",          // empty
		"since=2026-11-17T20:59:59Z&bucket=86400",                        // more than 7 days
		"since=2026-11-24T20:59:59Z&bucket=60",                           // 1441 buckets
		"since=2026-11-25T20:00:00Z&until=2026-11-25T22:00:00Z&bucket=4", // too small a bucket
	} {
		r := f.get("/admin/stats?" + query)
		if r.status != http.StatusBadRequest || r.code(t) != "bad_request" {
			t.Errorf("%s: %d %s", query, r.status, r.body)
		}
	}
	for _, query := range []string{
		"since=2026-11-18T21:00:00Z&bucket=86400", // exactly 7 days
		"since=2026-11-24T21:00:00Z&bucket=60",    // exactly 1440 buckets
		"bucket=10", "bucket=86400",
	} {
		if r := f.get("/admin/stats?" + query); r.status != http.StatusOK {
			t.Errorf("%s: %d %s", query, r.status, r.body)
		}
	}
}

// A relay without metrics reports no stream in flight.
func TestStatsWithoutActiveStreamsSayZero(t *testing.T) {
	f := newFixture(t, adminKey)
	if _, st := statsOf(t, f.get("/admin/stats")); st.ActiveStreams != 0 {
		t.Fatalf("active streams %d", st.ActiveStreams)
	}
}
