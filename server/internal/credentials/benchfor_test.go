package credentials

import (
	"testing"
	"time"
)

func TestBenchForFollowsTheUpstreamStatus(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{401, 0, BenchUnauthorized, true},
		{429, 0, BenchRateLimited, true},
		{429, 5 * time.Second, 5 * time.Second, true},
		{429, 48 * time.Hour, MaxBench, true},
		{500, 0, 0, false},
		{403, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := BenchFor(c.status, c.retryAfter)
		if got != c.want || ok != c.ok {
			t.Errorf("BenchFor(%d, %s) = %s, %v; want %s, %v", c.status, c.retryAfter, got, ok, c.want, c.ok)
		}
	}
}
