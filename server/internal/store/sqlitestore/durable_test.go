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

// A Hold's charge and re-sized reservation are on disk: a relay that
// restarts mid-session (or another process reading the file) sees what
// the session holds, and the lease lapsing later charges that amount.
func TestAHoldIsOnDiskAcrossAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relayapi.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	a := store.Admission{TokenID: "held", TokenBudget: 1000, PromptEstimate: 1, RequestedMaxTokens: 9,
		ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
	g, err := s.Admit(ctx, a)
	if err != nil || g.Decision != store.Admitted {
		t.Fatal(g, err)
	}
	// Saved once with 10 reserved, then re-sized in a later batch.
	if _, err := s.Hold(ctx, store.Hold{TokenID: "held", LeaseID: g.LeaseID, TokenBudget: 1000, PromptTokens: 30, CompletionTokens: 20, Want: 600, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = sqlitestore.Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, _, err := s.Usage(ctx, "held")
	if err != nil || u.Reserved != 600 || u.PromptTokens != 30 || u.CompletionTokens != 20 {
		t.Fatalf("after a reopen: %+v %v", u, err)
	}
	a.Now = now.Add(2 * time.Minute) // the relay never came back for its lease
	if _, err := s.Admit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if u, _, _ = s.Usage(ctx, "held"); u.TokensUsed() != 650 {
		t.Fatalf("the lapsed lease must charge what it held: %+v", u)
	}
}
