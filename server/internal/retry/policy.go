// Package retry decides whether and when the relay retries an upstream
// call. It is pure: the caller supplies the clock reading, the elapsed
// time and the random source, so every decision is reproducible in tests.
//
// The relay may retry only before the first response byte reached the
// client; after that the client already holds part of an answer.
package retry

import (
	"math/rand/v2"
	"time"
)

// Policy bounds retries in count and in total time.
type Policy struct {
	MaxRetries int           // retries after the first attempt; 0 turns retries off
	BaseDelay  time.Duration // backoff cap of the first retry, doubled per retry
	MaxDelay   time.Duration // largest backoff cap (Retry-After may exceed it)
	MaxTotal   time.Duration // no retry may start after this much time since the first attempt
}

// DefaultPolicy suits interactive calls: a person is waiting, so two quick
// retries within ten seconds, then the error goes to the client.
func DefaultPolicy() Policy {
	return Policy{MaxRetries: 2, BaseDelay: 250 * time.Millisecond, MaxDelay: 4 * time.Second, MaxTotal: 10 * time.Second}
}

// Delay says how long to wait before retrying, or false to give up.
//
// attempt is the 0-based index of the attempt that just failed, retryAfter
// the upstream's Retry-After header ("" if none), now the current time (to
// read an HTTP-date Retry-After), elapsed the time since the first attempt
// began and rnd a source of floats in [0, 1) (nil means math/rand/v2).
//
// The wait is full jitter, rnd × min(MaxDelay, BaseDelay × 2^attempt),
// which spreads retries of many clients instead of synchronising them; a
// Retry-After raises it to what the provider asked. If the wait would
// end past MaxTotal there is no retry: a provider asking for a minute is
// better answered now with its own error than after a minute of silence.
func (p Policy) Delay(attempt int, retryAfter string, now time.Time, elapsed time.Duration, rnd func() float64) (time.Duration, bool) {
	if attempt < 0 || attempt >= p.MaxRetries {
		return 0, false
	}
	d := jitter(p.backoffCap(attempt), rnd)
	if ra, ok := ParseRetryAfter(retryAfter, now); ok {
		d = max(d, ra)
	}
	if elapsed+d >= p.MaxTotal {
		return 0, false
	}
	return d, true
}

// backoffCap is min(MaxDelay, BaseDelay × 2^attempt), without overflow.
func (p Policy) backoffCap(attempt int) time.Duration {
	d := p.BaseDelay
	for range attempt {
		if d >= p.MaxDelay/2 {
			return p.MaxDelay
		}
		d *= 2
	}
	return min(d, p.MaxDelay)
}

func jitter(ceiling time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if f < 0 || f >= 1 { // a broken source must not stretch the wait
		f = 0
	}
	return time.Duration(f * float64(ceiling))
}
