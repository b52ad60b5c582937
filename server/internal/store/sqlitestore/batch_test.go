package sqlitestore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Writing each row once per batch must not change what is written: the
// same ops, run one per transaction or in batches of random sizes, give
// the same answers and leave the same file, even when some of them fail
// (in their apply or in the batch's flush) and the batch falls back to
// running them one by one.
func TestBatchesLeaveTheSameFileAsSingleOps(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			prog := randomProgram(rand.New(rand.NewPCG(seed, 7)), 500)
			single := runProgram(t, prog, func() int { return 1 })
			rnd := rand.New(rand.NewPCG(seed, 8))
			batched := runProgram(t, prog, func() int { return 1 + rnd.IntN(48) })
			compareRuns(t, prog, single, batched)
			if batched.fallbacks == 0 || batched.failed == 0 || batched.poisoned == 0 {
				t.Fatalf("no batch fell back (%d), no op failed (%d) or none at its flush (%d)",
					batched.fallbacks, batched.failed, batched.poisoned)
			}
			if batched.lapsed == 0 || batched.netted == 0 {
				t.Fatalf("no lease lapsed (%d) or none was added and removed in one batch (%d)", batched.lapsed, batched.netted)
			}
		})
	}
}

// A token admitted and settled in one batch ends with the row it has when
// each call is its own batch, to the last column.
func TestOneBatchWritesTheRowsOfSeparateBatches(t *testing.T) {
	a := admission("together", func(a *store.Admission) {
		a.MaxCalls, a.RPM, a.Concurrency, a.TokenBudget = 10, 600, 5, 10_000
		a.PromptEstimate, a.RequestedMaxTokens = 100, 200
		a.Subject, a.SubjectLimit = "sue", store.SubjectLimit{Calls: 10, Window: time.Hour}
	})
	later := func(d time.Duration) store.Admission {
		b := a
		b.Now = a.Now.Add(d)
		b.MaxCalls, b.TokenBudget = 12, 20_000 // the latest token's limits are kept
		return b
	}
	prog := []step{
		{admit: &a},
		{settle: &store.Settlement{TokenID: "together", PromptTokens: 30, CompletionTokens: 40}, lease: 0},
		{admit: &a},
		{admit: ptr(later(time.Second))},
		{settle: &store.Settlement{TokenID: "together", Refund: true, LastError: "upstream_unreachable"}, lease: 2},
		{renew: time.Minute, lease: 3, at: a.Now.Add(2 * time.Second)},
		{settle: &store.Settlement{TokenID: "together", PromptTokens: 5, CompletionTokens: 6}, lease: 3},
		{admit: ptr(later(3 * time.Second))},
	}
	single := runProgram(t, prog, func() int { return 1 })
	together := runProgram(t, prog, func() int { return len(prog) })
	compareRuns(t, prog, single, together)
	if together.netted != 3 {
		t.Fatalf("%d leases added and removed in the batch, want 3", together.netted)
	}
	for _, row := range together.tables["token_usage"] {
		if !strings.Contains(row, "upstream_unreachable") {
			t.Fatalf("row %s lost the last error", row)
		}
	}
}

// A batch whose flush fails (here a token row the file refuses) falls
// back to one transaction per op: only the op that wrote that row fails.
func TestAFailedFlushFailsOnlyTheOpBehindIt(t *testing.T) {
	s, _ := openTest(t)
	if err := s.w.do(bg, execOp(poisonTriggers)); err != nil {
		t.Fatal(err)
	}
	release := gate(t, s)
	a := admission("neighbour", func(a *store.Admission) {
		a.MaxCalls, a.Concurrency, a.TokenBudget, a.PromptEstimate, a.RequestedMaxTokens = 100, 100, 100_000, 10, 10
	})
	var admits []*admitOp
	var reqs []*request
	var bad *request
	for i := range 10 {
		if i == 5 {
			bad = queue(t, s, bg, &admitOp{a: admission("poison", nil)})
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
	if err := result(bad); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "poisoned token") {
		t.Fatalf("the faulty op: %v", err)
	}
	if s.w.fallbacks != 1 {
		t.Fatalf("%d batches fell back, want 1", s.w.fallbacks)
	}
	u, _, err := s.Usage(bg, "neighbour")
	if err != nil || u.Calls != 10 || u.Reserved == 0 {
		t.Fatalf("usage %+v %v", u, err)
	}
	if _, ok, _ := s.Usage(bg, "poison"); ok {
		t.Fatal("the refused row is in the file")
	}
	checkCache(t, s)
}

// poisonTriggers make the file refuse the row of token "poison" and the
// window of subject "poison": errors only a batch's flush meets.
const poisonTriggers = `
CREATE TRIGGER poison_token BEFORE INSERT ON token_usage WHEN NEW.jti = 'poison'
BEGIN SELECT RAISE(ABORT, 'poisoned token'); END;
CREATE TRIGGER poison_subject BEFORE INSERT ON subject_usage WHEN NEW.subject = 'poison'
BEGIN SELECT RAISE(ABORT, 'poisoned subject'); END;`

func ptr[T any](v T) *T { return &v }

// step is one op of a program. Leases are named by the index of the
// admission that took them, resolved when the op runs, so a settle may
// share a batch with its admission.
type step struct {
	admit  *store.Admission
	settle *store.Settlement
	renew  time.Duration // renew lease for this long, at
	lease  int           // the admission whose lease settle or renew names
	jti    string        // the token of a renewal or a revocation
	at     time.Time
	revoke bool
	log    []store.Record
	prune  bool
	fail   bool
}

// run is what one execution of a program produced.
type run struct {
	leases  map[int]string // admission index → its lease
	answers []string
	tables  map[string][]string

	fallbacks, failed, poisoned, lapsed, netted int
}

// programOp is a step bound to a run; it resolves lease names in apply.
type programOp struct {
	r      *run
	i      int
	s      step
	answer string
}

func (o *programOp) apply(w *writer) error {
	s := o.s
	var inner op
	switch {
	case s.admit != nil:
		if ts, ok := w.cache.tokens.Peek(s.admit.TokenID); ok {
			for _, l := range ts.leases {
				if l.expiresAt <= s.admit.Now.UnixMilli() {
					o.r.lapsed++
					break
				}
			}
		}
		inner = &admitOp{a: *s.admit}
	case s.settle != nil:
		st := *s.settle
		st.LeaseID = o.r.leases[s.lease]
		if ts, ok := w.cache.tokens.Peek(st.TokenID); ok && st.LeaseID != "" {
			if l, ok := ts.leases[st.LeaseID]; ok && l.state == leaseNew {
				o.r.netted++
			}
		}
		inner = &settleOp{st}
	case s.renew != 0:
		inner = &renewOp{jti: s.jti, leaseID: o.r.leases[s.lease], expiresAt: s.at.Add(s.renew).UnixMilli(), now: s.at.UnixMilli()}
	case s.revoke:
		inner = &revokeOp{jti: s.jti, now: s.at.UnixMilli()}
	case s.log != nil:
		inner = logOp(s.log)
	case s.prune:
		inner = pruneAllOp{ms: s.at.UnixMilli(), secs: s.at.Unix()}
	default:
		inner = failingOp
	}
	err := inner.apply(w)
	o.answer = fmt.Sprintf("%T", inner)
	if a, ok := inner.(*admitOp); ok {
		if err == nil && a.g.LeaseID != "" {
			o.r.leases[o.i] = a.g.LeaseID
		}
		g := a.g
		g.LeaseID = ""
		o.answer += fmt.Sprintf(" %+v", g)
	}
	return err
}

// runProgram runs prog on a fresh store in batches of size() ops (at
// least one), checking the cache against the file after each batch, and
// returns the answers and the content of every table.
func runProgram(t *testing.T, prog []step, size func() int) *run {
	t.Helper()
	s, _ := openTest(t)
	if err := s.w.do(bg, execOp(poisonTriggers)); err != nil {
		t.Fatal(err)
	}
	r := &run{leases: map[int]string{}}
	ops := make([]*programOp, len(prog))
	for i := range prog {
		ops[i] = &programOp{r: r, i: i, s: prog[i]}
	}
	errs := make([]error, len(prog))
	for i := 0; i < len(ops); {
		n := min(size(), len(ops)-i)
		if n == 1 {
			errs[i] = s.w.do(bg, ops[i])
		} else {
			release := gate(t, s)
			reqs := make([]*request, n)
			for j := range n {
				reqs[j] = queue(t, s, bg, ops[i+j])
			}
			release()
			for j, req := range reqs {
				errs[i+j] = result(req)
			}
		}
		i += n
		checkCache(t, s)
	}
	for i, o := range ops {
		answer := o.answer
		if err := errs[i]; err != nil {
			r.failed++
			if strings.Contains(err.Error(), "poisoned") {
				r.poisoned++
			}
			answer += " error: " + err.Error()
		}
		r.answers = append(r.answers, answer)
	}
	r.fallbacks = s.w.fallbacks
	r.tables = dumpTables(t, s, r.leases)
	return r
}

// dumpTables reads every table through the read pool (so only what was
// committed), rows sorted, lease ids replaced by the admission that took
// them.
func dumpTables(t *testing.T, s *Store, leases map[int]string) map[string][]string {
	t.Helper()
	names := map[string]string{}
	for i, id := range leases {
		names[id] = fmt.Sprintf("lease-of-%d", i)
	}
	tables := map[string][]string{}
	for _, table := range []string{"token_usage", "leases", "revocations", "subject_usage", "request_log", "sqlite_sequence"} {
		rows, err := s.read.QueryContext(bg, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if id, ok := v.(string); ok && cols[i] == "lease_id" {
					if name, ok := names[id]; ok {
						v = name
					}
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			tables[table] = append(tables[table], b.String())
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(tables[table])
	}
	return tables
}

func compareRuns(t *testing.T, prog []step, want, got *run) {
	t.Helper()
	for i := range prog {
		if want.answers[i] != got.answers[i] {
			t.Fatalf("op %d answered\n%s\nbatched, and alone\n%s", i, got.answers[i], want.answers[i])
		}
	}
	empty := true
	for table, rows := range want.tables {
		empty = empty && len(rows) == 0
		if !slices.Equal(rows, got.tables[table]) {
			t.Errorf("table %s differs:\nbatched %q\nalone   %q", table, got.tables[table], rows)
		}
	}
	if empty {
		t.Fatal("the program left nothing to compare")
	}
}

// randomProgram makes n steps on a few tokens at a time, so batches hold
// many calls of one token: admissions under every limit, settles (of
// live, lapsed and settled leases, and without lease), renewals,
// revocations, request logs, pruning, and ops that fail alone or in a
// batch's flush.
func randomProgram(rnd *rand.Rand, n int) []step {
	now := base
	var admits []int // indexes of admissions
	tokenOf := map[int]string{}
	prog := make([]step, 0, n)
	for i := range n {
		now = now.Add(time.Duration(rnd.IntN(3000)) * time.Millisecond)
		// Three tokens at a time, replaced as time goes, so revoked and
		// exhausted ones do not end the program.
		jti := fmt.Sprintf("tok-%d", i/60+rnd.IntN(3))
		var s step
		switch k := rnd.IntN(100); {
		case k < 28 && len(admits) > 0:
			ref := admits[max(0, len(admits)-1-rnd.IntN(min(len(admits), 12)))]
			st := &store.Settlement{TokenID: tokenOf[ref], PromptTokens: int64(rnd.IntN(100)), CompletionTokens: int64(rnd.IntN(100)),
				Refund: rnd.IntN(5) == 0, RefundLimit: int64(i % 3), Now: now}
			s = step{settle: st, lease: ref}
			switch rnd.IntN(6) {
			case 0: // a call without lease, or nothing to add
				s.lease = -1
				st.LastError = "upstream_unreachable"
			case 1:
				st.PromptTokens, st.CompletionTokens, st.Refund = 0, 0, false
			case 2:
				st.LastError = "client_closed"
			}
		case k < 36 && len(admits) > 0:
			ref := admits[len(admits)-1-rnd.IntN(min(len(admits), 12))]
			s = step{renew: time.Duration(1+rnd.IntN(40)) * time.Second, lease: ref, jti: tokenOf[ref], at: now}
		case k < 38:
			s = step{revoke: true, jti: jti, at: now}
			if rnd.IntN(3) == 0 {
				s.jti = "never-admitted"
			}
		case k < 45:
			recs := make([]store.Record, 1+rnd.IntN(70))
			for j := range recs {
				recs[j] = store.Record{Time: now, RequestID: fmt.Sprintf("req-%d-%d", i, j), TokenID: jti, Provider: "mock",
					Model: "m", Path: "/v1/chat/completions", Status: 200 + rnd.IntN(2)*300, Latency: time.Duration(rnd.IntN(5000)) * time.Microsecond,
					PromptTokens: int64(rnd.IntN(50)), Estimated: rnd.IntN(2) == 0, BytesOut: int64(rnd.IntN(1 << 20))}
			}
			s = step{log: recs}
		case k < 47:
			s = step{prune: true, at: now}
		case k < 51:
			s = step{fail: true}
		default:
			if rnd.IntN(25) == 0 {
				jti = "poison"
			}
			a := store.Admission{
				TokenID: jti, MaxCalls: int64(rnd.IntN(40)), RPM: int64(rnd.IntN(2) * 30), Concurrency: int64(rnd.IntN(5)),
				TokenBudget: int64(rnd.IntN(2) * 4000), PromptEstimate: int64(rnd.IntN(300)), RequestedMaxTokens: int64(rnd.IntN(400)),
				ExpiresAt: now.Add(time.Duration(1+rnd.IntN(3)) * 3 * time.Minute), Now: now,
				LeaseTTL: time.Duration(5+rnd.IntN(30)) * time.Second,
			}
			switch rnd.IntN(6) {
			case 0, 1:
				a.Subject = fmt.Sprintf("user-%d", rnd.IntN(2))
				a.SubjectLimit = store.SubjectLimit{Calls: 15, Window: 2 * time.Minute}
			case 2:
				if rnd.IntN(4) == 0 {
					a.Subject = "poison"
					a.SubjectLimit = store.SubjectLimit{Calls: 15, Window: 2 * time.Minute}
				}
			}
			if a.TokenID == "poison" || a.Subject == "poison" {
				// No lease: a later step could not tell that this one failed.
				a.Concurrency, a.TokenBudget = 0, 0
			}
			s = step{admit: &a}
			admits = append(admits, i)
			tokenOf[i] = jti
		}
		prog = append(prog, s)
	}
	return prog
}
