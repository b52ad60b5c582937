package sqlitestore

import (
	"context"
	"strings"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Revoked reads the revocations of up to store.MaxRevokedBatch tokens in
// one query on the read pool.
func (s *Store) Revoked(ctx context.Context, jtis []string) ([]string, error) {
	if len(jtis) == 0 {
		return nil, nil
	}
	args := make([]any, len(jtis))
	for i, j := range jtis {
		args[i] = j
	}
	q := `SELECT jti FROM revocations WHERE jti IN (?` + strings.Repeat(",?", len(jtis)-1) + `)`
	rows, err := s.read.QueryContext(ctx, q, args...)
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
