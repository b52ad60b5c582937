package sqlitestore_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/requestlog"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

type benchCase struct {
	name   string
	mut    func(*store.Admission)
	tokens int // goroutine i uses token i % tokens
}

var (
	maxCalls    = func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2 }
	concurrency = func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2; a.Concurrency = 1 << 20 }
	benchCases  = []benchCase{{"max_calls", maxCalls, 1}, {"concurrency", concurrency, 1}}
)

// BenchmarkAdmitSettleParallel is the relay's hot path: one Admit and one
// Settle per call, from 64 goroutines per CPU like wrk's 64 connections.
// cpu-ns/op is the process's CPU time per call, steadier than ns/op on a
// shared machine.
func BenchmarkAdmitSettleParallel(b *testing.B) {
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) { benchAdmitSettle(b, tc, false) })
	}
}

// BenchmarkAdmitSettleLogParallel adds the request log: one record per
// call, batched into Log calls by requestlog as the relay does; the
// 64_tokens case spreads the calls over one token per goroutine.
func BenchmarkAdmitSettleLogParallel(b *testing.B) {
	for _, tc := range append(benchCases, benchCase{"concurrency_64_tokens", concurrency, 64}) {
		b.Run(tc.name, func(b *testing.B) { benchAdmitSettle(b, tc, true) })
	}
}

func benchAdmitSettle(b *testing.B, tc benchCase, logged bool) {
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var rl *requestlog.Writer
	if logged {
		rl = requestlog.New(s, slog.New(slog.DiscardHandler))
	}
	ctx := context.Background()
	var seq, goroutines atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		jti := fmt.Sprintf("bench-token-%d", goroutines.Add(1)%int64(tc.tokens))
		for pb.Next() {
			now := time.Now()
			a := store.Admission{TokenID: jti, ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
			tc.mut(&a)
			g, err := s.Admit(ctx, a)
			if err != nil || g.Decision != store.Admitted {
				b.Errorf("admit: %+v %v", g, err)
				return
			}
			if err := s.Settle(ctx, store.Settlement{TokenID: a.TokenID, LeaseID: g.LeaseID, PromptTokens: 10, CompletionTokens: 20, Now: now}); err != nil {
				b.Errorf("settle: %v", err)
				return
			}
			if rl != nil {
				rl.Add(store.Record{
					Time: now, RequestID: fmt.Sprintf("req_%024d", seq.Add(1)), TokenID: a.TokenID,
					Provider: "mock", Model: "gpt-4o-mini", Path: "/v1/chat/completions", Status: 200,
					Latency: time.Since(now), TTFB: time.Millisecond, PromptTokens: 10, CompletionTokens: 20,
					BytesIn: 180, BytesOut: 620,
				})
			}
		}
	})
	if rl != nil {
		rl.Close() // the tail of the log is part of the work
		b.ReportMetric(float64(rl.Dropped()), "dropped")
	}
	if cpu != 0 {
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	}
}
