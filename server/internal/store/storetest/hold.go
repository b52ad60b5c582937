package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

func hold(t *testing.T, s store.Store, h store.Hold) store.Held {
	t.Helper()
	got, err := s.Hold(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func usage(t *testing.T, s store.Store, id string) store.Usage {
	t.Helper()
	u, ok, err := s.Usage(ctx, id)
	if err != nil || !ok {
		t.Fatalf("usage of %s: ok %v, err %v", id, ok, err)
	}
	return u
}

// holdResizesAndCharges pins Hold: a live call (a realtime session) grows
// and shrinks its reservation and is charged response by response; the
// budget is shared with the token's other calls and never overshot.
func holdResizesAndCharges(t *testing.T, s store.Store) {
	a := admission("hold", func(a *store.Admission) {
		a.TokenBudget = 1000
		a.PromptEstimate = 1
		a.RequestedMaxTokens = 99
	})
	session := admit(t, s, a)
	want(t, session, store.Admitted)
	if session.Reserved != 100 || session.LeaseID == "" {
		t.Fatalf("%+v", session)
	}
	h := store.Hold{TokenID: "hold", LeaseID: session.LeaseID, TokenBudget: 1000, Want: 400, Now: base}
	if got := hold(t, s, h); got != (store.Held{Reserved: 400, BudgetRemaining: 600}) {
		t.Fatalf("grow: %+v", got)
	}
	if u := usage(t, s, "hold"); u.Reserved != 400 || u.TokensUsed() != 0 || u.Calls != 1 {
		t.Fatalf("a hold is not a call: %+v", u)
	}

	// Another call of the token takes 500 of the 600 left.
	a.PromptEstimate, a.RequestedMaxTokens = 100, 400
	other := admit(t, s, a)
	want(t, other, store.Admitted)
	if other.Reserved != 500 {
		t.Fatalf("%+v", other)
	}
	// The session's first response used 150 + 50: charged, and the lease
	// may then hold only what the others leave (1000 - 200 - 500).
	h.PromptTokens, h.CompletionTokens = 150, 50
	if got := hold(t, s, h); got != (store.Held{Reserved: 300, BudgetRemaining: 0}) {
		t.Fatalf("clamped: %+v", got)
	}
	if u := usage(t, s, "hold"); u.PromptTokens != 150 || u.CompletionTokens != 50 || u.Reserved != 800 {
		t.Fatalf("%+v", u)
	}
	want(t, admit(t, s, a), store.BudgetExceeded)
	if err := s.Settle(ctx, store.Settlement{TokenID: "hold", LeaseID: other.LeaseID, PromptTokens: 100, CompletionTokens: 100, Now: base}); err != nil {
		t.Fatal(err)
	}
	// Shrinking gives the rest back at once; a zero charge changes nothing else.
	h.PromptTokens, h.CompletionTokens, h.Want = 0, 0, 50
	if got := hold(t, s, h); got != (store.Held{Reserved: 50, BudgetRemaining: 550}) {
		t.Fatalf("shrink: %+v", got)
	}
	// Settling the session releases what it holds now, not its grant.
	if err := s.Settle(ctx, store.Settlement{TokenID: "hold", LeaseID: session.LeaseID, Reserved: session.Reserved, PromptTokens: 10, CompletionTokens: 20, Now: base}); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, s, "hold"); u.Reserved != 0 || u.PromptTokens != 260 || u.CompletionTokens != 170 || u.Calls != 2 {
		t.Fatalf("settled: %+v", u)
	}
	// A settled lease is gone: a late Hold charges nothing and says so.
	h.PromptTokens, h.Want = 500, 10
	if got := hold(t, s, h); !got.Lapsed || got.Reserved != 0 {
		t.Fatalf("hold after settle: %+v", got)
	}
	if u := usage(t, s, "hold"); u.TokensUsed() != 430 || u.Reserved != 0 {
		t.Fatalf("charged a settled lease: %+v", u)
	}
}

// holdOnALapsedLease: a session whose relay stopped renewing its lease was
// charged its reservation when the lease lapsed; its next Hold must not
// charge again, and learns it must end.
func holdOnALapsedLease(t *testing.T, s store.Store) {
	a := admission("hold-lapsed", func(a *store.Admission) {
		a.TokenBudget = 1000
		a.PromptEstimate = 1
		a.RequestedMaxTokens = 99
	})
	g := admit(t, s, a)
	want(t, g, store.Admitted)
	h := store.Hold{TokenID: "hold-lapsed", LeaseID: g.LeaseID, TokenBudget: 1000, Want: 300, Now: base}
	if got := hold(t, s, h); got.Reserved != 300 {
		t.Fatalf("%+v", got)
	}
	h.Now, h.PromptTokens = base.Add(2*time.Minute), 40 // the lease lived one minute
	if got := hold(t, s, h); !got.Lapsed || got.Reserved != 0 {
		t.Fatalf("hold on a lapsed lease: %+v", got)
	}
	if u := usage(t, s, "hold-lapsed"); u.TokensUsed() != 300 || u.Reserved != 0 || u.LastError != "lease_expired" {
		t.Fatalf("the lapsed lease must be charged its reservation once: %+v", u)
	}
}

// holdsUnderConcurrencyNeverOvershoot: many live calls growing at once
// never hold more than the budget has left, and the store's reservation
// is the sum of what each was told it holds.
func holdsUnderConcurrencyNeverOvershoot(t *testing.T, s store.Store) {
	const calls, budget = 20, 5000
	a := admission("hold-many", func(a *store.Admission) {
		a.TokenBudget = budget
		a.PromptEstimate = 1
		a.RequestedMaxTokens = 9
	})
	leases := make([]string, calls)
	for i := range leases {
		g := admit(t, s, a)
		want(t, g, store.Admitted)
		leases[i] = g.LeaseID
	}
	var wg sync.WaitGroup
	held := make([]store.Held, calls)
	errs := make([]error, calls)
	for i, id := range leases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held[i], errs[i] = s.Hold(ctx, store.Hold{TokenID: "hold-many", LeaseID: id, TokenBudget: budget,
				PromptTokens: 7, CompletionTokens: 3, Want: 600, Now: base})
		}()
	}
	wg.Wait()
	var sum int64
	for i, h := range held {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		sum += h.Reserved
	}
	u := usage(t, s, "hold-many")
	if u.TokensUsed() != calls*10 || u.Reserved != sum {
		t.Fatalf("used %d (want %d), reserved %d (holds say %d)", u.TokensUsed(), calls*10, u.Reserved, sum)
	}
	if u.TokensUsed()+u.Reserved != budget {
		// 20 × 600 wanted is more than there is: every token is held.
		t.Fatalf("used %d + reserved %d, want the whole budget %d", u.TokensUsed(), u.Reserved, budget)
	}
}

// holdWithoutBudgetOnlyCharges: a call without a budget (a realtime
// session of a token with concurrency) is charged, holding nothing.
func holdWithoutBudgetOnlyCharges(t *testing.T, s store.Store) {
	a := admission("hold-nobudget", func(a *store.Admission) { a.Concurrency = 2 })
	g := admit(t, s, a)
	want(t, g, store.Admitted)
	got := hold(t, s, store.Hold{TokenID: "hold-nobudget", LeaseID: g.LeaseID, PromptTokens: 12, CompletionTokens: 30, Want: 500, Now: base})
	if got != (store.Held{}) {
		t.Fatalf("%+v", got)
	}
	if u := usage(t, s, "hold-nobudget"); u.PromptTokens != 12 || u.CompletionTokens != 30 || u.Reserved != 0 {
		t.Fatalf("%+v", u)
	}
}
