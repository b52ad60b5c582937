package redisstore_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

const outageTimeout = 500 * time.Millisecond

func admission(now time.Time) store.Admission {
	return store.Admission{TokenID: "outage-token-0001", MaxCalls: 100, Now: now, ExpiresAt: now.Add(time.Hour)}
}

// Redis stopped: Admit fails fast with ErrUnavailable (the relay answers
// store_unavailable, forwarding nothing). Redis back: the same Store
// serves again, with the counters it had.
func TestRedisDownThenBack(t *testing.T) {
	srv := testservers.StartRedis(t)
	s, err := redisstore.Open(ctx, redisstore.Options{URL: srv.URL(), Timeout: outageTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if g, err := s.Admit(ctx, admission(time.Now())); err != nil || g.Calls != 1 {
		t.Fatalf("%+v %v", g, err)
	}
	srv.Stop()
	for range 3 {
		start := time.Now()
		_, err := s.Admit(ctx, admission(time.Now()))
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("admit with redis down: %v", err)
		}
		if d := time.Since(start); d > outageTimeout {
			t.Fatalf("admit took %v to fail", d)
		}
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ping with redis down: %v", err)
	}
	srv.Restart()
	g := admitEventually(t, s)
	if g.Decision != store.Admitted || g.Calls != 2 {
		t.Fatalf("after restart %+v", g)
	}
}

// admitEventually retries while the client notices Redis is back (its
// pool probes a failed server about once a second).
func admitEventually(t *testing.T, s store.Store) store.Grant {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, err := s.Admit(ctx, admission(time.Now()))
		if err == nil {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis back but admit still fails: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A Redis that accepts connections but never answers (hung, or a network
// black hole) is cut off by Timeout.
func TestSilentRedisTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn // keep them open, say nothing
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	start := time.Now()
	_, err = redisstore.Open(ctx, redisstore.Options{URL: "redis://" + l.Addr().String() + "/0", Timeout: outageTimeout})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open against a silent server: %v", err)
	}
	if d := time.Since(start); d > 3*outageTimeout {
		t.Fatalf("open took %v", d)
	}
}

func TestBadURLIsAConfigError(t *testing.T) {
	_, err := redisstore.Open(ctx, redisstore.Options{URL: "http://user:secret@host"})
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}
