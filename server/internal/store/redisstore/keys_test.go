package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

// globalKeys are the listing and log indexes, bounded by Prune and the
// stream caps rather than by a TTL.
var globalKeys = map[string]bool{
	"ra:tokens": true, "ra:sub:erin": true, "ra:exp": true, "ra:log": true, "ra:logged": true,
}

// exercise touches every kind of key one token can have.
func exercise(t *testing.T, s store.Store, jti string) {
	t.Helper()
	now := time.Now()
	a := store.Admission{
		TokenID: jti, Subject: "erin", MaxCalls: 10, RPM: 60, Concurrency: 2, TokenBudget: 10_000,
		PromptEstimate: 10, SubjectLimit: store.SubjectLimit{Calls: 5, Window: time.Hour},
		ExpiresAt: now.Add(time.Hour), Now: now, LeaseTTL: time.Minute,
	}
	g, err := s.Admit(ctx, a)
	if err != nil || g.Decision != store.Admitted {
		t.Fatalf("%+v %v", g, err)
	}
	if err := s.Log(ctx, []store.Record{{Time: now, RequestID: "r1", TokenID: jti, Subject: "erin"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, jti, now); err != nil {
		t.Fatal(err)
	}
}

func allKeys(t *testing.T, c redis.Cmdable, match string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(ctx, 0, match, 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// Every per-token and per-subject key expires, so Redis cannot grow
// without bound.
func TestEveryKeyExpires(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	defer s.Close()
	exercise(t, s, "ttl-token-0000001")
	keys := allKeys(t, c, "*")
	if len(keys) < 10 {
		t.Fatalf("expected every kind of key, got %v", keys)
	}
	for _, k := range keys {
		ttl := c.PTTL(ctx, k).Val()
		switch {
		case globalKeys[k]:
		case ttl <= 0:
			t.Errorf("key %s has no expiry (%v)", k, ttl)
		case ttl > 32*24*time.Hour:
			t.Errorf("key %s expires too late (%v)", k, ttl)
		}
	}
}

// A revocation of a token never seen has no known exp, so it is kept
// until the token is presented; then it expires with the token.
func TestUnseenRevocationExpiresOncePresented(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	s := open(t, url)
	defer s.Close()
	const jti = "unseen-0000000001"
	if err := s.Revoke(ctx, jti, time.Now()); err != nil {
		t.Fatal(err)
	}
	key := "ra:{" + jti + "}:r"
	if ttl := c.PTTL(ctx, key).Val(); ttl != -1 {
		t.Fatalf("unseen revocation ttl %v", ttl)
	}
	now := time.Now()
	g, err := s.Admit(ctx, store.Admission{TokenID: jti, Now: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil || g.Decision != store.Revoked {
		t.Fatalf("%+v %v", g, err)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < 24*time.Hour || ttl > 26*time.Hour {
		t.Fatalf("presented revocation ttl %v, want exp + 1 day", ttl)
	}
}

// All keys of one token hash to one Cluster slot, so one script may touch
// them all. CLUSTER KEYSLOT needs cluster mode, hence the one-node cluster.
func TestTokenKeysShareOneSlot(t *testing.T) {
	cc := clusterClient(t)
	s := redisstore.NewWithClient(cc)
	defer s.Close()
	const jti = "slot-token-00000001"
	exercise(t, s, jti)
	var keys []string
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		keys = append(keys, allKeys(t, n, "ra:{"+jti+"}:*")...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 { // usage, leases, reserved, revocation, log
		t.Fatalf("token keys %v", keys)
	}
	want := cc.ClusterKeySlot(ctx, keys[0]).Val()
	for _, k := range keys {
		if slot := cc.ClusterKeySlot(ctx, k).Val(); slot != want {
			t.Errorf("%s in slot %d, %s in %d", k, slot, keys[0], want)
		}
	}
}
