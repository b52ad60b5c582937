package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/store/storetest"
	"github.com/relayapi/relayapi/server/internal/testservers"
)

var ctx = context.Background()

// One server for the whole contract; each contract test starts from an
// empty database.
func TestRedisStoreContract(t *testing.T) {
	url := testservers.Redis(t)
	c := client(t, url)
	storetest.Run(t, func(t *testing.T) store.Store {
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return open(t, url)
	})
}

// The same contract on a one-node Redis Cluster, which enforces slot rules
// (CROSSSLOT) exactly as a real cluster does: proof that every script and
// transaction stays within one slot.
func TestRedisStoreContractOnCluster(t *testing.T) {
	c := clusterClient(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return n.FlushDB(ctx).Err()
		}); err != nil {
			t.Fatal(err)
		}
		return redisstore.NewWithClient(clusterClient0(t, c.Options().Addrs[0]))
	})
}

func open(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(ctx, redisstore.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client is a plain go-redis client for inspecting what the store wrote.
func client(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// clusterClient starts a one-node cluster owning every slot.
func clusterClient(t *testing.T) *redis.ClusterClient {
	t.Helper()
	srv := testservers.StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	node := client(t, srv.URL())
	if err := node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := node.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready: %q %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return clusterClient0(t, srv.Addr())
}

func clusterClient0(t *testing.T, addr string) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { c.Close() })
	return c
}

// Two relays on one Redis share blobs, kept under ra:blob:<name> with no
// expiry.
func TestRedisBlobsSharedAcrossInstances(t *testing.T) {
	url := testservers.Redis(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	storetest.SharedBlobs(t, a, b)
	if err := a.PutBlob(ctx, "acme/relay.test", []byte("cert")); err != nil {
		t.Fatal(err)
	}
	c := client(t, url)
	if got := c.Get(ctx, "ra:blob:acme/relay.test").Val(); got != "cert" {
		t.Fatalf("ra:blob:acme/relay.test holds %q", got)
	}
	if ttl := c.PTTL(ctx, "ra:blob:acme/relay.test").Val(); ttl != -1 {
		t.Fatalf("a blob expires (PTTL %v)", ttl)
	}
}
