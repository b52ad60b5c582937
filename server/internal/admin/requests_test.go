package admin_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

func record(i int, jti string) store.Record {
	return store.Record{
		Time: base.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("req-%d", i), TokenID: jti,
		Subject: "user-1", Provider: "openai", Model: "gpt-4o", Path: "/v1/chat/completions", Status: 200,
		Latency: 1500 * time.Microsecond, TTFB: 250 * time.Microsecond, PromptTokens: 7, CompletionTokens: 9,
		BytesIn: 120, BytesOut: 340,
	}
}

func TestRequestLogPagesNewestFirstForOneToken(t *testing.T) {
	f := newFixture(t, adminKey)
	for i := 0; i < 5; i++ {
		f.log(record(i, "tok-a"), record(100+i, "tok-b"))
	}
	var ids []string
	cursor := ""
	for pages := 0; pages < 4; pages++ {
		data, next := page(t, f.get("/admin/requests?jti=tok-a&limit=2&cursor="+cursor))
		for _, r := range data {
			if keys(r) != requestFields || r["jti"] != "tok-a" {
				t.Fatalf("record %v", r)
			}
			ids = append(ids, r["request_id"].(string))
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(ids) != "[req-4 req-3 req-2 req-1 req-0]" {
		t.Fatalf("pages gave %v", ids)
	}
}

func TestRequestRecordCarriesTimingsTokensBytesAndErrorCode(t *testing.T) {
	f := newFixture(t, adminKey)
	failed := record(1, "tok-e")
	failed.Status, failed.ErrorCode, failed.Estimated, failed.UsageSource = 504, "upstream_timeout", true, "estimate"
	f.log(record(0, "tok-e"), failed)
	data, _ := page(t, f.get("/admin/requests?jti=tok-e"))
	if len(data) != 2 {
		t.Fatalf("%d records", len(data))
	}
	newest, oldest := data[0], data[1]
	want := map[string]any{
		"time": base.Add(time.Second).Format(time.RFC3339), "status": 504.0, "error_code": "upstream_timeout",
		"estimated": true, "usage_source": "estimate", "latency_ms": 1.5, "ttfb_ms": 0.25, "prompt_tokens": 7.0, "completion_tokens": 9.0,
		"bytes_in": 120.0, "bytes_out": 340.0, "provider": "openai", "model": "gpt-4o", "sub": "user-1",
		"path": "/v1/chat/completions",
	}
	for k, v := range want {
		if newest[k] != v {
			t.Errorf("%s = %v, want %v", k, newest[k], v)
		}
	}
	if v, ok := oldest["error_code"]; !ok || v != nil {
		t.Errorf("a success has error_code %v, want null", v)
	}
	if v, ok := oldest["usage_source"]; !ok || v != nil {
		t.Errorf("a record with no usage source has usage_source %v, want null", v)
	}
}

func TestRequestLogWithoutTokenListsEveryRecord(t *testing.T) {
	f := newFixture(t, adminKey)
	f.log(record(0, "a"), record(1, "b"))
	data, next := page(t, f.get("/admin/requests"))
	if len(data) != 2 || next != "" {
		t.Fatalf("%d records, next %q", len(data), next)
	}
}

func TestDefaultPageHoldsFifty(t *testing.T) {
	f := newFixture(t, adminKey)
	var recs []store.Record
	for i := 0; i < 51; i++ {
		recs = append(recs, record(i, "many"))
	}
	f.log(recs...)
	data, next := page(t, f.get("/admin/requests?jti=many"))
	if len(data) != 50 || next == "" {
		t.Fatalf("%d records, next %q", len(data), next)
	}
	rest, last := page(t, f.get("/admin/requests?jti=many&cursor="+next))
	if len(rest) != 1 || last != "" {
		t.Fatalf("second page %d records, next %q", len(rest), last)
	}
	if _, full := page(t, f.get("/admin/requests?jti=many&limit=1000")); full != "" {
		t.Fatal("limit=1000 should hold all 51")
	}
}
