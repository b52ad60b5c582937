package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/relayapi/relayapi/server/internal/store"
)

var _ store.Blobs = (*Store)(nil)

// GetBlob reads one row of relayapi_blobs.
func (s *Store) GetBlob(ctx context.Context, name string) ([]byte, error) {
	if err := store.CheckBlobName(name); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM relayapi_blobs WHERE name = $1`, name).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrBlobNotFound
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return data, nil
}

// PutBlob inserts or replaces one row of relayapi_blobs.
func (s *Store) PutBlob(ctx context.Context, name string, data []byte) error {
	if err := store.CheckBlob(name, data); err != nil {
		return err
	}
	if data == nil {
		data = []byte{} // NOT NULL: an empty value is still a value
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO relayapi_blobs (name, data) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`, name, data)
	return s.fail(err)
}

// DeleteBlob deletes one row of relayapi_blobs.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	if err := store.CheckBlobName(name); err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `DELETE FROM relayapi_blobs WHERE name = $1`, name)
	return s.fail(err)
}
