package sqlitestore

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/requestlog"
	"github.com/relayapi/relayapi/server/internal/store"
)

// callLoad drives what the relay does per call with many distinct tokens
// (issue 16: one per user session): Admit, Settle, and one request-log
// record batched by requestlog, from conc goroutines like wrk's
// connections. Call i uses token i % tokens.
type callLoad struct {
	calls, tokens, conc int
	// leases gives tokens a concurrency limit (a lease per call), subjects
	// a subject each under a subject limit.
	leases, subjects bool
	// each, if set, runs after every call (on the caller's goroutine).
	each func(i int)
}

// tokenIDs are random 22-character ids, like the base64 of the 16 random
// bytes the relay's tokens carry, the same for every run.
func tokenIDs(n int) []string {
	rnd := rand.New(rand.NewPCG(16, 16))
	ids := make([]string, n)
	var b [16]byte
	for i := range ids {
		binary.LittleEndian.PutUint64(b[:8], rnd.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rnd.Uint64())
		ids[i] = base64.RawURLEncoding.EncodeToString(b[:])
	}
	return ids
}

// run drives the load and returns how many records requestlog dropped.
func (l callLoad) run(t testing.TB, s *Store) (dropped int64) {
	t.Helper()
	rl := requestlog.New(s, slog.New(slog.DiscardHandler))
	ids := tokenIDs(l.tokens)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range l.conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= l.calls || t.Failed() {
					return
				}
				if err := l.call(s, rl, ids[i%l.tokens], i); err != nil {
					t.Error(err)
					return
				}
				if l.each != nil {
					l.each(i)
				}
			}
		})
	}
	wg.Wait()
	rl.Close()
	return rl.Dropped()
}

func (l callLoad) call(s *Store, rl *requestlog.Writer, jti string, i int) error {
	now := time.Now()
	a := store.Admission{TokenID: jti, MaxCalls: 1_000_000_000, ExpiresAt: now.Add(2 * time.Hour), Now: now, LeaseTTL: time.Minute}
	if l.leases {
		a.Concurrency = 10
	}
	if l.subjects {
		a.Subject = "user-" + jti[:8]
		a.SubjectLimit = store.SubjectLimit{Calls: 1_000_000, Window: time.Hour}
	}
	g, err := s.Admit(bg, a)
	if err != nil || g.Decision != store.Admitted {
		return fmt.Errorf("admit %d: %+v %v", i, g, err)
	}
	if err := s.Settle(bg, store.Settlement{TokenID: jti, LeaseID: g.LeaseID, PromptTokens: 10, CompletionTokens: 20, Now: now}); err != nil {
		return fmt.Errorf("settle %d: %v", i, err)
	}
	rl.Add(store.Record{
		Time: now, RequestID: fmt.Sprintf("req_%024d", i), TokenID: jti, Subject: a.Subject,
		Provider: "mock", Model: "gpt-4o-mini", Path: "/v1/chat/completions", Status: 200,
		Latency: time.Since(now), TTFB: time.Millisecond, PromptTokens: 10, CompletionTokens: 20,
		BytesIn: 180, BytesOut: 620, UsageSource: "provider",
	})
	return nil
}

// walSize is the size of the WAL file of the database at path (0: none).
func walSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
