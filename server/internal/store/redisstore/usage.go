package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

// usageCmds are the replies that make up one token's Usage.
type usageCmds struct {
	jti      string
	hash     *redis.MapStringStringCmd
	revoked  *redis.IntCmd
	reserved *redis.StringSliceCmd
}

func queueUsage(ctx context.Context, p redis.Pipeliner, jti string) usageCmds {
	k := keysOf(jti)
	return usageCmds{
		jti:      jti,
		hash:     p.HGetAll(ctx, k.usage),
		revoked:  p.Exists(ctx, k.revoked),
		reserved: p.HVals(ctx, k.reserved),
	}
}

// usage assembles the replies; seen is false when the token was never
// admitted (or its state expired), and then only Revoked is meaningful.
func (c usageCmds) usage() (u store.Usage, seen bool) {
	h, revoked := c.hash.Val(), c.revoked.Val() == 1
	if len(h) == 0 {
		return store.Usage{TokenID: c.jti, Revoked: revoked}, false
	}
	n := func(f string) int64 { v, _ := strconv.ParseInt(h[f], 10, 64); return v }
	u = store.Usage{
		TokenID: c.jti, Subject: h["subject"], Calls: n("calls"), MaxCalls: n("max_calls"), Refunds: n("refunds"),
		PromptTokens: n("prompt"), CompletionTokens: n("completion"), TokenBudget: n("budget"),
		FirstSeen: time.UnixMilli(n("first")), LastSeen: time.UnixMilli(n("last")),
		ExpiresAt: time.Unix(n("exp"), 0), Revoked: revoked, LastError: h["last_error"],
	}
	for _, v := range c.reserved.Val() {
		r, _ := strconv.ParseInt(v, 10, 64)
		u.Reserved += r
	}
	return u, true
}

// Usage reads one token's counters in one MULTI (its keys share a slot),
// so the counters and reservations are a consistent snapshot.
func (s *Store) Usage(ctx context.Context, jti string) (store.Usage, bool, error) {
	var c usageCmds
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		c = queueUsage(ctx, p, jti)
		return nil
	})
	if err != nil {
		return store.Usage{}, false, unavailable("usage", err)
	}
	// Like the SQLite store, a revoked token never admitted is known.
	u, seen := c.usage()
	switch {
	case seen:
		return u, true, nil
	case u.Revoked:
		return store.Usage{TokenID: jti, Revoked: true}, true, nil
	}
	return store.Usage{}, false, nil
}

// Tokens pages through ra:tokens (or ra:sub:<sub>) in jti byte order. The
// cursor is the last jti returned. Tokens whose state already expired but
// which Prune has not yet dropped from the index are skipped.
func (s *Store) Tokens(ctx context.Context, f store.TokenFilter) ([]store.Usage, string, error) {
	limit := store.PageSize(f.Limit)
	after, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	idx := tokensKey
	if f.Subject != "" {
		idx = subjectIndexKey(f.Subject)
	}
	var page []store.Usage
	// One more than a page tells whether there is a next one; loop only
	// to replace index entries whose state is gone.
	for len(page) <= limit {
		want := int64(limit + 1 - len(page))
		ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: idx, Start: lexAfter(after), Stop: "+", ByLex: true, Count: want,
		}).Result()
		if err != nil {
			return nil, "", unavailable("list tokens", err)
		}
		found, err := s.usages(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		page = append(page, found...)
		if int64(len(ids)) < want {
			break
		}
		after = ids[len(ids)-1]
	}
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = store.EncodeCursor(page[limit-1].TokenID)
	}
	return page, next, nil
}

// usages reads the tokens of one listing batch in one pipeline.
func (s *Store) usages(ctx context.Context, ids []string) ([]store.Usage, error) {
	cmds := make([]usageCmds, 0, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			cmds = append(cmds, queueUsage(ctx, p, id))
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("list tokens", err)
	}
	var out []store.Usage
	for _, c := range cmds {
		if u, seen := c.usage(); seen {
			out = append(out, u)
		}
	}
	return out, nil
}

func lexAfter(jti string) string {
	if jti == "" {
		return "-"
	}
	return "(" + jti
}
