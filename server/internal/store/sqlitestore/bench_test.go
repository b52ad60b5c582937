package sqlitestore_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// BenchmarkAdmitSettleParallel is the relay's hot path: one Admit and one
// Settle per call, from 64 goroutines per CPU like wrk's 64 connections.
func BenchmarkAdmitSettleParallel(b *testing.B) {
	for _, tc := range []struct {
		name string
		mut  func(*store.Admission)
	}{
		{"max_calls", func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2 }},
		{"concurrency", func(a *store.Admission) { a.MaxCalls = math.MaxInt64 / 2; a.Concurrency = 1 << 20 }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(64)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := time.Now()
					a := store.Admission{TokenID: "bench-" + tc.name, ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
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
				}
			})
		})
	}
}
