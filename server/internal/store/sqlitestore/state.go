package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache sizes: a miss only costs a reload, so these bound memory, not
// correctness. The relay's decrypted-token cache holds 10,000 by default.
const (
	cachedTokens   = 16384
	cachedSubjects = 4096
)

// cache is a write-through copy of the per-token state the writer
// decides on. Only the writer goroutine uses it, and every change it holds
// is also written in the current transaction; a rollback purges it, so it
// never disagrees with the committed file.
type cache struct {
	tokens   *simplelru.LRU[string, *tokenState]
	subjects *simplelru.LRU[subjectKey, int64]
}

// tokenState mirrors a token's rows in token_usage, revocations and leases.
type tokenState struct {
	exists   bool // token_usage has a row; if not, updates of it are no-ops
	revoked  bool
	calls    int64
	rpmTAT   int64
	used     int64 // prompt_tokens + completion_tokens
	reserved int64 // sum of the leases' reservations
	leases   map[string]lease
	// noExpiryBefore is a lower bound of the leases' expiries, so most
	// admissions skip scanning the leases for lapsed ones.
	noExpiryBefore int64
}

type lease struct {
	expiresAt int64 // Unix ms
	reserved  int64
}

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
	ts := &tokenState{noExpiryBefore: math.MaxInt64}
	err := w.stmts.loadUsage.QueryRow(jti).Scan(&ts.calls, &ts.rpmTAT, &ts.used)
	switch {
	case err == nil:
		ts.exists = true
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	if err := w.stmts.loadRevoked.QueryRow(jti).Scan(&ts.revoked); err != nil {
		return nil, err
	}
	rows, err := w.stmts.loadLeases.Query(jti)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l lease
		if err := rows.Scan(&id, &l.expiresAt, &l.reserved); err != nil {
			return nil, err
		}
		ts.addLease(id, l)
	}
	return ts, rows.Err()
}

func (ts *tokenState) addLease(id string, l lease) {
	if ts.leases == nil {
		ts.leases = make(map[string]lease)
	}
	ts.leases[id] = l
	ts.reserved += l.reserved
	ts.noExpiryBefore = min(ts.noExpiryBefore, l.expiresAt)
}

func (ts *tokenState) removeLease(id string) {
	ts.reserved -= ts.leases[id].reserved
	delete(ts.leases, id)
}

// lapsed removes the leases expired at now and returns the sum of their
// reservations and whether there were any.
func (ts *tokenState) lapsed(now int64) (charged int64, found bool) {
	if now < ts.noExpiryBefore {
		return 0, false
	}
	next := int64(math.MaxInt64)
	for id, l := range ts.leases {
		if l.expiresAt <= now {
			charged, found = charged+l.reserved, true
			ts.removeLease(id)
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
	err := w.stmts.loadSubject.QueryRow(k.subject, k.window).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("load subject window: %w", err)
	}
	w.cache.subjects.Add(k, n)
	return n, nil
}
