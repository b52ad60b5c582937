package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

func TestWithLogSendsTheRequestLogToItsOwnStore(t *testing.T) {
	open := func(name string) *sqlitestore.Store {
		s, err := sqlitestore.Open(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	counters, logs := open("counters.db"), open("logs.db")
	s := store.WithLog(counters, logs)
	defer s.Close()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	g, err := s.Admit(ctx, store.Admission{TokenID: "split-token", MaxCalls: 1, ExpiresAt: now.Add(time.Hour), Now: now})
	if err != nil || g.Decision != store.Admitted {
		t.Fatalf("%+v %v", g, err)
	}
	if err := s.Log(ctx, []store.Record{{Time: now, RequestID: "r1", TokenID: "split-token"}}); err != nil {
		t.Fatal(err)
	}
	if page, _, _ := logs.Requests(ctx, store.RecordFilter{}); len(page) != 1 {
		t.Fatalf("log store has %d records", len(page))
	}
	if page, _, _ := counters.Requests(ctx, store.RecordFilter{}); len(page) != 0 {
		t.Fatalf("counter store got %d log records", len(page))
	}
	if _, ok, _ := counters.Usage(ctx, "split-token"); !ok {
		t.Fatal("the admission did not land in the counter store")
	}
	if page, _, err := s.Requests(ctx, store.RecordFilter{}); err != nil || len(page) != 1 {
		t.Fatalf("reads go to the log store: %d %v", len(page), err)
	}
	if page, _, err := s.Requests(ctx, store.RecordFilter{Since: now, Code: store.CodeNone}); err != nil || len(page) != 1 {
		t.Fatalf("filtered reads go to the log store: %d %v", len(page), err)
	}
	scanned := 0
	if _, err := s.ScanRecords(ctx, now, now.Add(time.Second), store.MaxScan, func(store.Record) error {
		scanned++
		return nil
	}); err != nil || scanned != 1 {
		t.Fatalf("scans go to the log store: %d %v", scanned, err)
	}
}
