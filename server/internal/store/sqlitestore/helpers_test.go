package sqlitestore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

var (
	bg   = context.Background()
	base = time.Unix(1_800_000_000, 0)
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relayapi.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func admission(jti string, mut func(*store.Admission)) store.Admission {
	a := store.Admission{TokenID: jti, ExpiresAt: base.Add(24 * time.Hour), Now: base, LeaseTTL: time.Minute}
	if mut != nil {
		mut(&a)
	}
	return a
}

// queue puts o on the writer's queue without waiting for it; result waits.
func queue(t *testing.T, s *Store, ctx context.Context, o op) *request {
	t.Helper()
	r := newRequest().(*request)
	r.ctx, r.op = ctx, o
	if err := s.w.enqueue(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func result(r *request) error {
	<-r.done
	return r.err
}

// gate holds the writer inside a batch of its own until release is
// called, so the ops a test queues meanwhile all form the next batch.
func gate(t *testing.T, s *Store) (release func()) {
	t.Helper()
	g := &gateOp{entered: make(chan struct{}), release: make(chan struct{})}
	r := queue(t, s, bg, g)
	<-g.entered
	return func() {
		close(g.release)
		if err := result(r); err != nil {
			t.Error(err)
		}
	}
}

type gateOp struct {
	once             sync.Once
	entered, release chan struct{}
}

func (g *gateOp) apply(*writer) error {
	g.once.Do(func() { close(g.entered) })
	<-g.release
	return nil
}

// execOp runs SQL in the writer, after the rows pending in its batch:
// schema tweaks and crafted failures.
type execOp string

func (q execOp) apply(w *writer) error {
	if err := w.flush(); err != nil {
		return err
	}
	return execSQL(w.dc, string(q))
}

// execSQL runs SQL text once on the writer's driver connection.
func execSQL(c driver.Conn, sql string, args ...driver.Value) error {
	st, err := prepareRaw(c, sql)
	if err != nil {
		return err
	}
	return errors.Join(st.exec(args...), st.close())
}

// failingOp breaks a NOT NULL constraint.
const failingOp = execOp(`INSERT INTO leases (jti, lease_id, expires_at) VALUES ('x', 'y', NULL)`)

// checkCacheOp compares every cached token and subject window with a fresh
// load from the file, inside the writer.
type checkCacheOp struct {
	tokens, subjects int
	mismatches       []string
}

func (o *checkCacheOp) apply(w *writer) error {
	o.tokens, o.subjects, o.mismatches = 0, 0, nil
	if err := w.flush(); err != nil {
		return err
	}
	for _, jti := range w.cache.tokens.Keys() {
		cached, _ := w.cache.tokens.Peek(jti)
		disk, err := w.loadToken(jti)
		if err != nil {
			return err
		}
		o.tokens++
		if msg := compareStates(cached, disk); msg != "" {
			o.mismatches = append(o.mismatches, jti+": "+msg)
		}
	}
	for _, k := range w.cache.subjects.Keys() {
		cached, _ := w.cache.subjects.Peek(k)
		var disk int64
		if _, err := w.stmts.loadSubject.row([]driver.Value{k.subject, k.window}, &disk); err != nil {
			return err
		}
		o.subjects++
		if cached != disk {
			o.mismatches = append(o.mismatches, fmt.Sprintf("subject %v: cache %d disk %d", k, cached, disk))
		}
	}
	return nil
}

func compareStates(c, d *tokenState) string {
	for _, l := range c.leases {
		if l.expiresAt < c.noExpiryBefore {
			return fmt.Sprintf("lease expiring at %d before the bound %d", l.expiresAt, c.noExpiryBefore)
		}
	}
	if c.dirty {
		return "still dirty after a flush"
	}
	if c.jti != d.jti || c.exists != d.exists || c.onDisk != d.onDisk || c.revoked != d.revoked ||
		c.usageRow != d.usageRow || c.reserved != d.reserved || !maps.Equal(c.leases, d.leases) {
		return fmt.Sprintf("cache %+v disk %+v", *c, *d)
	}
	return ""
}

// checkCache fails t if the writer's cache disagrees with the file and
// returns how many tokens and windows it compared.
func checkCache(t *testing.T, s *Store) (tokens, subjects int) {
	t.Helper()
	o := &checkCacheOp{}
	if err := s.w.do(bg, o); err != nil {
		t.Fatal(err)
	}
	for _, m := range o.mismatches {
		t.Error(m)
	}
	return o.tokens, o.subjects
}

// pruneAllOp runs every step of a Prune in one op, in the calls' group:
// the tables of the randomized tests hold far fewer rows than a step.
type pruneAllOp struct{ ms, secs int64 }

func (o pruneAllOp) apply(w *writer) error {
	p := &pruneOp{ms: o.ms, secs: o.secs}
	for p.at.table != pruneDone {
		if err := p.apply(w); err != nil {
			return err
		}
		p.at = p.next
	}
	return nil
}

// writerFunc runs a function in the writer, for tests that change its
// state without racing it.
type writerFunc func(*writer) error

func (f writerFunc) apply(w *writer) error { return f(w) }
