package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// held is a store whose workers each stop in the send hook on their first
// batch, until released; later batches go to seen.
type held struct {
	*Store
	rdb     *redis.Client
	busy    chan struct{}
	release chan struct{}
	seen    chan []*call
}

func openHeld(t *testing.T) *held {
	t.Helper()
	url := testservers.Redis(t)
	s, err := Open(context.Background(), Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := redis.ParseURL(url)
	h := &held{
		Store: s, rdb: redis.NewClient(opt), busy: make(chan struct{}),
		release: make(chan struct{}), seen: make(chan []*call, 16),
	}
	t.Cleanup(func() { h.rdb.Close() })
	var batches atomic.Int32
	s.pipe.testHookSend = func(batch []*call) {
		if batches.Add(1) <= pipelineWorkers {
			h.busy <- struct{}{}
			<-h.release
			return
		}
		h.seen <- append([]*call(nil), batch...)
	}
	return h
}

// hold occupies every worker with one queued admission of jti.
func (h *held) hold(t *testing.T, jti string) []*call {
	t.Helper()
	var calls []*call
	for range pipelineWorkers {
		calls = append(calls, h.enqueue(t, jti))
		<-h.busy
	}
	return calls
}

func (h *held) enqueue(t *testing.T, jti string) *call {
	t.Helper()
	now := time.Now()
	c, _ := h.admitCall(context.Background(), store.Admission{TokenID: jti, Now: now, ExpiresAt: now.Add(time.Hour)}, false)
	if err := h.pipe.enqueue(c); err != nil {
		t.Fatal(err)
	}
	return c
}

func admitted(c *call) bool {
	<-c.done
	return c.err == nil && c.intsReply()[0] == int64(store.Admitted)
}

// Close with calls queued behind busy workers: Close refuses new calls at
// once, but sends every queued one and answers it with its real reply (a
// queued Admit may be granted, so dropping it would lose a spent call).
func TestCloseSendsQueuedCalls(t *testing.T) {
	h := openHeld(t)
	calls := h.hold(t, "queued")
	for range 20 {
		calls = append(calls, h.enqueue(t, "queued"))
	}
	h.pipe.stop()
	c, _ := h.admitCall(context.Background(), store.Admission{TokenID: "queued"}, false)
	if err := h.pipe.enqueue(c); !errors.Is(err, errClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
	close(h.release)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if !admitted(c) {
			t.Fatalf("call %d: %v", i, c.err)
		}
	}
	if n, err := h.rdb.HGet(context.Background(), keysOf("queued").usage, "calls").Int(); err != nil || n != len(calls) {
		t.Fatalf("redis counted %d calls (%v), want %d", n, err, len(calls))
	}
}

// A script that fails (here WRONGTYPE: a token key of the wrong type)
// fails its own call only, not the others of its pipeline.
func TestFailingCallDoesNotFailItsNeighbours(t *testing.T) {
	h := openHeld(t)
	defer h.Close()
	holders := h.hold(t, "holder")
	var good, bad []*call
	for i := range 10 {
		good = append(good, h.enqueue(t, fmt.Sprintf("good-%d", i)))
		broken := fmt.Sprintf("broken-%d", i)
		if err := h.rdb.Set(context.Background(), keysOf(broken).usage, "not a hash", 0).Err(); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, h.enqueue(t, broken))
	}
	h.release <- struct{}{} // one worker: it then takes all 20 queued calls
	if batch := <-h.seen; len(batch) != 20 {
		t.Fatalf("the 20 calls went out in a batch of %d", len(batch))
	}
	for i := range good {
		if !admitted(good[i]) {
			t.Errorf("good call %d: %v", i, good[i].err)
		}
		if <-bad[i].done; bad[i].err == nil || !strings.Contains(bad[i].err.Error(), "WRONGTYPE") {
			t.Errorf("broken call %d: %v", i, bad[i].err)
		}
	}
	close(h.release)
	for _, c := range holders {
		if !admitted(c) {
			t.Errorf("held call: %v", c.err)
		}
	}
}
