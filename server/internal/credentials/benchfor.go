package credentials

import (
	"net/http"
	"time"
)

// Bench lengths for upstream rejections.
const (
	// BenchUnauthorized: a 401 key is revoked or mistyped and will not heal
	// soon; retrying it every request would only add latency and noise.
	BenchUnauthorized = 10 * time.Minute
	// BenchRateLimited applies to a 429 without a usable Retry-After.
	BenchRateLimited = 30 * time.Second
	// MaxBench caps a provider's Retry-After, so a bogus huge value cannot
	// take a key out for days.
	MaxBench = time.Hour
)

// BenchFor says how long to bench a key after the upstream answered status;
// retryAfter is the parsed Retry-After (0 if absent). False means the
// status says nothing about the key.
func BenchFor(status int, retryAfter time.Duration) (time.Duration, bool) {
	switch status {
	case http.StatusUnauthorized:
		return BenchUnauthorized, true
	case http.StatusTooManyRequests:
		if retryAfter <= 0 {
			return BenchRateLimited, true
		}
		return min(retryAfter, MaxBench), true
	}
	return 0, false
}
