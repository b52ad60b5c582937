package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// hangGuard bounds how long a test waits for callers that must all
// return; it only turns a hang into a failure.
const hangGuard = 20 * time.Second

func plainAdmission(jti string) store.Admission {
	now := time.Now()
	return store.Admission{TokenID: jti, Now: now, ExpiresAt: now.Add(time.Hour), LeaseTTL: time.Minute}
}

// Many callers share pipelines; the limit still holds exactly, on one
// server and on a Cluster (where a pipeline splits by slot).
func TestPipelinedAdmitsAreExact(t *testing.T) {
	url := testservers.Redis(t)
	stores := map[string]func() *redisstore.Store{
		"single":  func() *redisstore.Store { return open(t, url) },
		"cluster": func() *redisstore.Store { return redisstore.NewWithClient(clusterClient(t)) },
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			s := mk()
			defer s.Close()
			t.Run("max_calls", func(t *testing.T) {
				a := plainAdmission("exact-" + name)
				a.MaxCalls = 50
				admitted := admitAll(t, s, 500, func(int) store.Admission { return a })
				if admitted != 50 {
					t.Fatalf("admitted %d, want 50", admitted)
				}
				if u, ok, err := s.Usage(ctx, a.TokenID); err != nil || !ok || u.Calls != 50 {
					t.Fatalf("usage %+v %v %v", u, ok, err)
				}
			})
			// The subject limit takes up to three scripts per call (take,
			// admit, give back), each in whatever pipeline is going.
			t.Run("subject", func(t *testing.T) {
				admitted := admitAll(t, s, 500, func(i int) store.Admission {
					return subjectAdmission(fmt.Sprintf("subject-%s-%03d", name, i), "sub-"+name)
				})
				if admitted != 50 {
					t.Fatalf("admitted %d, want 50", admitted)
				}
			})
			// Tokens that refuse give their subject call back, so the window
			// ends counting exactly the admitted (a refusal meanwhile may be
			// spurious: never more than the limit).
			t.Run("subject_give_back", func(t *testing.T) {
				sub := "giver-" + name
				admitted := admitAll(t, s, 500, func(i int) store.Admission {
					a := subjectAdmission(fmt.Sprintf("giver-%s-%03d", name, i), sub)
					if i%2 == 1 {
						a.TokenBudget, a.PromptEstimate = 1, 10 // refused: over budget
					}
					return a
				})
				if admitted > 50 || admitted == 0 {
					t.Fatalf("admitted %d, want 1..50", admitted)
				}
				probe := subjectAdmission("giver-probe-"+name, sub)
				probe.SubjectLimit.Calls = admitted // full iff the window counts exactly the admitted
				if g, err := s.Admit(ctx, probe); err != nil || g.Decision != store.SubjectLimitReached {
					t.Fatalf("window holds fewer calls than admitted: %+v %v", g, err)
				}
				probe.SubjectLimit.Calls = admitted + 1
				if g, err := s.Admit(ctx, probe); err != nil || g.Decision != store.Admitted {
					t.Fatalf("window holds more calls than admitted: %+v %v", g, err)
				}
			})
		})
	}
}

// subjectAdmission shares a 50-call subject window; all its admissions
// have the same Now, so a test cannot straddle two windows.
func subjectAdmission(jti, sub string) store.Admission {
	a := plainAdmission(jti)
	a.Now = subjectNow
	a.Subject, a.SubjectLimit = sub, store.SubjectLimit{Calls: 50, Window: time.Hour}
	return a
}

var subjectNow = time.Now().Truncate(time.Hour)

// admitAll runs n concurrent Admits and counts the admitted; any error
// fails the test.
func admitAll(t *testing.T, s store.Store, n int, admission func(int) store.Admission) int64 {
	t.Helper()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			g, err := s.Admit(ctx, admission(i))
			switch {
			case err != nil:
				t.Error(err)
			case g.Decision == store.Admitted:
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	return admitted.Load()
}

// After SCRIPT FLUSH (as after a restart or failover), the next pipelines
// get NOSCRIPT for every call; each call is resent with EVAL, once, and
// the scripts are cached again.
func TestScriptFlushMidRun(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		url := testservers.Redis(t)
		scriptFlushMidRun(t, open(t, url), client(t, url))
	})
	// On a Cluster the EVAL resend still goes to each call's slot.
	t.Run("cluster", func(t *testing.T) {
		cc := clusterClient(t)
		var node *redis.Client // the one node, which owns every slot
		if err := cc.ForEachMaster(ctx, func(_ context.Context, n *redis.Client) error {
			node = n
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		scriptFlushMidRun(t, redisstore.NewWithClient(cc), node)
	})
}

// scriptFlushMidRun runs calls on s while c flushes the script cache of
// the server behind s.
func scriptFlushMidRun(t *testing.T, s store.Store, c *redis.Client) {
	defer s.Close()
	w := startWorkers(64, func(i int) error {
		return admitSettleRenew(s, fmt.Sprintf("flush-%02d", i%8))
	})
	w.waitProgress(t, 200)
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	w.stopAfter(20) // steps each, all after the flush
	for _, err := range w.wait(t) {
		t.Errorf("call failed across SCRIPT FLUSH: %v", err)
	}
	// Subject scripts too, one at a time so each meets an empty cache.
	for range 2 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		a := subjectAdmission("flush-subject", "flusher")
		a.MaxCalls = 1
		if _, err := s.Admit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.HGet(ctx, "ra:{flush-subject}:u", "calls").Val(); n != "1" {
		t.Fatalf("calls %q", n)
	}
	if w := c.Get(ctx, subjectWindow(c, "flusher")).Val(); w != "1" {
		t.Fatalf("subject window %q: the refused call was not given back", w)
	}
	// Proof the path ran: Redis refused EVALSHA and the store sent EVAL.
	if n := infoCount(t, c, "errorstats", "errorstat_NOSCRIPT"); n == 0 {
		t.Fatal("no NOSCRIPT seen: the flush came too late to test anything")
	}
	if n := infoCount(t, c, "commandstats", "cmdstat_eval"); n == 0 {
		t.Fatal("NOSCRIPT but no EVAL")
	}
}

// infoCount reads a count from INFO section (the count= or calls= field of
// the line named stat), 0 if absent.
func infoCount(t *testing.T, c *redis.Client, section, stat string) int64 {
	t.Helper()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		fields, ok := strings.CutPrefix(line, stat+":")
		if !ok {
			continue
		}
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			if k == "count" || k == "calls" {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
	}
	return 0
}

func subjectWindow(c *redis.Client, sub string) string {
	keys := c.Keys(ctx, "ra:{s:"+sub+"}:w:*").Val()
	if len(keys) != 1 {
		return ""
	}
	return keys[0]
}

// admitSettleRenew is one leased call: every pipelined script but subject.
func admitSettleRenew(s store.Store, jti string) error {
	a := plainAdmission(jti)
	a.Concurrency, a.TokenBudget, a.PromptEstimate, a.RequestedMaxTokens = 1<<20, 1<<40, 10, 10
	g, err := s.Admit(ctx, a)
	if err != nil {
		return err
	}
	if g.Decision != store.Admitted {
		return fmt.Errorf("decision %d", g.Decision)
	}
	if err := s.RenewLease(ctx, jti, g.LeaseID, time.Minute, a.Now); err != nil {
		return err
	}
	return s.Settle(ctx, store.Settlement{TokenID: jti, LeaseID: g.LeaseID, PromptTokens: 1, Now: a.Now})
}

// Redis killed while pipelines are in flight and queued: every caller
// gets ErrUnavailable at once (connections refused), none hangs.
func TestRedisStoppedMidBatch(t *testing.T) {
	srv := testservers.StartRedis(t)
	s, err := redisstore.Open(ctx, redisstore.Options{URL: srv.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	failUntilOutage(t, s, srv.Stop, outageTimeout)
}

// A Redis that goes silent mid-run (hung, or a network black hole): the
// calls in flight and those queued behind them all fail with
// ErrUnavailable. A queued call waits for the pipelines ahead of it to
// time out, then gets its own round trip: twice the timeout at worst.
func TestRedisSilentMidBatch(t *testing.T) {
	proxy := newSilencer(t, testservers.StartRedis(t).Addr())
	s, err := redisstore.Open(ctx, redisstore.Options{URL: proxy.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// With slack for a loaded machine under -race.
	failUntilOutage(t, s, proxy.silence, 2*outageTimeout+outageTimeout/2)
}

// failUntilOutage runs callers until cut makes Redis unreachable, and
// more callers right after the cut, whose calls queue behind the ones in
// flight. Every caller's first failure must be ErrUnavailable and come
// within limit of its call.
func failUntilOutage(t *testing.T, s store.Store, cut func(), limit time.Duration) {
	t.Helper()
	var slowest atomic.Int64
	step := func(i int) error {
		start := time.Now()
		_, err := s.Admit(ctx, plainAdmission(fmt.Sprintf("outage-%02d", i%4)))
		if err != nil {
			d := time.Since(start)
			for old := slowest.Load(); int64(d) > old && !slowest.CompareAndSwap(old, int64(d)); {
				old = slowest.Load()
			}
			if d > limit {
				err = fmt.Errorf("%w: failed after %v (limit %v): %v", errSlow, d, limit, err)
			}
		}
		return err
	}
	early := startWorkers(64, step)
	early.waitProgress(t, 200)
	cut()
	late := startWorkers(64, step)
	errs := append(early.wait(t), late.wait(t)...)
	if len(errs) != 128 {
		t.Fatalf("%d callers failed, want all 128", len(errs))
	}
	for _, err := range errs {
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, errSlow) {
			t.Error(err)
		}
	}
	t.Logf("slowest failure %v", time.Duration(slowest.Load()))
}

var errSlow = errors.New("slow")

// Close while calls are in flight: each caller is answered, and exactly
// the calls reported admitted are spent (none sent then dropped).
func TestCloseAnswersEveryCall(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	var admitted atomic.Int64
	w := startWorkers(64, func(int) error {
		g, err := s.Admit(ctx, plainAdmission("closing"))
		if err == nil && g.Decision == store.Admitted {
			admitted.Add(1)
		}
		return err
	})
	w.waitProgress(t, 200)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, err := range w.wait(t) {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("after close: %v", err)
		}
	}
	calls, err := c.HGet(ctx, "ra:{closing}:u", "calls").Int64()
	if err != nil || calls != admitted.Load() {
		t.Fatalf("redis counted %d calls (%v), callers were told %d", calls, err, admitted.Load())
	}
}

// A caller that gave up before its call was sent is answered with its
// context's error, and nothing is spent.
func TestEndedContextIsNotSent(t *testing.T) {
	s := open(t, testservers.Redis(t))
	defer s.Close()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Admit(cctx, plainAdmission("gave-up")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("admit with an ended context: %v", err)
	}
	if _, ok, err := s.Usage(ctx, "gave-up"); ok || err != nil {
		t.Fatalf("a call was spent: %v %v", ok, err)
	}
}

// workers runs callers that repeat a step until it fails or they are
// told to stop.
type workers struct {
	wg     sync.WaitGroup
	oks    atomic.Int64
	signal chan struct{} // gets a value at each success, while anyone listens
	stop   chan struct{}
	extra  atomic.Int64 // steps still to run after stop (-1: none asked)

	mu   sync.Mutex
	errs []error
}

func startWorkers(n int, step func(i int) error) *workers {
	w := &workers{signal: make(chan struct{}, 1), stop: make(chan struct{})}
	w.extra.Store(-1)
	for i := range n {
		w.wg.Go(func() { w.loop(i, step) })
	}
	return w
}

func (w *workers) loop(i int, step func(int) error) {
	var after int64
	for {
		select {
		case <-w.stop:
			if after++; after > w.extra.Load() {
				return
			}
		default:
		}
		if err := step(i); err != nil {
			w.mu.Lock()
			w.errs = append(w.errs, err)
			w.mu.Unlock()
			return
		}
		w.oks.Add(1)
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
}

// waitProgress returns once n steps succeeded overall (calls are flowing
// through pipelines).
func (w *workers) waitProgress(t *testing.T, n int64) {
	t.Helper()
	guard := time.After(hangGuard)
	for w.oks.Load() < n {
		select {
		case <-w.signal:
		case <-guard:
			t.Fatalf("no progress: %d steps", w.oks.Load())
		}
	}
}

// stopAfter lets each worker run n more steps, then stop.
func (w *workers) stopAfter(n int64) {
	w.extra.Store(n)
	close(w.stop)
}

// wait waits for every worker to end and returns their errors.
func (w *workers) wait(t *testing.T) []error {
	t.Helper()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatal("callers hung")
	}
	return w.errs
}
