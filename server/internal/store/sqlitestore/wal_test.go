package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openOptions(t testing.TB, o Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relayapi.db")
	s, err := OpenOptions(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// noCheckpoints keeps every frame in the WAL, so its size is what the
// calls wrote: no forced restart, no background checkpoint.
func noCheckpoints(t testing.TB, s *Store) {
	t.Helper()
	s.ckpt.stopLoop()
	if err := s.w.do(bg, writerFunc(func(w *writer) error {
		w.wal.limits = newWALLimits(1 << 50)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
}

// scaled is n, or n/div under the race detector.
func scaled(n, div int) int {
	if raceEnabled {
		return n / div
	}
	return n
}

// With many distinct tokens each call used to write 15 KB of WAL: a
// random 4 KiB page of token_usage at its admission, again at its
// settlement, and one of the unused token_usage_subject index.
func TestWALBytesPerCallWithManyTokens(t *testing.T) {
	s, path := openOptions(t, Options{})
	noCheckpoints(t, s)
	n := scaled(50_000, 5)
	callLoad{calls: n, tokens: n, conc: 32}.run(t, s)
	perCall := float64(walSize(t, path)) / float64(n)
	t.Logf("%d calls of distinct tokens: %.0f bytes of WAL per call", n, perCall)
	if perCall > 5000 {
		t.Fatalf("%.0f bytes of WAL per call, want at most 5000 (15,159 with 4 KiB pages and the subject index)", perCall)
	}
}

// The writer's count of the frames it appended is what bounds the WAL:
// with nothing checkpointed, it is the WAL file's size.
func TestTheWriterCountsTheFramesItAppends(t *testing.T) {
	s, path := openOptions(t, Options{})
	noCheckpoints(t, s)
	callLoad{calls: 3000, tokens: 1000, conc: 16, leases: true, subjects: true}.run(t, s)
	counted, file := s.Stats().WALBytes, walSize(t, path)
	if counted < file || counted > file+file/20 {
		t.Fatalf("the writer counted %d bytes of WAL, the file has %d", counted, file)
	}
}

// BenchmarkWALBytesPerCall measures the WAL a call writes (Admit, Settle,
// one request-log record) for the layouts before and after issue 16, with
// 100,000 calls per case: run it with -benchtime=1x.
func BenchmarkWALBytesPerCall(b *testing.B) {
	const calls = 100_000
	for _, layout := range []string{"4KiB_pages_subject_index", "1KiB_pages"} {
		for _, tc := range []struct {
			name string
			load callLoad
		}{
			{"100k_tokens_once", callLoad{calls: calls, tokens: calls, conc: 32}},
			{"100k_tokens_once_leases_subjects", callLoad{calls: calls, tokens: calls, conc: 32, leases: true, subjects: true}},
			{"10k_tokens_10x", callLoad{calls: calls, tokens: calls / 10, conc: 32}},
			{"1_token", callLoad{calls: calls, tokens: 1, conc: 32}},
		} {
			b.Run(layout+"/"+tc.name, func(b *testing.B) {
				for range b.N {
					path := filepath.Join(b.TempDir(), "relayapi.db")
					if layout != "1KiB_pages" {
						legacyLayout(b, path)
					}
					s, err := Open(path)
					if err != nil {
						b.Fatal(err)
					}
					if layout != "1KiB_pages" {
						if err := s.w.do(bg, execOp(`CREATE INDEX token_usage_subject ON token_usage (subject, jti)`)); err != nil {
							b.Fatal(err)
						}
					}
					noCheckpoints(b, s)
					start := time.Now()
					dropped := tc.load.run(b, s)
					b.ReportMetric(float64(walSize(b, path))/calls, "wal-B/call")
					b.ReportMetric(calls/time.Since(start).Seconds(), "calls/s")
					b.ReportMetric(float64(dropped), "dropped")
					s.Close()
				}
			})
		}
	}
}

// legacyLayout creates path with the page size files had before issue 16.
func legacyLayout(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE placeholder (x); DROP TABLE placeholder`); err != nil {
		t.Fatal(err)
	}
}

func pageSizeOf(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.read.QueryRow(`PRAGMA page_size`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestANewFileHasSmallPagesAndAnOlderOneKeepsItsOwn(t *testing.T) {
	s, _ := openTest(t)
	if n := pageSizeOf(t, s); n != pageSize {
		t.Fatalf("new file: page size %d, want %d", n, pageSize)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	legacyLayout(t, path)
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if n := pageSizeOf(t, old); n != 4096 {
		t.Fatalf("older file: page size %d, want it kept at 4096", n)
	}
	callLoad{calls: 200, tokens: 50, conc: 4}.run(t, old)
	if u, ok, err := old.Usage(bg, tokenIDs(1)[0]); err != nil || !ok || u.Calls != 4 {
		t.Fatalf("older file: %+v %v %v", u, ok, err)
	}
}

// pauses collects the checkpoints the writer forced.
type pauses struct {
	mu  sync.Mutex
	all []Checkpoint
}

func (p *pauses) observe(c Checkpoint) {
	p.mu.Lock()
	p.all = append(p.all, c)
	p.mu.Unlock()
}

func (p *pauses) restarts() (pauses []time.Duration, busy int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.all {
		if c.Restarted {
			pauses = append(pauses, c.Pause)
		} else {
			busy++
		}
	}
	slices.Sort(pauses)
	return pauses, busy
}

// Issue 16: with many tokens the WAL grew by the whole load and never
// shrank. Sustained writes of distinct tokens must keep it under the
// ceiling all along, and give the space back once the load stops.
func TestWALStaysUnderItsCeilingUnderSustainedLoad(t *testing.T) {
	var seen pauses
	s, path := openOptions(t, Options{OnCheckpoint: seen.observe})
	limits := newWALLimits(0)
	n := scaled(200_000, 8)

	var maxWAL, samples atomic.Int64
	sample := func() {
		size := walSize(t, path)
		samples.Add(1)
		for old := maxWAL.Load(); size > old && !maxWAL.CompareAndSwap(old, size); old = maxWAL.Load() {
		}
	}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	start := time.Now()
	callLoad{calls: n, tokens: n, conc: 32, each: func(i int) {
		if i%64 == 0 {
			sample()
		}
	}}.run(t, s)
	elapsed := time.Since(start)
	close(stop)
	<-sampled

	restarts, busy := seen.restarts()
	st := s.Stats()
	t.Logf("%d calls in %v: WAL at most %d bytes (%d samples), ceiling %d; %d forced checkpoints restarted the WAL, %d could not finish",
		n, elapsed.Round(time.Millisecond), maxWAL.Load(), samples.Load(), limits.ceiling, len(restarts), busy)
	if len(restarts) > 0 {
		t.Logf("writer pause per forced checkpoint: p50 %v, p90 %v, max %v (stats: max %v, total %v)",
			restarts[len(restarts)/2], restarts[len(restarts)*9/10], restarts[len(restarts)-1],
			st.CheckpointPauseMax, st.CheckpointPauseTotal)
	}
	if maxWAL.Load() > limits.ceiling {
		t.Fatalf("the WAL reached %d bytes, past its ceiling of %d", maxWAL.Load(), limits.ceiling)
	}
	if len(restarts) < 3 {
		t.Fatalf("%d forced checkpoints restarted the WAL: the load did not test the bound", len(restarts))
	}

	// Once the load stops, a checkpoint copies the rest, the next commit
	// starts the WAL over, and the file is at most the restart size.
	if _, _, err := s.ckpt.checkpoint(bg); err != nil {
		t.Fatal(err)
	}
	callLoad{calls: 1, tokens: 1, conc: 1}.run(t, s)
	if size := walSize(t, path); size > limits.restartAt {
		t.Fatalf("after the load the WAL file is %d bytes, want at most %d", size, limits.restartAt)
	}
}

// A reader holding an old snapshot keeps a forced checkpoint from
// restarting the WAL: the writer waits for it at most
// checkpointReaderWait, tries again later, and restarts the WAL once the
// reader is gone.
func TestAForcedCheckpointWaitsForReadersAtMostItsBound(t *testing.T) {
	var seen pauses
	s, path := openOptions(t, Options{WALRestartBytes: 256 << 10, OnCheckpoint: seen.observe})
	load := callLoad{calls: 500, tokens: 500, conc: 8}
	load.run(t, s)

	reader, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var calls int64
	if err := tx.QueryRow(`SELECT COUNT(*) FROM token_usage`).Scan(&calls); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("no forced checkpoint was kept from finishing by the reader")
		}
		load.run(t, s)
		if _, busy := seen.restarts(); busy > 0 {
			break
		}
	}
	seen.mu.Lock()
	for _, c := range seen.all {
		// The wait for readers is bounded; the copy before it is small.
		if !c.Restarted && c.Pause > checkpointReaderWait+time.Second {
			t.Errorf("a checkpoint the reader blocked paused the writer %v", c.Pause)
		}
	}
	before := len(seen.all)
	seen.mu.Unlock()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("no forced checkpoint restarted the WAL after the reader left")
		}
		load.run(t, s)
		seen.mu.Lock()
		restarted := slices.ContainsFunc(seen.all[before:], func(c Checkpoint) bool { return c.Restarted })
		seen.mu.Unlock()
		if restarted {
			break
		}
	}
}
