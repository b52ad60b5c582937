package sqlitestore

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// fullVolumeRun admits a new token and a shared one per attempt, and
// keeps every answer, to check the file against them.
type fullVolumeRun struct {
	s        *Store
	mu       sync.Mutex
	admitted map[string]bool // new tokens: whether their admission succeeded
	shared   int64           // successful admissions of the shared token
	failures []error
}

const sharedToken = "shared"

// round admits n new tokens and the shared one n times, concurrently.
func (r *fullVolumeRun) round(first, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			jti := fmt.Sprintf("tok-%06d", first+i)
			for _, id := range []string{jti, sharedToken} {
				_, err := r.s.Admit(bg, admission(id, func(a *store.Admission) { a.MaxCalls = 1_000_000 }))
				r.record(id, err)
			}
		})
	}
	wg.Wait()
}

func (r *fullVolumeRun) record(jti string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures = append(r.failures, err)
	}
	if jti == sharedToken {
		if err == nil {
			r.shared++
		}
		return
	}
	r.admitted[jti] = err == nil
}

// check compares what the store says with the answers the calls got: an
// admission that failed counts nowhere, one that succeeded counts once.
func (r *fullVolumeRun) check(t *testing.T, usage func(string) (store.Usage, bool)) {
	t.Helper()
	if u, ok := usage(sharedToken); !ok || u.Calls != r.shared {
		t.Errorf("shared token: %d calls counted, %d admissions succeeded", u.Calls, r.shared)
	}
	for jti, admitted := range r.admitted {
		if u, ok := usage(jti); ok != admitted || (ok && u.Calls != 1) {
			t.Errorf("%s: admitted %v, the store says %v (%+v)", jti, admitted, ok, u)
		}
	}
}

// A full volume is a store fault like any other: calls fail with
// ErrUnavailable, Ping fails, and once space returns the store recovers
// by itself, every answer it gave true and the file intact.
func TestAFullVolumeFailsCallsThenRecoversByItself(t *testing.T) {
	dir := testservers.MountTmpfs(t, "4m")
	path := filepath.Join(dir, "relayapi.db")
	var logs bytes.Buffer
	var logMu sync.Mutex
	s, err := OpenOptions(path, Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := &fullVolumeRun{s: s, admitted: make(map[string]bool)}
	r.round(0, 100)
	if len(r.failures) > 0 {
		t.Fatalf("before filling the volume: %v", r.failures[0])
	}

	filler := testservers.FillVolume(t, dir)
	next := 100
	for len(r.failures) == 0 {
		if next > 100_000 {
			t.Fatal("admissions never failed on a full volume")
		}
		r.round(next, 16)
		next += 16
	}
	// Calls keep failing, batches falling back to one call per
	// transaction, while the volume stays full.
	for range 20 {
		r.round(next, 16)
		next += 16
	}
	for _, err := range r.failures {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("a call failed with %v, not ErrUnavailable", err)
		}
	}
	if err := s.Ping(bg); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping on a full volume: %v", err)
	}
	if !s.Stats().StorageFault {
		t.Fatal("Stats do not report the storage fault")
	}
	t.Logf("%d admissions failed after %d attempts; Ping: %v", len(r.failures), 2*next, s.Ping(bg))

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Ping(bg) != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Ping still fails 10 s after space returned: %v", s.Ping(bg))
		}
	}
	failed := len(r.failures)
	r.round(next, 100)
	if len(r.failures) > failed {
		t.Fatalf("after space returned: %v", r.failures[failed])
	}
	if s.Stats().StorageFault {
		t.Fatal("Stats still report the storage fault")
	}
	r.check(t, func(jti string) (store.Usage, bool) {
		u, ok, err := s.Usage(bg, jti)
		if err != nil {
			t.Fatal(err)
		}
		return u, ok
	})
	checkCache(t, s)
	logMu.Lock()
	for _, want := range []string{"the volume refuses writes", "the volume takes writes again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line says %q:\n%s", want, logs.String())
		}
	}
	logMu.Unlock()

	// What succeeded is in the file, which is intact.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	r.check(t, func(jti string) (store.Usage, bool) {
		var u store.Usage
		err := db.QueryRow(`SELECT calls FROM token_usage WHERE jti = ?`, jti).Scan(&u.Calls)
		if errors.Is(err, sql.ErrNoRows) {
			return u, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return u, true
	})
}

// lockedWriter serializes the log handler's writes with the test's read.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
