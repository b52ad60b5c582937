package pgstore

import (
	"context"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Revoked reads the revocations of many tokens in one query.
func (s *Store) Revoked(ctx context.Context, jtis []string) ([]string, error) {
	if len(jtis) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT jti FROM relayapi_revocations WHERE jti = ANY($1)`, jtis)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, unavailable(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

var _ store.RevokedLister = (*Store)(nil)
