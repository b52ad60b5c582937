//go:build unix

package sqlitestore

import (
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCallsWithManyLiveTokens is the store's share of issue 16: the
// CPU a call costs (Admit, Settle, a request-log record) once N tokens
// have state, each token called in turn as N user sessions would. A
// first pass gives every token its row; the second is measured. Run it
// with -benchtime=1x: cpu-us/call is the process's CPU time per call of
// the second pass, steadier than wall time on a shared machine.
func BenchmarkCallsWithManyLiveTokens(b *testing.B) {
	for _, tokens := range []int{1, 10_000, 100_000} {
		b.Run(strconv.Itoa(tokens)+"_tokens", func(b *testing.B) {
			for range b.N {
				s, err := Open(filepath.Join(b.TempDir(), "relayapi.db"))
				if err != nil {
					b.Fatal(err)
				}
				callLoad{calls: max(tokens, 1000), tokens: tokens, conc: 32}.run(b, s)
				const calls = 200_000
				cpu, start := processCPU(), time.Now()
				dropped := callLoad{calls: calls, tokens: tokens, conc: 32}.run(b, s)
				b.ReportMetric(float64((processCPU()-cpu).Microseconds())/calls, "cpu-us/call")
				b.ReportMetric(calls/time.Since(start).Seconds(), "calls/s")
				b.ReportMetric(float64(dropped), "dropped")
				s.Close()
			}
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
