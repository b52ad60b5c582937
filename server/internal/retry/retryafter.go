package retry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfterSeconds keeps absurd values from overflowing a Duration;
// anything this large is beyond every time budget anyway.
const maxRetryAfterSeconds = 1 << 32

// ParseRetryAfter reads a Retry-After header, either delay-seconds or an
// HTTP date (RFC 9110 §10.2.3). A date in the past means "now" (0). False
// means absent or malformed, so the caller falls back to its own backoff.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if isDigits(h) {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n > maxRetryAfterSeconds {
			n = maxRetryAfterSeconds // only overflow fails on digits
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
