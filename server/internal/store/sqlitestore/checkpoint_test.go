package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

func TestCommitsLeaveTheWALToTheCheckpointer(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "relayapi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ckpt.stopLoop() // this test checkpoints by hand
	ctx := context.Background()
	now := time.Now()
	// Far more pages than SQLite's automatic checkpoint (1,000) would let
	// accumulate in the WAL.
	for i := range 1500 {
		a := store.Admission{TokenID: fmt.Sprintf("token-%d", i), ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute}
		if _, err := s.Admit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	walFrames, copied, err := s.ckpt.checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if walFrames < 1000 {
		t.Fatalf("the WAL holds %d frames: commits checkpointed it themselves", walFrames)
	}
	if copied != walFrames {
		t.Fatalf("checkpoint copied %d of %d frames", copied, walFrames)
	}
}

// A checkpoint reads the WAL's size when it runs and reports it later: a
// batch committed in between is in neither, and must still be counted.
func TestAStaleCheckpointReportNeverCountsABatchOut(t *testing.T) {
	c := &checkpointer{}
	if _, ok := c.observedFrames(26); ok { // the migrations' frames: no checkpoint yet
		t.Fatal("an observation before any checkpoint")
	}
	before := c.appended.Load()
	// The checkpoint found 26 frames; the writer reports a batch of 16
	// before the checkpoint's result comes in.
	if _, ok := c.observedFrames(16); ok {
		t.Fatal("an observation before the checkpoint recorded one")
	}
	c.record(26, before)
	bound, ok := c.observedFrames(10)
	if !ok || bound != 26+16+10 {
		t.Fatalf("bound %d (ok %v), want the WAL's 52 frames at least", bound, ok)
	}
	if _, ok := c.observedFrames(5); ok {
		t.Fatal("one checkpoint's observation was used twice")
	}
}
