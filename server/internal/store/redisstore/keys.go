package redisstore

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Key layout. Every key of one token carries the hash tag {jti}, so in
// Redis Cluster they share one slot and one Lua script may touch them all:
//
//	ra:{jti}:u    hash: calls refunds rpm_tat prompt completion max_calls
//	              budget subject first last exp last_error ix
//	              (refunds: calls given back, bounded by settle.lua)
//	ra:{jti}:l    zset: lease id -> lease expiry (Unix ms)
//	ra:{jti}:lr   hash: lease id -> reserved budget tokens
//	ra:{jti}:r    string: revocation time (Unix ms)
//	ra:{jti}:log  stream: the token's own request log (capped)
//
// A subject's window counter is tagged by subject, not token:
//
//	ra:{s:sub}:w:<window start ms>   integer
//
// Global listing and housekeeping keys (each its own slot, written by
// separate commands, never inside a token's script):
//
//	ra:tokens      zset, score 0: every admitted jti, for lexicographic paging
//	ra:sub:<sub>   zset, score 0: the jtis of one subject
//	ra:exp         zset: ["jti","sub"] -> token exp (Unix s), for Prune
//	ra:log         stream: the request log of every token (capped)
//	ra:logged      zset: jti -> time of its newest logged record (Unix ms)
//
// Shared blobs (store.Blobs: the ACME cache), no expiry, see blobs.go:
//
//	ra:blob:<name> string
const (
	tokensKey = "ra:tokens"
	expKey    = "ra:exp"
	logKey    = "ra:log"
	loggedKey = "ra:logged"
)

const (
	// keyMargin keeps a token's keys a while past exp, so clock skew
	// between relays and Redis cannot drop live state early.
	keyMargin = 24 * time.Hour
	// logMaxLen and tokenLogMaxLen cap the request log streams (approximate
	// trimming, so Redis trims whole nodes cheaply).
	logMaxLen      = 100_000
	tokenLogMaxLen = 1_000
	// tokenLogTTL bounds a token's log stream after its last record, in case
	// Prune never runs; PostgreSQL is the store for a long request log.
	tokenLogTTL = 30 * 24 * time.Hour
)

type tokenKeys struct{ usage, leases, reserved, revoked, log string }

// keysOf names a token's keys. They are slices of one string, so naming
// them costs one allocation on the hot path rather than six.
func keysOf(jti string) tokenKeys {
	const prefix, tag = "ra:{", "}:"
	suffixes := [...]string{"u", "l", "lr", "r", "log"}
	var b strings.Builder
	b.Grow(len(suffixes)*(len(prefix)+len(jti)+len(tag)) + len("ullrrlog"))
	var ends [len(suffixes)]int
	for i, sfx := range suffixes {
		b.WriteString(prefix)
		b.WriteString(jti)
		b.WriteString(tag)
		b.WriteString(sfx)
		ends[i] = b.Len()
	}
	all := b.String()
	return tokenKeys{
		usage: all[:ends[0]], leases: all[ends[0]:ends[1]], reserved: all[ends[1]:ends[2]],
		revoked: all[ends[2]:ends[3]], log: all[ends[3]:],
	}
}

func subjectWindowKey(sub string, windowStart time.Time) string {
	const prefix, tag = "ra:{s:", "}:w:"
	var num [20]byte
	ms := strconv.AppendInt(num[:0], windowStart.UnixMilli(), 10)
	var b strings.Builder
	b.Grow(len(prefix) + len(sub) + len(tag) + len(ms))
	b.WriteString(prefix)
	b.WriteString(sub)
	b.WriteString(tag)
	b.Write(ms)
	return b.String()
}

func subjectIndexKey(sub string) string { return "ra:sub:" + sub }

// expMember names a token in ra:exp with its subject, so Prune can drop it
// from ra:sub:<sub> even after the token's own hash has expired.
func expMember(jti, sub string) string {
	b, _ := json.Marshal([2]string{jti, sub})
	return string(b)
}

func parseExpMember(m string) (jti, sub string, ok bool) {
	var v [2]string
	if err := json.Unmarshal([]byte(m), &v); err != nil {
		return "", "", false
	}
	return v[0], v[1], true
}

// keyExpiry is when a token's keys may go: exp (or now, if exp is unknown
// or past) plus the margin, in Unix ms for PEXPIREAT.
func keyExpiry(exp, now time.Time) int64 {
	if exp.Before(now) {
		exp = now
	}
	return exp.Add(keyMargin).UnixMilli()
}
