// Package redisstore is the usage store on Redis, for many relay
// instances sharing counters, rate windows, leases and revocations.
//
// Every decision runs as one Lua script over the keys of one token (see
// keys.go), so limits hold exactly under any concurrency and across
// instances, and the keys obey Redis Cluster slot rules. Scripts take time
// from the caller (Admission.Now and friends), never from the Redis
// server's clock, so every backend and the contract suite agree on windows
// and expiries; relays therefore need synchronised clocks (NTP). Keys still
// expire on Redis's clock (PEXPIREAT), with a day's margin for skew.
//
// Redis keeps a bounded request log (streams capped at logMaxLen); for a
// durable, complete request log use the PostgreSQL store.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Options configure the connection.
type Options struct {
	// URL is redis://[user:password@]host:port/db, or rediss:// for TLS.
	URL string
	// PoolSize caps open connections (0: go-redis default, 10 per CPU).
	PoolSize int
	// Timeout bounds dialing, each read and each write (default 2s), and so
	// how long a request waits before store_unavailable when Redis is gone:
	// a hot call (admit, settle, renew) waits at most Timeout in the queue
	// of the store's pipelines, then Timeout for its pipeline's round trip.
	Timeout time.Duration
}

// DefaultTimeout applies when Options.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// Store is a store.Store on Redis.
type Store struct {
	rdb     redis.UniversalClient
	scripts scripts
	// pipe sends the hot scripts in shared pipelines (see pipeline.go).
	pipe *pipeliner
}

var _ store.Store = (*Store)(nil)

// Open connects and pings. A failed ping wraps store.ErrUnavailable; a
// malformed URL is a configuration error and does not.
func Open(ctx context.Context, o Options) (*Store, error) {
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		// The URL may hold a password: never echo it.
		return nil, errors.New("redis store: invalid url (want redis://host:port/db or rediss://...)")
	}
	configure(opt, o)
	s := newStore(redis.NewClient(opt), opt.ReadTimeout)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func configure(opt *redis.Options, o Options) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = timeout, timeout, timeout
	if o.PoolSize > 0 {
		opt.PoolSize = o.PoolSize
	}
	// The request's deadline also bounds the Redis call.
	opt.ContextTimeoutEnabled = true
	// A script is not idempotent: replaying Admit after a lost reply would
	// spend a second call and leave an orphan lease that later charges its
	// whole reservation. Fail closed instead; the client may retry.
	opt.MaxRetries = -1
	// One dial attempt per command, so an unreachable Redis answers
	// store_unavailable within Timeout rather than after several dials.
	opt.DialerRetries = 1
}

// newStore runs on rdb; timeout bounds a pipelined call's wait in the
// queue and its pipeline's round trip, as Options.Timeout bounds a
// request's wait for Redis.
func newStore(rdb redis.UniversalClient, timeout time.Duration) *Store {
	return &Store{rdb: rdb, scripts: newScripts(), pipe: newPipeliner(rdb, timeout)}
}

// Ping checks Redis answers (readiness).
func (s *Store) Ping(ctx context.Context) error {
	return unavailable("ping", s.rdb.Ping(ctx).Err())
}

// Close answers every call already queued (sending it: a queued Admit
// may be granted), then closes the connection pool. Calls made after
// Close fail with store.ErrUnavailable.
func (s *Store) Close() error {
	s.pipe.close()
	return s.rdb.Close()
}

func unavailable(op string, err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: redis %s: %v", store.ErrUnavailable, op, err)
}
