// Package ratelimit protects the relay itself: a global request rate and a
// per-client-IP rate, in memory (golang.org/x/time/rate). Per-token limits
// live in the usage store, not here.
package ratelimit

import (
	"net/netip"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// maxTrackedIPs bounds the memory spent on per-IP limiters; the least
// recently seen addresses are forgotten first.
const maxTrackedIPs = 65536

// Limiter answers whether a request may proceed now.
type Limiter struct {
	global *rate.Limiter
	perIP  *lru.Cache[netip.Addr, *rate.Limiter]
	ipRate rate.Limit
	ipBurn int
}

// New returns a limiter; a rate of 0 turns that limit off.
func New(globalRPS float64, globalBurst int, perIPRPS float64, perIPBurst int) *Limiter {
	l := &Limiter{ipRate: rate.Limit(perIPRPS), ipBurn: max(perIPBurst, 1)}
	if globalRPS > 0 {
		l.global = rate.NewLimiter(rate.Limit(globalRPS), max(globalBurst, 1))
	}
	if perIPRPS > 0 {
		l.perIP, _ = lru.New[netip.Addr, *rate.Limiter](maxTrackedIPs)
	}
	return l
}

// Allow reports whether a request from ip may proceed, and if not, how
// long the client should wait.
func (l *Limiter) Allow(ip netip.Addr, now time.Time) (bool, time.Duration) {
	if l.perIP != nil {
		lim, ok := l.perIP.Get(ip)
		if !ok {
			lim = rate.NewLimiter(l.ipRate, l.ipBurn)
			l.perIP.Add(ip, lim)
		}
		if ok, wait := take(lim, now); !ok {
			return false, wait
		}
	}
	if l.global != nil {
		return take(l.global, now)
	}
	return true, 0
}

func take(lim *rate.Limiter, now time.Time) (bool, time.Duration) {
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
