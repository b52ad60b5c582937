package redisstore_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// A filter that matches nothing in a long stream answers empty pages of a
// bounded scan, each with a cursor, until the stream ends: no request
// reads the whole stream.
func TestFilteredPagesEndAfterABoundedScan(t *testing.T) {
	url := testservers.Redis(t)
	s := open(t, url)
	defer s.Close()
	now := time.Now().Add(-time.Minute)
	n := redisstore.MaxPageScan + 10
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = store.Record{Time: now, RequestID: fmt.Sprintf("r%d", i), Status: 200}
	}
	recs[0].Status = 500 // the oldest
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	f := store.RecordFilter{StatusMin: 500, Limit: 5}
	page, next, err := s.Requests(ctx, f)
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first page: %d records, next %q, %v", len(page), next, err)
	}
	f.Cursor = next
	page, next, err = s.Requests(ctx, f)
	if err != nil || len(page) != 1 || page[0].RequestID != "r0" || next != "" {
		t.Fatalf("second page: %+v, next %q, %v", page, next, err)
	}
}

// Reads with a lower time bound stop at the entries that arrived (by
// their stream id) more than LogSkew before it, whatever the record says.
func TestTimeBoundedReadsStopAtEntriesThatArrivedBeforeIt(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	defer s.Close()
	since := time.Now().Add(-time.Hour)
	logged := since.Add(time.Minute)
	early, _ := json.Marshal(map[string]any{"t": logged.UnixMilli(), "id": "early", "st": 200})
	arrived := since.Add(-redisstore.LogSkew - time.Second).UnixMilli()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "ra:log", ID: fmt.Sprintf("%d-0", arrived), Values: []any{"r", early}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Log(ctx, []store.Record{{Time: logged, RequestID: "on-time", Status: 200}}); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.Requests(ctx, store.RecordFilter{Since: since})
	if err != nil || len(page) != 1 || page[0].RequestID != "on-time" {
		t.Fatalf("since: %+v %v", page, err)
	}
	var ids []string
	if _, err := s.ScanRecords(ctx, since, time.Now(), 10, func(r store.Record) error {
		ids = append(ids, r.RequestID)
		return nil
	}); err != nil || fmt.Sprint(ids) != "[on-time]" {
		t.Fatalf("scan: %v %v", ids, err)
	}
	if page, _, _ := s.Requests(ctx, store.RecordFilter{}); len(page) != 2 {
		t.Fatalf("without a bound both are read: %+v", page)
	}
}
