package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/logstats"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// BenchmarkStatsOfAnHour is what one poll of the dashboard's overview
// costs the store: GET /admin/stats over the last hour, by the minute, of
// a log holding n lines in that hour (the scan reads at most
// store.MaxScan of them).
func BenchmarkStatsOfAnHour(b *testing.B) {
	for _, n := range []int{10_000, 200_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "relayapi.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			until := time.Unix(1_800_000_000, 0)
			batch := make([]store.Record, 0, 1000)
			for i := range n {
				batch = append(batch, store.Record{
					Time: until.Add(-time.Duration(n-i) * time.Hour / time.Duration(n+1)), RequestID: fmt.Sprint(i),
					TokenID: fmt.Sprintf("tok-%d", i%500), Subject: fmt.Sprintf("user-%d", i%50), Provider: "openai",
					Model: "gpt-4o-mini", Path: "/v1/chat/completions", Status: 200 + 229*(i%20/19),
					Latency: time.Duration(i%997) * time.Millisecond, TTFB: time.Duration(i%331) * time.Millisecond,
					PromptTokens: 12, CompletionTokens: int64(i % 300),
				})
				if len(batch) == cap(batch) {
					if err := s.Log(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			r := logstats.Range{Since: until.Add(-time.Hour), Until: until, Bucket: time.Minute}
			b.ResetTimer()
			for b.Loop() {
				st, err := logstats.Compute(ctx, s, r, store.MaxScan)
				if err != nil || st.Totals.Requests != int64(n) {
					b.Fatalf("%v: %d requests", err, st.Totals.Requests)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/poll")
		})
	}
}
