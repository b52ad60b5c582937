package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// Group commit must not blur a limit: of 500 concurrent admissions on
// max_calls 50 exactly 50 pass, and the file says so after a reopen.
func TestConcurrentAdmissionsAreExactAndOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relayapi.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	a := store.Admission{TokenID: "exact", MaxCalls: 50, Concurrency: 1000, ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for range 500 {
		wg.Go(func() {
			g, err := s.Admit(ctx, a)
			switch {
			case err != nil:
				t.Error(err)
			case g.Decision == store.Admitted:
				admitted.Add(1)
			case g.Decision == store.CallLimitReached:
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 50 || refused.Load() != 450 {
		t.Fatalf("admitted %d refused %d", admitted.Load(), refused.Load())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var calls, leases int64
	if err := db.QueryRow(`SELECT calls, (SELECT COUNT(*) FROM leases WHERE jti = ?1) FROM token_usage WHERE jti = ?1`, "exact").
		Scan(&calls, &leases); err != nil {
		t.Fatal(err)
	}
	if calls != 50 || leases != 50 {
		t.Fatalf("on disk: calls %d leases %d", calls, leases)
	}
	s, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if g, err := s.Admit(ctx, a); err != nil || g.Decision != store.CallLimitReached {
		t.Fatalf("after reopening: %+v %v", g, err)
	}
}
