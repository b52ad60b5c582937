package redisstore_test

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// benchURLEnv names a Redis the benchmark uses instead of starting its
// own, so it can run on another CPU than the benchmark (as in bench/run):
//
//	taskset -c 1 redis-server --port 6390 --save '' &
//	REDISSTORE_BENCH_URL=redis://127.0.0.1:6390/0 taskset -c 0 \
//	  go test -run '^$' -bench AdmitSettleParallel -cpu 1 ./internal/store/redisstore/
//
// It only adds keys of fresh bench-* tokens (expiring a day after the
// tokens), never flushes.
const benchURLEnv = "REDISSTORE_BENCH_URL"

// BenchmarkAdmitSettleParallel is the relay's hot path: one Admit and one
// Settle per call, from 64 goroutines per CPU like wrk's 64 connections.
func BenchmarkAdmitSettleParallel(b *testing.B) {
	benchAdmitSettle(b, func(b *testing.B, step func() bool) {
		b.SetParallelism(64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() && step() {
			}
		})
	})
}

// BenchmarkAdmitSettleSerial is one caller alone: nothing to batch, so it
// shows what the pipeliner adds to a lone call's latency.
func BenchmarkAdmitSettleSerial(b *testing.B) {
	benchAdmitSettle(b, func(b *testing.B, step func() bool) {
		for i := 0; i < b.N && step(); i++ {
		}
	})
}

func benchAdmitSettle(b *testing.B, run func(b *testing.B, step func() bool)) {
	url := os.Getenv(benchURLEnv)
	if url == "" {
		url = testservers.Redis(b)
	}
	for _, tc := range []struct {
		name string
		mut  func(*store.Admission)
	}{
		{"max_calls", func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2 }},
		{"concurrency", func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2; a.Concurrency = 1 << 20 }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := redisstore.Open(ctx, redisstore.Options{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// A token of its own, so a shared Redis needs no flush.
			jti := fmt.Sprintf("bench-%s-%d", tc.name, time.Now().UnixNano())
			step := func() bool {
				now := time.Now()
				a := store.Admission{TokenID: jti, ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
				tc.mut(&a)
				return admitSettle(b, s, a)
			}
			b.ReportAllocs()
			m := startMeter(b)
			b.ResetTimer()
			run(b, step)
			m.report()
		})
	}
}

// admitSettle runs one call; false (after reporting) on failure.
func admitSettle(b *testing.B, s store.Store, a store.Admission) bool {
	g, err := s.Admit(ctx, a)
	if err != nil || g.Decision != store.Admitted {
		b.Errorf("admit: %+v %v", g, err)
		return false
	}
	st := store.Settlement{TokenID: a.TokenID, LeaseID: g.LeaseID, PromptTokens: 10, CompletionTokens: 20, Now: a.Now}
	if err := s.Settle(ctx, st); err != nil {
		b.Errorf("settle: %v", err)
		return false
	}
	return true
}

// meter reports what this process spent per op: CPU time (user + system;
// on a shared machine steadier than ns/op, and what the relay pays) and
// write syscalls (how well calls share round trips).
type meter struct {
	b     *testing.B
	start usage
}

func startMeter(b *testing.B) meter { return meter{b, processUsage()} }

func (m meter) report() {
	m.b.StopTimer()
	end := processUsage()
	if !end.ok {
		return
	}
	n := float64(m.b.N)
	m.b.ReportMetric(float64((end.cpu-m.start.cpu).Nanoseconds())/n, "cpu-ns/op")
	m.b.ReportMetric(float64(end.writes-m.start.writes)/n, "writes/op")
}
