package sqlitestore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// The cache must equal the file after every step of a random workload
// that reaches every branch: lapsed leases, late settles, renewals,
// refunds, revocations, subject windows, pruning and rolled-back batches.
func TestTheCacheFollowsTheFileUnderRandomOps(t *testing.T) {
	decisions := map[store.Decision]int{}
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s, _ := openTest(t)
			w := &workload{t: t, s: s, rnd: rand.New(rand.NewPCG(seed, 11)), now: base, decisions: decisions}
			for range 300 {
				w.step()
				checkCache(t, s)
			}
			if w.resettled == 0 || w.failed == 0 {
				t.Fatalf("no late settle (%d) or no rolled-back batch (%d)", w.resettled, w.failed)
			}
		})
	}
	// The workload must reach every decision, or it proves less than it seems.
	for d := store.Admitted; d <= store.SubjectLimitReached; d++ {
		if decisions[d] == 0 {
			t.Errorf("no admission ended in decision %d: %v", d, decisions)
		}
	}
}

type workload struct {
	t                        *testing.T
	s                        *Store
	rnd                      *rand.Rand
	now                      time.Time
	grants                   []grant
	decisions                map[store.Decision]int
	steps, resettled, failed int
}

type grant struct {
	jti   string
	lease string
}

// step runs one random op, or a batch of them behind a gate, sometimes
// with a failing op that rolls the batch back.
func (w *workload) step() {
	w.steps++
	w.now = w.now.Add(time.Duration(w.rnd.IntN(6)) * time.Second)
	if w.rnd.IntN(4) > 0 {
		w.run(w.randomOp())
		return
	}
	release := gate(w.t, w.s)
	ops := make([]op, 2+w.rnd.IntN(6))
	reqs := make([]*request, len(ops))
	for i := range ops {
		ops[i] = w.randomOp()
		if w.rnd.IntN(5) == 0 {
			ops[i] = failingOp
		}
		reqs[i] = queue(w.t, w.s, bg, ops[i])
	}
	release()
	for i, r := range reqs {
		w.done(ops[i], result(r))
	}
}

func (w *workload) run(o op) {
	w.done(o, w.s.w.do(bg, o))
}

func (w *workload) done(o op, err error) {
	if o == failingOp {
		if err == nil {
			w.t.Fatal("the failing op succeeded")
		}
		w.failed++
		return
	}
	if err != nil {
		w.t.Fatalf("%T: %v", o, err)
	}
	if a, ok := o.(*admitOp); ok {
		w.decisions[a.g.Decision]++
		if a.g.LeaseID != "" {
			w.grants = append(w.grants, grant{a.a.TokenID, a.g.LeaseID})
		}
	}
}

func (w *workload) randomOp() op {
	// Four tokens at a time, replaced as time goes, so revoked and
	// exhausted ones do not end the workload.
	jti := fmt.Sprintf("tok-%d", w.steps/20+w.rnd.IntN(4))
	n := w.rnd.IntN(100)
	switch {
	case n < 25 && len(w.grants) > 0:
		return &settleOp{w.settlement()}
	case n < 35 && len(w.grants) > 0:
		g := w.grants[w.rnd.IntN(len(w.grants))]
		return &renewOp{jti: g.jti, leaseID: g.lease, expiresAt: w.now.Add(time.Duration(w.rnd.IntN(60)) * time.Second).UnixMilli(), now: w.now.UnixMilli()}
	case n == 35:
		return &revokeOp{jti: jti, now: w.now.UnixMilli()}
	case n < 39:
		return pruneAllOp{ms: w.now.UnixMilli(), secs: w.now.Unix()}
	case n < 42:
		return logOp{{Time: w.now, RequestID: "r", TokenID: jti}}
	}
	return &admitOp{a: w.admission(jti)}
}

func (w *workload) admission(jti string) store.Admission {
	r := w.rnd
	a := store.Admission{
		TokenID: jti, MaxCalls: int64(r.IntN(30)), RPM: int64(r.IntN(2) * 2), Concurrency: int64(r.IntN(4)),
		TokenBudget: int64(r.IntN(2) * 1500), PromptEstimate: int64(r.IntN(300)), RequestedMaxTokens: int64(r.IntN(400)),
		// Some tokens expire soon, so Prune drops their state.
		ExpiresAt: w.now.Add(time.Duration(r.IntN(3)) * 5 * time.Minute), Now: w.now, LeaseTTL: time.Duration(10+r.IntN(30)) * time.Second,
	}
	if r.IntN(2) == 0 {
		a.Subject = fmt.Sprintf("user-%d", r.IntN(2))
		a.SubjectLimit = store.SubjectLimit{Calls: 8, Window: 5 * time.Minute}
	}
	return a
}

// settlement settles a known lease (perhaps lapsed, perhaps settled
// already) or a call without one.
func (w *workload) settlement() store.Settlement {
	i := w.rnd.IntN(len(w.grants))
	g := w.grants[i]
	if w.rnd.IntN(3) > 0 {
		w.grants = append(w.grants[:i], w.grants[i+1:]...)
	} else {
		w.resettled++ // settled again later: must change nothing
	}
	s := store.Settlement{
		TokenID: g.jti, LeaseID: g.lease, PromptTokens: int64(w.rnd.IntN(100)), CompletionTokens: int64(w.rnd.IntN(100)),
		Refund: w.rnd.IntN(4) == 0, RefundLimit: int64(w.rnd.IntN(4)), Now: w.now,
	}
	if w.rnd.IntN(3) == 0 {
		s.LeaseID = ""
		s.LastError = "upstream_unreachable"
	}
	return s
}
