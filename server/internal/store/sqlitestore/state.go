package sqlitestore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache sizes: a miss only costs a reload (a primary-key lookup, tens of
// microseconds), so these bound memory, not correctness. A token's state
// is ~350 bytes here: 131,072 of them (~45 MiB) match the ~120,000 live
// tokens the relay's decoded-token cache holds by default, so a
// deployment with a token per user session keeps hitting both.
const (
	cachedTokens   = 131072
	cachedSubjects = 16384
)

// cache is the per-token state the writer decides on. Only the writer
// goroutine uses it. Ops change it in memory and record what they changed;
// flush writes each changed row once, at the end of the batch, in its
// transaction (see flush.go). A rollback purges the cache, so at every
// commit it equals the file.
//
// A dirty entry must stay cached until its flush, or a later op of the
// batch would reload the stale row from the file: each op touches at most
// one token and one subject window, so the maxBatch most recent entries
// include every dirty one.
type cache struct {
	tokens   *simplelru.LRU[string, *tokenState]
	subjects *simplelru.LRU[subjectKey, int64]
}

// A batch never touches more entries than the cache holds (see cache).
var (
	_ [cachedTokens - maxBatch]struct{}
	_ [cachedSubjects - maxBatch]struct{}
)

// tokenState mirrors a token's rows in token_usage, revocations and leases.
type tokenState struct {
	usageRow
	jti     string
	exists  bool // token_usage has a row, in the file or to be flushed; if not, updates of it are no-ops
	onDisk  bool // the file has the row: a flush updates it rather than inserting it
	dirty   bool // the row changed since the last flush: it is in writer.pending.tokens
	revoked bool
	// reserved is the sum of the leases' reservations.
	reserved int64
	leases   map[string]lease
	// noExpiryBefore is a lower bound of the leases' expiries, so most
	// admissions skip scanning the leases for lapsed ones.
	noExpiryBefore int64
}

// usageRow is a token's row in token_usage, every column but jti.
type usageRow struct {
	calls            int64
	refunds          int64 // calls given back
	rpmTAT           int64 // Unix ms
	promptTokens     int64
	completionTokens int64
	expiresAt        int64 // Unix s
	firstSeen        int64 // Unix ms
	lastSeen         int64 // Unix ms
	maxCalls         int64
	tokenBudget      int64
	subject          string
	lastError        string
}

// used is the tokens used, prompt and completion.
func (r *usageRow) used() int64 { return r.promptTokens + r.completionTokens }

type lease struct {
	expiresAt int64 // Unix ms
	reserved  int64
	state     leaseState
}

// leaseState is how a cached lease differs from its row in the file.
type leaseState uint8

const (
	leaseSaved   leaseState = iota // the file has it as it is
	leaseNew                       // added in this batch: not in the file yet
	leaseRenewed                   // the file has it with another expiry or reservation
)

type subjectKey struct {
	subject string
	window  int64 // window start, Unix ms
}

func newCache() *cache {
	tokens, err := simplelru.NewLRU[string, *tokenState](cachedTokens, nil)
	if err != nil {
		panic(err) // only for a size < 1
	}
	subjects, err := simplelru.NewLRU[subjectKey, int64](cachedSubjects, nil)
	if err != nil {
		panic(err)
	}
	return &cache{tokens: tokens, subjects: subjects}
}

func (c *cache) purge() {
	c.tokens.Purge()
	c.subjects.Purge()
}

// token returns jti's state, loading it from the database on a miss.
func (w *writer) token(jti string) (*tokenState, error) {
	if ts, ok := w.cache.tokens.Get(jti); ok {
		return ts, nil
	}
	ts, err := w.loadToken(jti)
	if err != nil {
		return nil, fmt.Errorf("load token state: %w", err)
	}
	w.cache.tokens.Add(jti, ts)
	return ts, nil
}

func (w *writer) loadToken(jti string) (*tokenState, error) {
	ts := &tokenState{jti: jti, noExpiryBefore: math.MaxInt64}
	r := &ts.usageRow
	found, err := w.stmts.loadUsage.row([]driver.Value{jti}, &r.calls, &r.rpmTAT, &r.promptTokens, &r.completionTokens,
		&r.expiresAt, &r.firstSeen, &r.lastSeen, &r.maxCalls, &r.tokenBudget, &r.subject, &r.lastError, &r.refunds)
	if err != nil {
		return nil, err
	}
	ts.exists, ts.onDisk = found, found
	if _, err := w.stmts.loadRevoked.row([]driver.Value{jti}, &ts.revoked); err != nil {
		return nil, err
	}
	rows, err := w.stmts.loadLeases.rows(jti)
	if err != nil {
		return nil, err
	}
	for {
		var id string
		var l lease
		ok, err := next(rows, &id, &l.expiresAt, &l.reserved)
		if err != nil || !ok {
			return ts, errors.Join(err, rows.Close())
		}
		ts.addLease(id, l)
	}
}

func (ts *tokenState) addLease(id string, l lease) {
	if ts.leases == nil {
		ts.leases = make(map[string]lease)
	}
	ts.leases[id] = l
	ts.reserved += l.reserved
	ts.noExpiryBefore = min(ts.noExpiryBefore, l.expiresAt)
}

// dropLease removes a lease from ts; a lease the file has is deleted from
// it by the flush, one added in this batch is never written.
func (w *writer) dropLease(ts *tokenState, id string) {
	l := ts.leases[id]
	ts.reserved -= l.reserved
	delete(ts.leases, id)
	if l.state != leaseNew {
		w.pending.leaseDeletes = append(w.pending.leaseDeletes, leaseRef{ts, id})
	}
}

// lapse removes ts's leases expired at now and returns the sum of their
// reservations and whether there were any.
func (w *writer) lapse(ts *tokenState, now int64) (charged int64, found bool) {
	if now < ts.noExpiryBefore {
		return 0, false
	}
	next := int64(math.MaxInt64)
	for id, l := range ts.leases {
		if l.expiresAt <= now {
			charged, found = charged+l.reserved, true
			w.dropLease(ts, id)
			continue
		}
		next = min(next, l.expiresAt)
	}
	ts.noExpiryBefore = next
	return charged, found
}

// subjectCalls returns the calls of a subject's window, loading them on a
// miss (0 when the window has no row yet).
func (w *writer) subjectCalls(k subjectKey) (int64, error) {
	if n, ok := w.cache.subjects.Get(k); ok {
		return n, nil
	}
	var n int64
	if _, err := w.stmts.loadSubject.row([]driver.Value{k.subject, k.window}, &n); err != nil {
		return 0, fmt.Errorf("load subject window: %w", err)
	}
	w.cache.subjects.Add(k, n)
	return n, nil
}
