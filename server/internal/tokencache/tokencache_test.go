package tokencache

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/policy"
)

func key(i int) Key { return sha256.Sum256([]byte(fmt.Sprint(i))) }

func TestTheLeastRecentlyUsedTokensMakeRoom(t *testing.T) {
	c := New(3 * (100 + EntryOverhead))
	for i := range 3 {
		c.Add(key(i), &policy.Token{}, 100)
	}
	c.Get(key(0)) // 1 is now the oldest
	c.Add(key(3), &policy.Token{}, 100)
	if _, ok := c.Get(key(1)); ok {
		t.Error("the least recently used token stayed")
	}
	for _, i := range []int{0, 2, 3} {
		if _, ok := c.Get(key(i)); !ok {
			t.Errorf("token %d was evicted", i)
		}
	}
	if c.Len() != 3 || c.Bytes() != 3*(100+EntryOverhead) {
		t.Errorf("len %d bytes %d", c.Len(), c.Bytes())
	}
}

func TestABigTokenEvictsSeveralAndAHugeOneIsNotKept(t *testing.T) {
	c := New(4 * (100 + EntryOverhead))
	for i := range 4 {
		c.Add(key(i), &policy.Token{}, 100)
	}
	c.Add(key(9), &policy.Token{}, 2*100+EntryOverhead)
	if c.Len() != 3 || c.Bytes() > 4*(100+EntryOverhead) {
		t.Errorf("len %d bytes %d", c.Len(), c.Bytes())
	}
	c.Add(key(10), &policy.Token{}, 10*(100+EntryOverhead))
	if _, ok := c.Get(key(10)); ok || c.Len() != 3 {
		t.Error("a token larger than the budget was kept or emptied the cache")
	}
}

func TestAddingTheSameTokenTwiceCountsItOnce(t *testing.T) {
	c := New(1 << 20)
	c.Add(key(1), &policy.Token{}, 100)
	c.Add(key(1), &policy.Token{}, 100)
	if c.Len() != 1 || c.Bytes() != 100+EntryOverhead {
		t.Errorf("len %d bytes %d", c.Len(), c.Bytes())
	}
}

// The estimate must not under-count what an entry really holds, or the
// budget would not bound memory. Realistic tokens (a key, models,
// origins, meta) are decoded and cached; the heap they take is measured.
func TestEntryCostCoversTheHeap(t *testing.T) {
	const n = 20000
	k, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	mint, _ := k.MintKey()
	ring := token.NewKeyring()
	if err := k.AddTo(ring); err != nil {
		t.Fatal(err)
	}
	raws := make([]string, n)
	for i := range raws {
		raws[i], err = token.Encode(&token.Claims{
			ID: fmt.Sprintf("session-%016d-abcdef", i), ExpiresAt: time.Now().Add(time.Hour).Unix(), IssuedAt: time.Now().Unix(),
			Subject: fmt.Sprintf("user-%d", i), Provider: "openai", APIKey: "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH",
			MaxCalls: 100, TokenBudget: 100000, Models: []string{"gpt-4o-mini", "gpt-4.1-*"},
			Origins: []string{"https://app.example.com"}, Meta: map[string]string{"plan": "pro", "team": "t-42"},
		}, mint)
		if err != nil {
			t.Fatal(err)
		}
	}
	c := New(1 << 40)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var estimated int64
	for _, raw := range raws {
		claims, err := ring.Open(raw)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(sha256.Sum256([]byte(raw)), policy.Compile(claims), len(raw))
		estimated += int64(len(raw)) + EntryOverhead
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d tokens of ~%d bytes: heap %d bytes per entry, estimated %d", n, len(raws[0]), held/n, estimated/n)
	if held > estimated {
		t.Fatalf("entries hold %d bytes each, the estimate says %d", held/n, estimated/n)
	}
	runtime.KeepAlive(raws)
	runtime.KeepAlive(c)
}

func BenchmarkGetHit(b *testing.B) {
	c := New(1 << 30)
	for i := range 100000 {
		c.Add(key(i), &policy.Token{}, 900)
	}
	k := key(777)
	b.ReportAllocs()
	for b.Loop() {
		c.Get(k)
	}
}
