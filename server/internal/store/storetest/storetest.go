// Package storetest is the contract every store.Store implementation must
// pass; each backend's tests call Run, so the backends cannot drift.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Open returns a fresh, empty store for one test.
type Open func(t *testing.T) store.Store

// Run runs the whole contract against stores made by open.
func Run(t *testing.T, open Open) {
	tests := map[string]func(*testing.T, store.Store){
		"MaxCallsIsExactUnderConcurrency":           maxCallsUnderConcurrency,
		"RevokedTokensAreRefused":                   revoked,
		"RevokedListsManyTokensInOneCall":           revokedList,
		"RefundGivesTheCallBack":                    refund,
		"RefundsAreBoundedPerToken":                 refundLimit,
		"RPMAllowsABurstThenRefusesWithRetry":       rpm,
		"ConcurrencyLeasesAreHeldAndReleased":       concurrency,
		"ExpiredLeasesFreeTheSlotAndChargeBudget":   leaseExpiry,
		"BudgetReservesAndClampsAndNeverOvershoots": budget,
		"SubjectLimitSpansTokens":                   subjectLimit,
		"HoldResizesTheReservationAndCharges":       holdResizesAndCharges,
		"HoldOnALapsedLeaseChargesNothing":          holdOnALapsedLease,
		"HoldsUnderConcurrencyNeverOvershoot":       holdsUnderConcurrencyNeverOvershoot,
		"HoldWithoutBudgetOnlyCharges":              holdWithoutBudgetOnlyCharges,
		"UsageAndTokenListing":                      listing,
		"RequestLogPagesNewestFirst":                requestLog,
		"RequestLogFiltersEveryField":               requestLogFilters,
		"RequestLogPagesAcrossFilteredPages":        requestLogFilteredPaging,
		"ScanRecordsReadsTheRangeNewestFirst":       scanRecords,
		"PruneForgetsOldState":                      prune,
		"BlobsRoundTripReplaceAndDelete":            blobsRoundTrip,
		"BlobsAreBoundedAndNamesChecked":            blobsBounded,
		"BlobsUnderConcurrencyAndPrune":             blobsConcurrent,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}

var ctx = context.Background()

var base = time.Unix(1_800_000_000, 0)

func admission(id string, mut func(*store.Admission)) store.Admission {
	a := store.Admission{TokenID: id, ExpiresAt: base.Add(24 * time.Hour), Now: base, LeaseTTL: time.Minute}
	if mut != nil {
		mut(&a)
	}
	return a
}

func admit(t *testing.T, s store.Store, a store.Admission) store.Grant {
	t.Helper()
	g, err := s.Admit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func want(t *testing.T, g store.Grant, d store.Decision) {
	t.Helper()
	if g.Decision != d {
		t.Fatalf("decision %d, want %d (%+v)", g.Decision, d, g)
	}
}

func maxCallsUnderConcurrency(t *testing.T, s store.Store) {
	a := admission("calls", func(a *store.Admission) { a.MaxCalls = 25 })
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := s.Admit(ctx, a)
			switch {
			case err != nil:
				t.Error(err)
			case g.Decision == store.Admitted:
				admitted.Add(1)
			case g.Decision == store.CallLimitReached:
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 25 || refused.Load() != 175 {
		t.Fatalf("admitted %d refused %d", admitted.Load(), refused.Load())
	}
	u, ok, err := s.Usage(ctx, "calls")
	if err != nil || !ok || u.Calls != 25 || u.MaxCalls != 25 {
		t.Fatalf("usage %+v %v %v", u, ok, err)
	}
}

func revoked(t *testing.T, s store.Store) {
	want(t, admit(t, s, admission("rev", nil)), store.Admitted)
	if err := s.Revoke(ctx, "rev", base); err != nil {
		t.Fatal(err)
	}
	want(t, admit(t, s, admission("rev", nil)), store.Revoked)
	if err := s.Revoke(ctx, "never-seen", base); err != nil {
		t.Fatal(err)
	}
	want(t, admit(t, s, admission("never-seen", nil)), store.Revoked)
	u, ok, _ := s.Usage(ctx, "never-seen")
	if !ok || !u.Revoked {
		t.Fatalf("usage of a revoked unseen token: %+v %v", u, ok)
	}
}

func revokedList(t *testing.T, s store.Store) {
	lister, ok := store.RevokedOf(s)
	if !ok {
		t.Fatalf("%T does not implement store.RevokedLister", s)
	}
	var jtis []string
	for i := range store.MaxRevokedBatch {
		jtis = append(jtis, fmt.Sprintf("batch-%04d", i))
	}
	for _, j := range jtis[:3] {
		want(t, admit(t, s, admission(j, nil)), store.Admitted)
	}
	// Revoked: one admitted, one never seen, one at the batch's end.
	for _, j := range []string{jtis[1], jtis[500], jtis[len(jtis)-1]} {
		if err := s.Revoke(ctx, j, base); err != nil {
			t.Fatal(err)
		}
	}
	got, err := lister.Revoked(ctx, jtis)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if w := []string{jtis[1], jtis[500], jtis[len(jtis)-1]}; !slices.Equal(got, w) {
		t.Fatalf("Revoked = %v, want %v", got, w)
	}
	if got, err := lister.Revoked(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no jtis: %v %v", got, err)
	}
}

func refund(t *testing.T, s store.Store) {
	a := admission("refund", func(a *store.Admission) { a.MaxCalls = 1 })
	want(t, admit(t, s, a), store.Admitted)
	want(t, admit(t, s, a), store.CallLimitReached)
	if err := s.Settle(ctx, store.Settlement{TokenID: "refund", Refund: true, LastError: "upstream_unreachable", Now: base}); err != nil {
		t.Fatal(err)
	}
	want(t, admit(t, s, a), store.Admitted)
	u, _, _ := s.Usage(ctx, "refund")
	if u.Calls != 1 || u.LastError != "upstream_unreachable" {
		t.Fatalf("%+v", u)
	}
}

// refundLimit: a token whose provider keeps failing gets at most
// RefundLimit calls back, then its calls stay spent; without a limit
// refunds are not bounded; and concurrent refunds never pass the limit.
func refundLimit(t *testing.T, s store.Store) {
	settle := func(st store.Settlement) {
		t.Helper()
		st.Refund, st.LastError, st.Now = true, "upstream_error", base
		if err := s.Settle(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	usage := func(jti string) store.Usage {
		t.Helper()
		u, ok, err := s.Usage(ctx, jti)
		if err != nil || !ok {
			t.Fatalf("usage of %s: %v %v", jti, ok, err)
		}
		return u
	}

	// max_calls 1, refund limit 2: three failed calls, two given back.
	a := admission("refund-limit", func(a *store.Admission) { a.MaxCalls = 1 })
	for i := range 3 {
		want(t, admit(t, s, a), store.Admitted)
		settle(store.Settlement{TokenID: "refund-limit", RefundLimit: 2})
		if u := usage("refund-limit"); u.Calls != int64(max(0, i-1)) || u.Refunds != int64(min(i+1, 2)) {
			t.Fatalf("after %d refunded settlements: calls %d refunds %d", i+1, u.Calls, u.Refunds)
		}
	}
	u := usage("refund-limit")
	if u.Calls != 1 || u.Refunds != 2 || u.LastError != "upstream_error" {
		t.Fatalf("past the limit the call must stay spent: %+v", u)
	}
	want(t, admit(t, s, a), store.CallLimitReached)
	// A refused refund changes nothing else: the tokens used still count.
	settle(store.Settlement{TokenID: "refund-limit", RefundLimit: 2, PromptTokens: 5, CompletionTokens: 7})
	if u = usage("refund-limit"); u.Calls != 1 || u.Refunds != 2 || u.TokensUsed() != 12 {
		t.Fatalf("%+v", u)
	}

	// No limit: refunds are not bounded.
	free := admission("refund-free", func(a *store.Admission) { a.MaxCalls = 1 })
	for range 5 {
		want(t, admit(t, s, free), store.Admitted)
		settle(store.Settlement{TokenID: "refund-free"})
	}
	if u = usage("refund-free"); u.Calls != 0 || u.Refunds != 5 {
		t.Fatalf("unbounded refunds: %+v", u)
	}
	want(t, admit(t, s, free), store.Admitted)

	// Many calls in flight, all failing at once, settled without a lease
	// (a token with only max_calls) and with one (a concurrency limit):
	// exactly the limit is given back.
	const inFlight, limit = 40, 7
	for _, leased := range []bool{false, true} {
		jti := fmt.Sprintf("refund-race-leased-%v", leased)
		a := admission(jti, func(a *store.Admission) {
			a.MaxCalls = inFlight
			if leased {
				a.Concurrency = inFlight
			}
		})
		leases := make([]string, inFlight)
		for i := range leases {
			g := admit(t, s, a)
			want(t, g, store.Admitted)
			if leased == (g.LeaseID == "") {
				t.Fatalf("lease %q for a token with concurrency %d", g.LeaseID, a.Concurrency)
			}
			leases[i] = g.LeaseID
		}
		var wg sync.WaitGroup
		for _, id := range leases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := store.Settlement{TokenID: jti, LeaseID: id, Refund: true, RefundLimit: limit, LastError: "upstream_error", Now: base}
				if err := s.Settle(ctx, st); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if u = usage(jti); u.Calls != inFlight-limit || u.Refunds != limit || u.Reserved != 0 {
			t.Fatalf("concurrent refunds past the limit: %+v", u)
		}
		// The refunds gave back exactly limit calls: that many more, no more.
		for range limit {
			want(t, admit(t, s, a), store.Admitted)
		}
		want(t, admit(t, s, a), store.CallLimitReached)
	}
}

func rpm(t *testing.T, s store.Store) {
	a := admission("rpm", func(a *store.Admission) { a.RPM = 3 })
	for i := 0; i < 3; i++ {
		g := admit(t, s, a)
		want(t, g, store.Admitted)
		if g.RPMRemaining != int64(2-i) {
			t.Fatalf("remaining %d after %d", g.RPMRemaining, i+1)
		}
	}
	g := admit(t, s, a)
	want(t, g, store.RateLimited)
	if g.RetryAfter <= 0 || g.RetryAfter > 20*time.Second {
		t.Fatalf("retry after %v", g.RetryAfter)
	}
	a.Now = base.Add(20 * time.Second)
	want(t, admit(t, s, a), store.Admitted)
	want(t, admit(t, s, a), store.RateLimited)
}

func concurrency(t *testing.T, s store.Store) {
	a := admission("conc", func(a *store.Admission) { a.Concurrency = 2 })
	g1 := admit(t, s, a)
	g2 := admit(t, s, a)
	want(t, g1, store.Admitted)
	want(t, g2, store.Admitted)
	if g1.LeaseID == "" || g1.LeaseID == g2.LeaseID {
		t.Fatalf("lease ids %q %q", g1.LeaseID, g2.LeaseID)
	}
	want(t, admit(t, s, a), store.ConcurrencyLimited)
	if err := s.Settle(ctx, store.Settlement{TokenID: "conc", LeaseID: g1.LeaseID, Now: base}); err != nil {
		t.Fatal(err)
	}
	want(t, admit(t, s, a), store.Admitted)
}

func leaseExpiry(t *testing.T, s store.Store) {
	a := admission("lease", func(a *store.Admission) {
		a.Concurrency = 1
		a.TokenBudget = 1000
		a.PromptEstimate = 100
		a.RequestedMaxTokens = 200
	})
	g := admit(t, s, a)
	want(t, g, store.Admitted)
	if g.Reserved != 300 {
		t.Fatalf("reserved %d", g.Reserved)
	}
	want(t, admit(t, s, a), store.ConcurrencyLimited)
	a.Now = base.Add(30 * time.Second)
	if err := s.RenewLease(ctx, "lease", g.LeaseID, time.Minute, a.Now); err != nil {
		t.Fatal(err)
	}
	a.Now = base.Add(80 * time.Second) // renewed: alive until base+90s
	want(t, admit(t, s, a), store.ConcurrencyLimited)
	a.Now = base.Add(91 * time.Second) // the relay died: the lease lapses
	g2 := admit(t, s, a)
	want(t, g2, store.Admitted)
	u, _, _ := s.Usage(ctx, "lease")
	if u.TokensUsed() != 300 || u.Reserved != 300 {
		t.Fatalf("a lapsed lease must charge its reservation: %+v", u)
	}
	// Settling the lapsed lease late must not charge it twice.
	if err := s.Settle(ctx, store.Settlement{TokenID: "lease", LeaseID: g.LeaseID, PromptTokens: 10, CompletionTokens: 10, Now: a.Now}); err != nil {
		t.Fatal(err)
	}
	if u, _, _ = s.Usage(ctx, "lease"); u.TokensUsed() != 300 {
		t.Fatalf("late settle double-charged: %+v", u)
	}
}

func budget(t *testing.T, s store.Store) {
	a := admission("budget", func(a *store.Admission) {
		a.TokenBudget = 1000
		a.PromptEstimate = 100
	})
	g := admit(t, s, a) // no max_tokens requested: the whole rest is reserved
	want(t, g, store.Admitted)
	if g.CompletionCap != 900 || g.Reserved != 1000 || g.BudgetRemaining != 0 {
		t.Fatalf("%+v", g)
	}
	want(t, admit(t, s, a), store.BudgetExceeded)
	if err := s.Settle(ctx, store.Settlement{TokenID: "budget", LeaseID: g.LeaseID, PromptTokens: 80, CompletionTokens: 120, Now: base}); err != nil {
		t.Fatal(err)
	}
	a.RequestedMaxTokens = 50
	g = admit(t, s, a)
	want(t, g, store.Admitted)
	if g.CompletionCap != 50 || g.Reserved != 150 || g.BudgetRemaining != 650 {
		t.Fatalf("%+v", g)
	}
	if err := s.Settle(ctx, store.Settlement{TokenID: "budget", LeaseID: g.LeaseID, PromptTokens: 90, CompletionTokens: 50, Now: base}); err != nil {
		t.Fatal(err)
	}
	u, _, _ := s.Usage(ctx, "budget")
	if u.PromptTokens != 170 || u.CompletionTokens != 170 || u.Reserved != 0 || u.TokenBudget != 1000 {
		t.Fatalf("%+v", u)
	}
	// Concurrent admissions can never reserve more than the budget.
	var wg sync.WaitGroup
	var reserved atomic.Int64
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := s.Admit(ctx, a)
			if err == nil && g.Decision == store.Admitted {
				reserved.Add(g.Reserved)
			}
		}()
	}
	wg.Wait()
	if used := u.TokensUsed() + reserved.Load(); used > 1000 {
		t.Fatalf("reservations overshoot the budget: %d", used)
	}
}

func subjectLimit(t *testing.T, s store.Store) {
	limit := store.SubjectLimit{Calls: 3, Window: 24 * time.Hour}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("subject-token-%d", i)
		want(t, admit(t, s, admission(id, func(a *store.Admission) { a.Subject = "alice"; a.SubjectLimit = limit })), store.Admitted)
	}
	g := admit(t, s, admission("subject-token-x", func(a *store.Admission) { a.Subject = "alice"; a.SubjectLimit = limit }))
	want(t, g, store.SubjectLimitReached)
	if g.RetryAfter <= 0 || g.RetryAfter > 24*time.Hour {
		t.Fatalf("retry after %v", g.RetryAfter)
	}
	want(t, admit(t, s, admission("subject-token-y", func(a *store.Admission) { a.Subject = "bob"; a.SubjectLimit = limit })), store.Admitted)
	next := base.Add(24 * time.Hour)
	want(t, admit(t, s, admission("subject-token-z", func(a *store.Admission) {
		a.Subject = "alice"
		a.SubjectLimit = limit
		a.Now = next
	})), store.Admitted)
}

func listing(t *testing.T, s store.Store) {
	for i := 0; i < 5; i++ {
		admit(t, s, admission(fmt.Sprintf("list-%d", i), func(a *store.Admission) { a.Subject = "carol" }))
	}
	admit(t, s, admission("list-other", func(a *store.Admission) { a.Subject = "dave" }))
	var seen []string
	cursor := ""
	for {
		page, next, err := s.Tokens(ctx, store.TokenFilter{Subject: "carol", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			seen = append(seen, u.TokenID)
			if u.Subject != "carol" || u.Calls != 1 {
				t.Fatalf("%+v", u)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 5 {
		t.Fatalf("paged %v", seen)
	}
	if _, _, err := s.Tokens(ctx, store.TokenFilter{Cursor: "%%%"}); err == nil {
		t.Fatal("accepted a bad cursor")
	}
	if _, ok, err := s.Usage(ctx, "no-such-token"); ok || err != nil {
		t.Fatalf("unknown token: %v %v", ok, err)
	}
}

func requestLog(t *testing.T, s store.Store) {
	// Every usage source round-trips, and "" stays "".
	sources := []string{"", "provider", "reservation", "cut", "estimate"}
	var recs []store.Record
	for i := 0; i < 5; i++ {
		recs = append(recs, store.Record{
			Time: base.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("req-%d", i), TokenID: "logged",
			Provider: "mock", Model: "m", Path: "/v1/chat/completions", Status: 200, Latency: time.Millisecond,
			PromptTokens: 3, CompletionTokens: int64(i), Estimated: i == 4, UsageSource: sources[i],
		})
	}
	recs = append(recs,
		store.Record{Time: base, RequestID: "fixed", TokenID: "sourced", UsageSource: "fixed"},
		store.Record{Time: base, RequestID: "free", TokenID: "sourced", UsageSource: "free"})
	recs = append(recs, store.Record{Time: base, RequestID: "other", TokenID: "other"})
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	page, next, err := s.Requests(ctx, store.RecordFilter{TokenID: "logged", Limit: 3})
	if err != nil || len(page) != 3 || next == "" {
		t.Fatalf("%d %q %v", len(page), next, err)
	}
	if page[0].RequestID != "req-4" || !page[0].Estimated || page[0].Latency != time.Millisecond {
		t.Fatalf("newest first: %+v", page[0])
	}
	for i, r := range page {
		if want := sources[4-i]; r.UsageSource != want {
			t.Fatalf("%s: usage source %q, want %q", r.RequestID, r.UsageSource, want)
		}
	}
	page, next, err = s.Requests(ctx, store.RecordFilter{TokenID: "logged", Limit: 3, Cursor: next})
	if err != nil || len(page) != 2 || next != "" || page[1].RequestID != "req-0" {
		t.Fatalf("second page %d %q %v", len(page), next, err)
	}
	if page[0].UsageSource != "provider" || page[1].UsageSource != "" {
		t.Fatalf("second page usage sources %q %q", page[0].UsageSource, page[1].UsageSource)
	}
	page, _, err = s.Requests(ctx, store.RecordFilter{TokenID: "sourced"})
	if err != nil || len(page) != 2 || page[0].UsageSource != "free" || page[1].UsageSource != "fixed" {
		t.Fatalf("sourced: %+v %v", page, err)
	}
}

func prune(t *testing.T, s store.Store) {
	admit(t, s, admission("old", func(a *store.Admission) { a.ExpiresAt = base.Add(time.Hour) }))
	admit(t, s, admission("new", func(a *store.Admission) { a.ExpiresAt = base.Add(72 * time.Hour) }))
	if err := s.Log(ctx, []store.Record{{Time: base, RequestID: "r", TokenID: "old"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, base.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Usage(ctx, "old"); ok {
		t.Fatal("expired token kept")
	}
	if _, ok, _ := s.Usage(ctx, "new"); !ok {
		t.Fatal("live token pruned")
	}
	if page, _, _ := s.Requests(ctx, store.RecordFilter{}); len(page) != 0 {
		t.Fatalf("old log kept: %d", len(page))
	}
}
