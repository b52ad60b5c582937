package redisstore_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// The reference store and this one must give the same answer to every
// step of a random workload: same grants, same usage. This compares the
// Lua port of store.Decide with the Go original far beyond the contract's
// hand-picked cases.
func TestSameDecisionsAsSQLite(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	var seen []map[store.Decision]int
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			ref, err := sqlitestore.Open(filepath.Join(t.TempDir(), "ref.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			r := open(t, url)
			defer r.Close()
			w := &workload{t: t, rnd: rand.New(rand.NewPCG(seed, 7)), ref: ref, got: r, now: time.Unix(1_800_000_000, 0), seen: map[store.Decision]int{}}
			for range 600 {
				w.step()
			}
			w.compareUsage()
			seen = append(seen, w.seen)
		})
	}
	// The workload must reach every decision, or it proves less than it seems.
	for d := store.Admitted; d <= store.SubjectLimitReached; d++ {
		n := 0
		for _, s := range seen {
			n += s[d]
		}
		if n == 0 {
			t.Errorf("no seed produced decision %d: %v", d, seen)
		}
	}
}

type call struct {
	jti, refLease, gotLease string
	reserved                int64
}

type workload struct {
	t        *testing.T
	rnd      *rand.Rand
	ref, got store.Store
	now      time.Time
	open     []call
	seen     map[store.Decision]int
}

var profiles = []store.Admission{
	{TokenID: "plain"},
	{TokenID: "capped", MaxCalls: 40, RPM: 6},
	{TokenID: "hot", RPM: 2},
	{TokenID: "busy", Concurrency: 2, RPM: 120},
	{TokenID: "budget", TokenBudget: 20_000, Concurrency: 3},
	{TokenID: "sub-a", Subject: "alice", MaxCalls: 100},
	{TokenID: "sub-b", Subject: "alice", TokenBudget: 50_000, RPM: 600},
	{TokenID: "sub-c", Subject: "bob", RPM: 60_000},
}

func (w *workload) step() {
	w.now = w.now.Add(time.Duration(w.rnd.IntN(1500)) * time.Millisecond)
	switch n := w.rnd.IntN(100); {
	case n < 60:
		w.admit()
	case n < 85:
		w.settle()
	case n < 96:
		w.renew()
	case n < 97 && w.rnd.IntN(4) == 0:
		w.revoke()
	default:
		w.now = w.now.Add(time.Duration(w.rnd.IntN(120)) * time.Second)
	}
}

func (w *workload) admit() {
	a := profiles[w.rnd.IntN(len(profiles))]
	a.Now, a.ExpiresAt, a.LeaseTTL = w.now, w.now.Add(48*time.Hour), 30*time.Second
	a.PromptEstimate = int64(w.rnd.IntN(3000))
	a.RequestedMaxTokens = int64(w.rnd.IntN(4000))
	if a.Subject != "" {
		a.SubjectLimit = store.SubjectLimit{Calls: 25, Window: 10 * time.Minute}
	}
	want, err1 := w.ref.Admit(ctx, a)
	got, err2 := w.got.Admit(ctx, a)
	if err1 != nil || err2 != nil {
		w.t.Fatal(err1, err2)
	}
	if (want.LeaseID == "") != (got.LeaseID == "") {
		w.t.Fatalf("%s lease %q vs %q", a.TokenID, want.LeaseID, got.LeaseID)
	}
	w.seen[got.Decision]++
	if want.LeaseID != "" {
		w.open = append(w.open, call{a.TokenID, want.LeaseID, got.LeaseID, got.Reserved})
	}
	want.LeaseID, got.LeaseID = "", ""
	if want != got {
		w.t.Fatalf("%s at %v:\nsqlite %+v\nredis  %+v", a.TokenID, w.now, want, got)
	}
}

func (w *workload) pick() (call, bool) {
	if len(w.open) == 0 {
		return call{}, false
	}
	return w.open[w.rnd.IntN(len(w.open))], true
}

func (w *workload) settle() {
	c, ok := w.pick()
	if !ok {
		return
	}
	s := store.Settlement{
		TokenID: c.jti, Reserved: c.reserved, PromptTokens: int64(w.rnd.IntN(2000)),
		CompletionTokens: int64(w.rnd.IntN(2000)), Refund: w.rnd.IntN(5) == 0, Now: w.now,
		// Small limits (0: none), so refunds are refused often enough;
		// compareUsage checks both stores counted the same refunds.
		RefundLimit: int64(w.rnd.IntN(4)),
	}
	if w.rnd.IntN(3) == 0 {
		s.LastError = "upstream_error"
	}
	ref, got := s, s
	ref.LeaseID, got.LeaseID = c.refLease, c.gotLease
	w.must(w.ref.Settle(ctx, ref), w.got.Settle(ctx, got))
	w.drop(c)
}

func (w *workload) renew() {
	if c, ok := w.pick(); ok {
		w.must(w.ref.RenewLease(ctx, c.jti, c.refLease, 30*time.Second, w.now),
			w.got.RenewLease(ctx, c.jti, c.gotLease, 30*time.Second, w.now))
	}
}

func (w *workload) revoke() {
	jti := profiles[w.rnd.IntN(len(profiles))].TokenID
	w.must(w.ref.Revoke(ctx, jti, w.now), w.got.Revoke(ctx, jti, w.now))
}

func (w *workload) drop(c call) {
	for i := range w.open {
		if w.open[i] == c {
			w.open = append(w.open[:i], w.open[i+1:]...)
			return
		}
	}
}

func (w *workload) must(errs ...error) {
	for _, err := range errs {
		if err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *workload) compareUsage() {
	for _, p := range profiles {
		want, ok1, err1 := w.ref.Usage(ctx, p.TokenID)
		got, ok2, err2 := w.got.Usage(ctx, p.TokenID)
		w.must(err1, err2)
		if ok1 != ok2 || !sameUsage(want, got) {
			w.t.Fatalf("usage of %s:\nsqlite %v %+v\nredis  %v %+v", p.TokenID, ok1, want, ok2, got)
		}
	}
}

func sameUsage(a, b store.Usage) bool {
	times := a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) && a.ExpiresAt.Equal(b.ExpiresAt)
	a.FirstSeen, a.LastSeen, a.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	b.FirstSeen, b.LastSeen, b.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	return times && a == b
}
