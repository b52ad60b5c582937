package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// pruneBatch bounds each round trip of Prune.
const pruneBatch = 500

// Prune drops log entries older than before and the state of tokens that
// expired before it. Token keys also expire by themselves (PEXPIREAT at
// exp + margin) and subject windows at their end + margin; Prune removes
// what expiry cannot: index entries, and log entries of live streams. It
// walks indexes in batches, never SCAN, so it also works on a Cluster.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	if before.Before(time.UnixMilli(0)) {
		return nil // nothing is older than the epoch, and MINID cannot be negative
	}
	if err := s.rdb.XTrimMinID(ctx, logKey, minID(before)).Err(); err != nil {
		return unavailable("prune log", err)
	}
	if err := s.pruneTokens(ctx, before); err != nil {
		return err
	}
	return s.pruneTokenLogs(ctx, before)
}

// pruneTokens deletes tokens whose exp is before `before`, batch by batch
// from the low end of ra:exp (each batch removes what it read).
func (s *Store) pruneTokens(ctx context.Context, before time.Time) error {
	stop := "(" + strconv.FormatInt(before.Unix(), 10)
	for {
		members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: expKey, Start: "-inf", Stop: stop, ByScore: true, Count: pruneBatch,
		}).Result()
		if err != nil {
			return unavailable("prune tokens", err)
		}
		if len(members) == 0 {
			return nil
		}
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range members {
				dropToken(ctx, p, m)
			}
			return nil
		}); err != nil {
			return unavailable("prune tokens", err)
		}
		if len(members) < pruneBatch {
			return nil
		}
	}
}

// dropToken queues the removal of one expired token: its state keys (one
// slot, so one DEL) and its index entries. Its log stream is left to
// pruneTokenLogs, which keeps records until they are older than before.
func dropToken(ctx context.Context, p redis.Pipeliner, member string) {
	p.ZRem(ctx, expKey, member)
	jti, sub, ok := parseExpMember(member)
	if !ok {
		return
	}
	k := keysOf(jti)
	p.Del(ctx, k.usage, k.leases, k.reserved, k.revoked)
	p.ZRem(ctx, tokensKey, jti)
	if sub != "" {
		p.ZRem(ctx, subjectIndexKey(sub), jti)
	}
}

// pruneTokenLogs trims every token stream listed in ra:logged (deleting
// streams left empty), then forgets the tokens whose newest record is
// older than before. New members added meanwhile are only seen next time.
func (s *Store) pruneTokenLogs(ctx context.Context, before time.Time) error {
	oldest := minID(before)
	for off := int64(0); ; off += pruneBatch {
		ids, err := s.rdb.ZRange(ctx, loggedKey, off, off+pruneBatch-1).Result()
		if err != nil {
			return unavailable("prune token logs", err)
		}
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			// EVAL, not EVALSHA: in a pipeline a NOSCRIPT reply comes too
			// late to fall back, and this script is tiny.
			for _, jti := range ids {
				s.scripts.trimLog.Eval(ctx, p, []string{keysOf(jti).log}, oldest)
			}
			return nil
		}); err != nil {
			return unavailable("prune token logs", err)
		}
		if len(ids) < pruneBatch {
			break
		}
	}
	err := s.rdb.ZRemRangeByScore(ctx, loggedKey, "-inf", "("+oldest).Err()
	return unavailable("prune token logs", err)
}

// minID is the first stream entry id at or after t.
func minID(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
