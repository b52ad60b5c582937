package credentials

import (
	"strconv"
	"sync"
	"time"
)

// Key is one credential handed out by a Pool. Log it with ID, never Value.
type Key struct {
	pool  *Pool
	n     int // 1-based position in the pool; 0 for the zero Key
	value string
}

// ID identifies the key in logs and admin output: "key#1" is the first
// configured key.
func (k Key) ID() string { return "key#" + strconv.Itoa(k.n) }

// Value is the secret to put in the upstream auth header.
func (k Key) Value() string { return k.value }

// String is ID, so a Key passed to fmt or a logger prints no secret.
func (k Key) String() string { return k.ID() }

// GoString keeps %#v from printing the secret too.
func (k Key) GoString() string { return k.ID() }

// Pool rotates a provider's keys round-robin and skips keys benched after
// the upstream rejected them. It is safe for concurrent use. A nil Pool
// holds no keys.
type Pool struct {
	mu     sync.Mutex
	keys   []string
	bench  []bench
	seen   []seen
	cursor int
}

type bench struct {
	until  time.Time
	reason string
}

// seen is what the admin API reports of a key's use.
type seen struct {
	used    time.Time // last handed out
	failed  time.Time // last failure, and what it was
	failure string
}

// NewPool returns a pool over keys, in the given order.
func NewPool(keys []string) *Pool {
	return &Pool{keys: append([]string(nil), keys...), bench: make([]bench, len(keys)), seen: make([]seen, len(keys))}
}

// Len is the number of keys in the pool.
func (p *Pool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.keys)
}

// Next returns the next key not benched at now, round-robin. The bool is
// false only when the pool has no keys.
//
// When every key is benched, Next still returns the one whose bench ends
// soonest rather than refusing: benching is a guess (a 429 may have been
// about one oversized request, a Retry-After may be generous), and
// refusing would turn that guess into an outage of the whole provider.
// This way the pool never does worse than a single key would, and the
// client gets the provider's own error and Retry-After.
func (p *Pool) Next(now time.Time) (Key, bool) {
	if p.Len() == 0 {
		return Key{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.pick(now)
	p.cursor = (i + 1) % len(p.keys)
	p.seen[i].used = now
	return Key{pool: p, n: i + 1, value: p.keys[i]}, true
}

// pick returns the index of the first free key from the cursor on, or of
// the key whose bench ends soonest. Callers hold p.mu.
func (p *Pool) pick(now time.Time) int {
	soonest := p.cursor
	for step := range len(p.keys) {
		i := (p.cursor + step) % len(p.keys)
		if !p.bench[i].until.After(now) {
			return i
		}
		if p.bench[i].until.Before(p.bench[soonest].until) {
			soonest = i
		}
	}
	return soonest
}

// Bench keeps k out of rotation until the given time. A bench is only ever
// extended, never shortened: a late 429 must not cut short a 401 bench.
// Keys from another pool and the zero Key are ignored.
func (p *Pool) Bench(k Key, until time.Time, reason string) {
	if !p.owns(k) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := &p.bench[k.n-1]
	if until.After(b.until) {
		*b = bench{until: until, reason: reason}
	}
}

// Failed records that the upstream failed a request sent with k at the
// given time: what is the upstream status ("429 Too Many Requests") or
// the transport failure ("timeout"). It only informs the operator; Bench
// is what takes a key out of rotation. Keys from another pool and the
// zero Key are ignored.
func (p *Pool) Failed(k Key, at time.Time, what string) {
	if !p.owns(k) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := &p.seen[k.n-1]; !at.Before(s.failed) {
		s.failed, s.failure = at, what
	}
}

// owns reports whether k is one of p's keys.
func (p *Pool) owns(k Key) bool {
	return p != nil && k.pool == p && k.n >= 1 && k.n <= len(p.keys)
}
