package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// filtered logs one record per case the filters must tell apart, oldest
// first, a minute apart from base.
func filtered(f *fixture) {
	f.t.Helper()
	rows := []struct {
		jti, sub, provider, model, code string
		status                          int
	}{
		{"tok-a", "alice", "openai", "gpt-4o", "", 200},
		{"tok-a", "alice", "openai", "gpt-4o", "rate_limited", 429},
		{"tok-b", "bob", "anthropic", "claude", "upstream_error", 502},
		{"tok-b", "bob", "openai", "gpt-4o-mini", "", 201},
		{"tok-c", "", "mock", "m", "budget_exceeded", 402},
	}
	for i, r := range rows {
		rec := record(60*i, r.jti)
		rec.RequestID = fmt.Sprintf("r%d", i)
		rec.Subject, rec.Provider, rec.Model, rec.ErrorCode, rec.Status = r.sub, r.provider, r.model, r.code, r.status
		f.log(rec)
	}
}

func requestIDs(t *testing.T, r response) string {
	t.Helper()
	data, _ := page(t, r)
	var ids []string
	for _, rec := range data {
		ids = append(ids, rec["request_id"].(string))
	}
	return strings.Join(ids, " ")
}

func TestRequestLogFilters(t *testing.T) {
	f := newFixture(t, adminKey)
	filtered(f)
	at := func(minutes int) string { return base.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339) }
	for query, want := range map[string]string{
		"":                                   "r4 r3 r2 r1 r0",
		"jti=tok-a":                          "r1 r0",
		"sub=bob":                            "r3 r2",
		"provider=openai":                    "r3 r1 r0",
		"model=gpt-4o":                       "r1 r0",
		"code=rate_limited":                  "r1",
		"code=none":                          "r3 r0",
		"status=429":                         "r1",
		"status=4xx":                         "r4 r1",
		"status=2xx":                         "r3 r0",
		"status=5xx":                         "r2",
		"status=3xx":                         "",
		"since=" + at(2):                     "r4 r3 r2",
		"until=" + at(2):                     "r1 r0",
		"since=" + at(1) + "&until=" + at(3): "r2 r1",
		"provider=openai&status=2xx&sub=bob": "r3",
		"sub=nobody":                         "",
		// An offset, its + escaped as a URL needs it.
		"since=" + url.QueryEscape(base.Add(2*time.Minute).In(time.FixedZone("", 3600)).Format(time.RFC3339)): "r4 r3 r2",
	} {
		if got := requestIDs(t, f.get("/admin/requests?"+query)); got != want {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
}

func TestRequestLogFiltersPageWithTheirCursor(t *testing.T) {
	f := newFixture(t, adminKey)
	var recs []store.Record
	for i := range 9 {
		r := record(i, "pager")
		if i%3 == 0 {
			r.Status, r.ErrorCode = 429, "rate_limited"
		}
		recs = append(recs, r)
	}
	f.log(recs...)
	var ids []string
	cursor := ""
	for range 5 {
		data, next := page(t, f.get("/admin/requests?code=rate_limited&limit=2&cursor="+cursor))
		for _, r := range data {
			ids = append(ids, r["request_id"].(string))
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(ids) != "[req-6 req-3 req-0]" {
		t.Fatalf("pages gave %v", ids)
	}
}

func TestBadRequestLogFiltersAreBadRequest(t *testing.T) {
	f := newFixture(t, adminKey)
	for _, query := range []string{
		"status=abc", "status=42", "status=600", "status=099", "status=6xx", "status=1xx", "status=4XX", "status=4x",
		"status=+429", "status=429.0", "since=yesterday", "until=2026-11-25", "since=2026-11-25T21:00:00",
		"since=2026-11-25T21:00:00+01:00", // an unescaped + reads as a space
	} {
		r := f.get("/admin/requests?" + query)
		if r.status != http.StatusBadRequest || r.code(t) != "bad_request" {
			t.Errorf("%s: %d %s", query, r.status, r.body)
		}
	}
}
