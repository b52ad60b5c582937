package sqlitestore

import (
	"fmt"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// A filter on a column without an index reads at most maxPageScan lines
// per page: a token with one line, the oldest of a large log, is found by
// following the cursors of short pages rather than by one page reading
// the whole log.
func TestFilteredPageReadsABoundedSliceAndCarriesOnByCursor(t *testing.T) {
	s, _ := openTest(t)
	total := maxPageScan + maxPageScan/5
	recs := make([]store.Record, 0, 500)
	for i := range total {
		jti := "busy"
		if i == 0 {
			jti = "needle"
		}
		recs = append(recs, store.Record{Time: base.Add(time.Duration(i) * time.Millisecond), RequestID: fmt.Sprint("r", i), TokenID: jti, Status: 200})
		if len(recs) == cap(recs) || i == total-1 {
			if err := s.Log(bg, recs); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}

	var found []store.Record
	pages, cursor := 0, ""
	for {
		page, next, err := s.Requests(bg, store.RecordFilter{TokenID: "needle", Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		found = append(found, page...)
		if next == "" {
			break
		}
		if pages > 3 {
			t.Fatalf("%d pages for %d lines: the cursor does not move on", pages, total)
		}
		cursor = next
	}
	if len(found) != 1 || found[0].RequestID != "r0" {
		t.Fatalf("found %+v", found)
	}
	if pages != 2 {
		t.Fatalf("%d pages: want a short empty one, then the line", pages)
	}

	// A filter that matches many lines still fills its pages, and an
	// unfiltered read is not bounded.
	page, next, err := s.Requests(bg, store.RecordFilter{TokenID: "busy", Limit: 1000})
	if err != nil || len(page) != 1000 || next == "" {
		t.Fatalf("busy: %d lines, next %q, %v", len(page), next, err)
	}
	page, next, err = s.Requests(bg, store.RecordFilter{Since: base, Until: base.Add(time.Millisecond)})
	if err != nil || len(page) != 1 || next != "" {
		t.Fatalf("oldest millisecond: %d lines, next %q, %v", len(page), next, err)
	}
}
