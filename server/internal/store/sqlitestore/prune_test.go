package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// pruneFixture fills a store with state on both sides of before:
// log lines, tokens (with leases and subject windows), revocations.
type pruneFixture struct {
	before                 time.Time
	oldLogs, newLogs       int
	oldTokens, newTokens   int
	oldRevoked, newRevoked []string
	unknownRevoked         string
	oldWindows             int
}

func (f *pruneFixture) fill(t *testing.T, s *Store) {
	t.Helper()
	f.before = base.Add(48 * time.Hour)
	var recs []store.Record
	for i := range f.oldLogs + f.newLogs {
		at := base.Add(time.Duration(i) * time.Millisecond) // old
		if i >= f.oldLogs {
			at = f.before.Add(time.Duration(i) * time.Millisecond)
		}
		recs = append(recs, store.Record{Time: at, RequestID: fmt.Sprint("r", i), TokenID: "t"})
	}
	for len(recs) > 0 {
		n := min(len(recs), 500)
		if err := s.Log(bg, recs[:n]); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	total := f.oldTokens + f.newTokens
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				if err := f.admit(s, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, jti := range append(append(f.oldRevoked, f.newRevoked...), f.unknownRevoked) {
		if err := s.Revoke(bg, jti, base); err != nil {
			t.Fatal(err)
		}
	}
}

// admit admits token i: the first oldTokens expire before before, each
// holds a lease, and the first oldWindows count in a subject window that
// starts before before.
func (f *pruneFixture) admit(s *Store, i int) error {
	a := admission(f.jti(i), func(a *store.Admission) {
		a.Concurrency = 5
		a.ExpiresAt = f.before.Add(time.Hour)
		if i < f.oldTokens {
			a.ExpiresAt = f.before.Add(-time.Hour)
		}
		a.Subject = fmt.Sprint("user-", i)
		a.SubjectLimit = store.SubjectLimit{Calls: 100, Window: time.Hour}
		if i >= f.oldWindows {
			a.Now = f.before.Add(time.Minute)
		}
	})
	g, err := s.Admit(bg, a)
	if err == nil && g.Decision != store.Admitted {
		err = fmt.Errorf("admit %s: %+v", a.TokenID, g)
	}
	return err
}

func (f *pruneFixture) jti(i int) string { return fmt.Sprintf("tok-%05d", i) }

// counts are the rows of every table the prune touches.
func counts(t *testing.T, s *Store) (c [5]int64) {
	t.Helper()
	for i, table := range []string{"request_log", "token_usage", "leases", "revocations", "subject_usage"} {
		if err := s.read.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&c[i]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestPruneDeletesInStepsOfAtMostAChunk(t *testing.T) {
	s, _ := openTest(t)
	f := &pruneFixture{
		oldLogs: 2*pruneChunk + pruneChunk/2, newLogs: 10,
		oldTokens: pruneChunk + pruneChunk/2, newTokens: pruneChunk,
		oldRevoked: []string{"tok-00001", "tok-00002"}, newRevoked: []string{fmt.Sprintf("tok-%05d", pruneChunk*2)},
		unknownRevoked: "never-seen", oldWindows: pruneChunk,
	}
	f.fill(t, s)
	checkCache(t, s) // the cache holds tokens the prune deletes

	o := &pruneOp{ms: f.before.UnixMilli(), secs: f.before.Unix()}
	prev := counts(t, s)
	steps, slowest := 0, time.Duration(0)
	for o.at.table != pruneDone {
		start := time.Now()
		if err := s.w.do(bg, o); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		o.at = o.next
		steps++
		now := counts(t, s)
		var deleted int64
		for i := range now {
			deleted += prev[i] - now[i]
		}
		if deleted > 2*pruneChunk { // a token goes with its lease
			t.Fatalf("step %d deleted %d rows", steps, deleted)
		}
		prev = now
	}
	t.Logf("%d steps, the slowest %v", steps, slowest)
	// At least 3 steps for the log (2,500 lines), 3 for the tokens (2,500
	// keys), 1 for the revocations and 3 for the subject windows; more
	// when a step runs out of time.
	if steps < 10 {
		t.Fatalf("%d steps: the prune did not go in chunks", steps)
	}
	want := [5]int64{int64(f.newLogs), int64(f.newTokens), int64(f.newTokens), int64(len(f.newRevoked) + 1), int64(f.oldTokens + f.newTokens - f.oldWindows)}
	if got := counts(t, s); got != want {
		t.Fatalf("rows left (log, tokens, leases, revocations, windows): %v, want %v", got, want)
	}
	for _, jti := range f.oldRevoked {
		if _, ok, _ := s.Usage(bg, jti); ok {
			t.Fatalf("%s: expired revoked token kept", jti)
		}
	}
	for _, jti := range append(f.newRevoked, f.unknownRevoked) {
		if u, ok, _ := s.Usage(bg, jti); !ok || !u.Revoked {
			t.Fatalf("%s: live revocation lost: %+v", jti, u)
		}
	}
	checkCache(t, s)
	// Pruned tokens are gone from the cache too: admitted again, they
	// start from zero; live ones keep counting.
	for _, i := range []int{0, f.oldTokens} {
		g, err := s.Admit(bg, admission(f.jti(i), func(a *store.Admission) { a.Now = f.before }))
		if err != nil || g.Calls != int64(1+i/f.oldTokens) {
			t.Fatalf("%s after the prune: %+v %v", f.jti(i), g, err)
		}
	}
	checkCache(t, s)
}

// Pruning a large log no longer holds the writer: calls run between its
// steps.
func TestPruneLetsCallsRunBetweenItsSteps(t *testing.T) {
	s, _ := openTest(t)
	f := &pruneFixture{oldLogs: 30 * pruneChunk}
	f.fill(t, s)
	during := callsDuringPrune(t, s, f.before)
	if during < 5 {
		t.Fatalf("%d calls ran while the prune did", during)
	}
	if c := counts(t, s); c[0] != 0 {
		t.Fatalf("%d log lines left", c[0])
	}
	t.Logf("%d calls ran during the prune of %d log lines", during, f.oldLogs)
}

// callsDuringPrune prunes before, admitting calls one after another
// meanwhile, and returns how many ran while the prune did.
func callsDuringPrune(t *testing.T, s *Store, before time.Time) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Prune(bg, before) }()
	for during := 0; ; during++ {
		if _, err := s.Admit(bg, admission("busy", func(a *store.Admission) { a.MaxCalls = 1_000_000 })); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return during
		default:
		}
	}
}

// Pruning a backlog leaves the writer to the calls: after each step it
// rests pruneRest times as long as the step took, so sequential calls get
// several turns per step instead of one (sent back to back, a step rode
// along with every batch and a loaded relay fell to a tenth of its rate).
func TestPrunePacesItsStepsSoCallsKeepTheWriter(t *testing.T) {
	s, _ := openTest(t)
	f := &pruneFixture{oldLogs: 20 * pruneChunk}
	f.fill(t, s)
	minSteps := f.oldLogs / pruneChunk
	during := callsDuringPrune(t, s, f.before)
	// A rest is at least pruneRest (4) times a step's commit, and a call is
	// about one commit: unpaced, calls and steps alternate (about one call
	// per step).
	if during < 3*minSteps {
		t.Fatalf("%d calls ran during a prune of at least %d steps: steps are not paced", during, minSteps)
	}
	t.Logf("%d calls ran during the prune of %d log lines", during, f.oldLogs)
}

func TestPruneStopsWithItsContextAndTheNextOneFinishes(t *testing.T) {
	s, _ := openTest(t)
	f := &pruneFixture{oldLogs: 3 * pruneChunk, oldTokens: 10, newTokens: 10}
	f.fill(t, s)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.Prune(ctx, f.before); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("canceled prune: %v", err)
	}
	if err := s.Prune(bg, f.before); err != nil {
		t.Fatal(err)
	}
	if c := counts(t, s); c[0] != 0 || c[1] != 10 {
		t.Fatalf("rows left: %v", c)
	}
}
