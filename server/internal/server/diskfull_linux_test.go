package server_test

import (
	"os"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// A full data volume is a store outage like any other: calls are refused
// with 503 store_unavailable and nothing is forwarded, /ready says so,
// and the relay recovers by itself when space returns, every call counted
// exactly once (issue 16).
func TestAFullDiskRefusesCallsThenRecoversByItself(t *testing.T) {
	dir := testservers.MountTmpfs(t, "8m")
	mock := mockprovider.New(mockprovider.Options{})
	s := newStack(t, mock, func(c *config.Config) { c.DataDir = dir })
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

	filler := testservers.FillVolume(t, dir)
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
