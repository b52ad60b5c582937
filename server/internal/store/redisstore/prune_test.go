package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// Prune trims old entries from both the global and the token's own log
// stream, keeps newer ones, and drops a token stream left empty.
func TestPruneTrimsTokenLogs(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	defer s.Close()
	logAt := func(id, jti string) {
		if err := s.Log(ctx, []store.Record{{Time: time.Now(), RequestID: id, TokenID: jti}}); err != nil {
			t.Fatal(err)
		}
	}
	logAt("old-a", "token-a-000000001")
	logAt("old-b", "token-b-000000001")
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	logAt("new-a", "token-a-000000001")
	if err := s.Prune(ctx, cut); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.RecordFilter{{}, {TokenID: "token-a-000000001"}} {
		page, _, err := s.Requests(ctx, f)
		if err != nil || len(page) != 1 || page[0].RequestID != "new-a" {
			t.Fatalf("%+v: %+v %v", f, page, err)
		}
	}
	if n := c.Exists(ctx, "ra:{token-b-000000001}:log").Val(); n != 0 {
		t.Fatal("emptied token stream kept")
	}
	if ids := c.ZRange(ctx, "ra:logged", 0, -1).Val(); len(ids) != 1 || ids[0] != "token-a-000000001" {
		t.Fatalf("ra:logged %v", ids)
	}
}

// A token whose state expired before Prune dropped it from the index is
// skipped, and pages stay full.
func TestListingSkipsExpiredState(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	defer s.Close()
	now := time.Now()
	for i := range 6 {
		a := store.Admission{TokenID: fmt.Sprintf("list-token-%07d", i), Now: now, ExpiresAt: now.Add(time.Hour)}
		if _, err := s.Admit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	c.Del(ctx, "ra:{list-token-0000001}:u", "ra:{list-token-0000002}:u")
	page, next, err := s.Tokens(ctx, store.TokenFilter{Limit: 3})
	if err != nil || len(page) != 3 || next == "" || page[1].TokenID != "list-token-0000003" {
		t.Fatalf("%+v %q %v", page, next, err)
	}
	page, next, err = s.Tokens(ctx, store.TokenFilter{Limit: 3, Cursor: next})
	if err != nil || len(page) != 1 || next != "" || page[0].TokenID != "list-token-0000005" {
		t.Fatalf("%+v %q %v", page, next, err)
	}
}
