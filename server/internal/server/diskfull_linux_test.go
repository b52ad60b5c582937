package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
	"github.com/relayapi/relayapi/server/token"
)

// A full data volume is a store outage like any other: calls are refused
// with 503 store_unavailable and nothing is forwarded, /ready says so,
// and the relay recovers by itself when space returns, every call counted
// exactly once (issue 16).
func TestAFullDiskRefusesCallsThenRecoversByItself(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs to fill needs root (CI runs this test as root)")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", dir, err)
	}
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) { c.DataDir = dir })
	// The stack's cleanups close the relay; the unmount must come after.
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	id := cliID()
	tok := s.token(func(c *token.Claims) { c.ID = id; c.MaxCalls = 1000 })
	call := func() response {
		return s.do("POST", "/t/"+tok+"/v1/chat/completions", chatOf("gpt-4o-mini", "hi", ""), nil)
	}
	ok := 0
	if r := call(); r.status != 200 {
		t.Fatalf("before the disk fills: %d %s", r.status, r.body)
	}
	ok++

	filler := fill(t, dir)
	eventually(t, "a call refused for the full disk", func() bool {
		r := call()
		if r.status == 200 {
			ok++
			return false
		}
		if r.status != 503 || r.code() != "store_unavailable" {
			t.Fatalf("on a full disk: %d %s", r.status, r.body)
		}
		return true
	})
	forwarded := mock.Stats().Requests
	for range 5 {
		if r := call(); r.status != 503 {
			t.Fatalf("still full: %d %s", r.status, r.body)
		}
	}
	if mock.Stats().Requests != forwarded {
		t.Fatal("a call refused for the full disk reached the provider")
	}
	eventually(t, "/ready to report the store", func() bool { return s.do("GET", "/ready", "", nil).status == 503 })

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, "calls to pass again", func() bool {
		r := call()
		if r.status == 200 {
			ok++
		}
		return r.status == 200
	})
	eventually(t, "/ready to recover", func() bool { return s.do("GET", "/ready", "", nil).status == 200 })
	if got := num(s.adminUsage(id)["calls"]); got != int64(ok) || got != mock.Stats().Requests {
		t.Fatalf("the store counts %d calls, %d succeeded and the provider saw %d", got, ok, mock.Stats().Requests)
	}
}

// fill writes a file in dir until the volume is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{64 << 10, 4 << 10, 512} {
		buf := make([]byte, size)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return name
}
