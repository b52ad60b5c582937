package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Revoked checks many tokens' revocation keys in one pipeline (split by
// slot on a cluster).
func (s *Store) Revoked(ctx context.Context, jtis []string) ([]string, error) {
	if len(jtis) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.IntCmd, len(jtis))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, j := range jtis {
			cmds[i] = p.Exists(ctx, keysOf(j).revoked)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("revoked", err)
	}
	var out []string
	for i, c := range cmds {
		if c.Val() == 1 {
			out = append(out, jtis[i])
		}
	}
	return out, nil
}

var _ store.RevokedLister = (*Store)(nil)
