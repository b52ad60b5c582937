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
