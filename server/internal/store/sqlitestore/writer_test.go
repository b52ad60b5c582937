package sqlitestore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

func TestAFailingOpFailsAloneInItsBatch(t *testing.T) {
	s, _ := openTest(t)
	release := gate(t, s)
	a := admission("neighbour", func(a *store.Admission) { a.MaxCalls = 100; a.Concurrency = 100 })
	var admits []*admitOp
	var reqs []*request
	var bad *request
	for i := range 10 {
		if i == 5 {
			bad = queue(t, s, bg, failingOp)
		}
		o := &admitOp{a: a}
		admits, reqs = append(admits, o), append(reqs, queue(t, s, bg, o))
	}
	release()
	for i, r := range reqs {
		if err := result(r); err != nil {
			t.Fatalf("admit %d failed because of its neighbour: %v", i, err)
		}
		if g := admits[i].g; g.Decision != store.Admitted || g.Calls != int64(i+1) || g.LeaseID == "" {
			t.Fatalf("admit %d: %+v", i, g)
		}
	}
	err := result(bad)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "NOT NULL") {
		t.Fatalf("the faulty op: %v", err)
	}
	if s.w.fallbacks != 1 {
		t.Fatalf("%d batches fell back, want 1", s.w.fallbacks)
	}
	u, _, err := s.Usage(bg, "neighbour")
	if err != nil || u.Calls != 10 {
		t.Fatalf("usage %+v %v", u, err)
	}
	checkCache(t, s)
}

func TestARolledBackBatchLeavesTheCacheEqualToTheFile(t *testing.T) {
	s, _ := openTest(t)
	// An admission reserving exactly 777 tokens fails at its lease INSERT,
	// after its call was already counted in the cache and the file.
	if err := s.w.do(bg, execOp(`CREATE TRIGGER refuse_777 BEFORE INSERT ON leases WHEN NEW.reserved = 777
		BEGIN SELECT RAISE(ABORT, 'reservation 777 refused'); END`)); err != nil {
		t.Fatal(err)
	}
	a := admission("shared", func(a *store.Admission) {
		a.Concurrency, a.TokenBudget, a.RPM = 10, 100_000, 600
		a.PromptEstimate, a.RequestedMaxTokens = 100, 100
		a.Subject, a.SubjectLimit = "sam", store.SubjectLimit{Calls: 100, Window: 24 * time.Hour}
	})
	warm, err := s.Admit(bg, a)
	if err != nil || warm.Decision != store.Admitted {
		t.Fatalf("%+v %v", warm, err)
	}
	release := gate(t, s)
	var reqs []*request
	for range 3 {
		reqs = append(reqs, queue(t, s, bg, &admitOp{a: a}))
	}
	reqs = append(reqs, queue(t, s, bg, &settleOp{store.Settlement{TokenID: "shared", LeaseID: warm.LeaseID, PromptTokens: 50, CompletionTokens: 60}}))
	faulty := a
	faulty.PromptEstimate, faulty.RequestedMaxTokens = 700, 77
	bad := queue(t, s, bg, &admitOp{a: faulty})
	for range 3 {
		reqs = append(reqs, queue(t, s, bg, &admitOp{a: a}))
	}
	release()
	for i, r := range reqs {
		if err := result(r); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	if err := result(bad); err == nil || !strings.Contains(err.Error(), "reservation 777 refused") {
		t.Fatalf("the faulty admission: %v", err)
	}
	if tokens, subjects := checkCache(t, s); tokens != 1 || subjects != 1 {
		t.Fatalf("compared %d tokens and %d windows: the check proves nothing", tokens, subjects)
	}
	u, _, err := s.Usage(bg, "shared")
	if err != nil || u.Calls != 7 || u.Reserved != 6*200 || u.TokensUsed() != 110 {
		t.Fatalf("usage %+v %v", u, err)
	}
}

func TestAnOpWhoseCallerGaveUpIsNotRun(t *testing.T) {
	s, _ := openTest(t)
	release := gate(t, s)
	ctx, cancel := context.WithCancel(bg)
	r := queue(t, s, ctx, &admitOp{a: admission("gave-up", nil)})
	cancel()
	release()
	if err := result(r); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("%v", err)
	}
	if _, ok, err := s.Usage(bg, "gave-up"); ok || err != nil {
		t.Fatalf("the abandoned admission ran: %v %v", ok, err)
	}
}

func TestCloseFinishesQueuedOpsAndRefusesNewOnes(t *testing.T) {
	s, path := openTest(t)
	release := gate(t, s)
	a := admission("draining", func(a *store.Admission) { a.MaxCalls = 100 })
	var reqs []*request
	for range 20 {
		reqs = append(reqs, queue(t, s, bg, &admitOp{a: a}))
	}
	s.w.stop() // the first half of Close
	if _, err := s.Admit(bg, a); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("admit after close: %v", err)
	}
	release()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if err := result(r); err != nil {
			t.Fatalf("queued op %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Ping(bg); err == nil {
		t.Fatal("ping of a closed store")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, _, err := s.Usage(bg, "draining"); err != nil || u.Calls != 20 {
		t.Fatalf("usage after reopening: %+v %v", u, err)
	}
}

func TestPing(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Ping(bg); err != nil {
		t.Fatal(err)
	}
}
