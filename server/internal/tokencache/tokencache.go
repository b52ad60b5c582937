// Package tokencache keeps decoded tokens, so the crypto of a token is
// paid once, not on every request. It is bounded by memory, not by count:
// a deployment minting one token per user session sees as many live
// tokens as it has users, and each decode it avoids is a decryption (and,
// for ecc tokens, a signature check) — tens to hundreds of microseconds.
package tokencache

import (
	"container/list"
	"crypto/sha256"
	"sync"

	"github.com/relayapi/relayapi/server/internal/policy"
)

// Key identifies a token: the SHA-256 of its compact form.
type Key = [sha256.Size]byte

// EntryOverhead is what one entry holds beyond its token's own bytes: the
// list element, the map slot, the key, and the decoded claims' structs
// and slice and map headers. TestEntryCostCoversTheHeap measures it.
const EntryOverhead = 640

// Cache is a least-recently-used cache of decoded tokens whose entries'
// estimated sizes add up to at most a byte budget. It is safe for
// concurrent use.
type Cache struct {
	mu      sync.Mutex
	max     int64
	used    int64
	entries map[Key]*list.Element
	order   *list.List // front: most recently used
}

type entry struct {
	key  Key
	tok  *policy.Token
	cost int64
}

// New returns a cache of at most maxBytes.
func New(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, entries: map[Key]*list.Element{}, order: list.New()}
}

// Get returns the token cached under k.
func (c *Cache) Get(k Key) (*policy.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry).tok, true
}

// Add caches tok under k; rawLen is the length of the token's compact
// form, which bounds how much its claims hold. Least recently used
// entries make room; a token larger than the whole budget is not kept.
func (c *Cache) Add(k Key, tok *policy.Token, rawLen int) {
	cost := int64(rawLen) + EntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		c.order.MoveToFront(e)
		return
	}
	if cost > c.max {
		return
	}
	for c.used+cost > c.max {
		c.evictOldest()
	}
	c.entries[k] = c.order.PushFront(&entry{key: k, tok: tok, cost: cost})
	c.used += cost
}

func (c *Cache) evictOldest() {
	e := c.order.Back()
	ent := e.Value.(*entry)
	c.order.Remove(e)
	delete(c.entries, ent.key)
	c.used -= ent.cost
}

// Len is the number of cached tokens; Bytes their estimated size.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Bytes is the estimated size of the cached tokens.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
