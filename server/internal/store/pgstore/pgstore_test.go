package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/pgstore"
	"github.com/relayapi/relayapi/server/internal/store/storetest"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

var ctx = context.Background()

var base = time.Unix(1_800_000_000, 0)

// TestPostgres shares one server among its subtests, each on a fresh
// database: the server is started once, and no state outlives the test.
func TestPostgres(t *testing.T) {
	srv := testservers.StartPostgres(t)
	t.Run("Contract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t, srv.NewDatabase(t)) })
	})
	t.Run("ConcurrentOpenMigratesOnce", func(t *testing.T) { concurrentOpen(t, srv.NewDatabase(t)) })
	t.Run("TwoInstancesShareOneLimit", func(t *testing.T) { twoInstances(t, srv.NewDatabase(t)) })
	t.Run("SubjectLimitExactAcrossConcurrentTokens", func(t *testing.T) { subjectRace(t, srv.NewDatabase(t)) })
	t.Run("LateSettleRacingSweepChargesOnce", func(t *testing.T) { settleRace(t, srv.NewDatabase(t)) })
	t.Run("LogSurvivesBytesPostgresRejects", func(t *testing.T) { oddBytes(t, srv.NewDatabase(t)) })
	t.Run("PruneDeletesMoreThanOneBatch", func(t *testing.T) { pruneBatches(t, srv.NewDatabase(t)) })
	t.Run("BlobsSharedAcrossInstances", func(t *testing.T) {
		url := srv.NewDatabase(t)
		a, b := open(t, url), open(t, url)
		defer a.Close()
		defer b.Close()
		storetest.SharedBlobs(t, a, b)
	})
}

// pruneBatches: Prune deletes in batches of a few thousand rows, each
// committed on its own; every expired row goes however many batches it
// takes, leases with their tokens, and nothing newer.
func pruneBatches(t *testing.T, url string) {
	s := open(t, url)
	defer s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const old, kept = 12_345, 100
	before := base.Add(time.Hour)
	for _, q := range []string{
		`INSERT INTO relayapi_request_log (time, request_id, jti, subject, provider, model, path, status, latency_us,
	ttfb_us, prompt_tokens, completion_tokens, estimated, bytes_in, bytes_out, error_code)
	SELECT $1::timestamptz + (CASE WHEN i <= $2::int THEN -1 ELSE 1 END) * i * interval '1 ms', 'req_' || i, 'tok_' || i,
	'', 'mock', 'm', '/v1/x', 200, 1, 1, 0, 0, false, 0, 0, '' FROM generate_series(1, $2::int + $3::int) i`,
		`INSERT INTO relayapi_tokens (jti, calls, expires_at, first_seen, last_seen)
	SELECT 'tok_' || i, 1, $1::timestamptz + (CASE WHEN i <= $2::int THEN -1 ELSE 1 END) * i * interval '1 ms', $1, $1
	FROM generate_series(1, $2::int + $3::int) i`,
		`INSERT INTO relayapi_leases (jti, lease_id, expires_at) SELECT 'tok_' || i, 'l', $1 FROM generate_series(1, $2::int + $3::int) i`,
	} {
		if _, err := conn.Exec(ctx, q, before, old, kept); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Prune(ctx, before); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"relayapi_request_log", "relayapi_tokens", "relayapi_leases"} {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != kept {
			t.Errorf("%s: %d rows left, want the %d newer ones", table, n, kept)
		}
	}
}

func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(ctx, pgstore.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func admission(id string, maxCalls int64) store.Admission {
	return store.Admission{TokenID: id, MaxCalls: maxCalls, ExpiresAt: base.Add(24 * time.Hour), Now: base, LeaseTTL: time.Minute}
}

// concurrentOpen starts several relays on one empty database at the same
// instant: all open, and each migration ran once.
func concurrentOpen(t *testing.T, url string) {
	start := make(chan struct{})
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			<-start
			var s *pgstore.Store
			if s, errs[i] = pgstore.Open(ctx, pgstore.Options{URL: url}); errs[i] == nil {
				s.Close()
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	open(t, url).Close() // and once more, with nothing left to apply
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, last int
	if err := conn.QueryRow(ctx, `SELECT count(*), max(version) FROM relayapi_schema_migrations`).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n < 1 || n != last {
		t.Fatalf("%d migration rows up to version %d", n, last)
	}
}

// twoInstances is two relays on one database: the limit holds across them.
func twoInstances(t *testing.T, url string) {
	stores := []*pgstore.Store{open(t, url), open(t, url)}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			g, err := stores[i%2].Admit(ctx, admission("shared", 25))
			if err != nil {
				t.Error(err)
			}
			if g.Decision == store.Admitted {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 25 {
		t.Fatalf("admitted %d across two instances, want 25", admitted.Load())
	}
}

// subjectRace admits many tokens of one subject at once: the subject's
// window is shared state outside any one token's lock.
func subjectRace(t *testing.T, url string) {
	s := open(t, url)
	t.Cleanup(func() { s.Close() })
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			a := admission(fmt.Sprintf("subject-%d", i), 0)
			a.Subject, a.SubjectLimit = "erin", store.SubjectLimit{Calls: 10, Window: time.Hour}
			g, err := s.Admit(ctx, a)
			if err != nil {
				t.Error(err)
			}
			if g.Decision == store.Admitted {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 10 {
		t.Fatalf("admitted %d calls of one subject, want 10", admitted.Load())
	}
}

// settleRace settles lapsed leases while an Admit sweeps them: whichever
// ends the lease charges it, once: 300 reserved (sweep) or 20 used
// (settle), never both.
func settleRace(t *testing.T, url string) {
	s := open(t, url)
	t.Cleanup(func() { s.Close() })
	var wg sync.WaitGroup
	for i := range 40 {
		id := fmt.Sprintf("race-%d", i)
		a := admission(id, 0)
		a.Concurrency, a.TokenBudget, a.PromptEstimate, a.RequestedMaxTokens = 1, 1000, 100, 200
		g, err := s.Admit(ctx, a)
		if err != nil || g.Decision != store.Admitted {
			t.Fatalf("%+v %v", g, err)
		}
		a.Now = base.Add(2 * time.Minute)
		wg.Go(func() {
			if err := s.Settle(ctx, store.Settlement{TokenID: id, LeaseID: g.LeaseID, PromptTokens: 10, CompletionTokens: 10}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := s.Admit(ctx, a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 40 {
		u, _, err := s.Usage(ctx, fmt.Sprintf("race-%d", i))
		if used := u.TokensUsed(); err != nil || (used != 300 && used != 20) {
			t.Fatalf("token %d used %d (%v): charged twice or not at all", i, used, err)
		}
	}
}

func oddBytes(t *testing.T, url string) {
	s := open(t, url)
	t.Cleanup(func() { s.Close() })
	recs := []store.Record{
		{Time: base, RequestID: "nul", TokenID: "odd", Path: "/v1/\x00chat"},
		{Time: base, RequestID: "utf8", TokenID: "odd", Model: "m\xff"},
	}
	if err := s.Log(ctx, recs); err != nil {
		t.Fatal(err)
	}
	page, _, err := s.Requests(ctx, store.RecordFilter{TokenID: "odd"})
	if err != nil || len(page) != 2 || page[0].Model != "m\uFFFD" || page[1].Path != "/v1/\uFFFDchat" {
		t.Fatalf("%+v %v", page, err)
	}
}

// TestSurvivesRestart stops PostgreSQL under a live store: calls fail as
// ErrUnavailable (never admitted unmetered) and work again once it is
// back, without reopening the store, with the counts it had.
func TestSurvivesRestart(t *testing.T) {
	srv := testservers.StartPostgres(t)
	s := open(t, srv.URL("relayapi"))
	t.Cleanup(func() { s.Close() })
	a := admission("restart", 4)
	warmPool(t, s)
	mustAdmit(t, s, a, 1)

	srv.Stop()
	start := time.Now()
	if _, err := s.Admit(ctx, a); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("admit while down: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ping while down: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("failing took %v: a refused connection must fail fast", took)
	}
	srv.Restart()
	mustAdmit(t, s, a, 2)

	// Restarted with no call in between: every pooled connection is dead,
	// yet the first call must succeed.
	warmPool(t, s)
	srv.Stop()
	srv.Restart()
	mustAdmit(t, s, a, 3)
	mustAdmit(t, s, a, 4)
	if g, err := s.Admit(ctx, a); err != nil || g.Decision != store.CallLimitReached {
		t.Fatalf("limit after restarts: %+v %v", g, err)
	}
}

func mustAdmit(t *testing.T, s store.Store, a store.Admission, calls int64) {
	t.Helper()
	g, err := s.Admit(ctx, a)
	if err != nil || g.Decision != store.Admitted || g.Calls != calls {
		t.Fatalf("admit: %+v %v, want call %d", g, err, calls)
	}
}

// warmPool opens several pooled connections, so a restart leaves more
// than one dead connection behind.
func warmPool(t *testing.T, s store.Store) {
	t.Helper()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, _, err := s.Usage(ctx, "warm"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
