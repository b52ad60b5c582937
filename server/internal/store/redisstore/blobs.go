package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

var _ store.Blobs = (*Store)(nil)

// blobKey names a blob: ra:blob:<name>, a string key without expiry (each
// its own slot on a Cluster; every command touches one key). Prune never
// touches these keys. A Redis whose maxmemory-policy evicts keys without a
// TTL (allkeys-*) may drop one: for the ACME cache that is a cache miss,
// and the relay asks the CA again.
func blobKey(name string) string { return "ra:blob:" + name }

// GetBlob reads one blob.
func (s *Store) GetBlob(ctx context.Context, name string) ([]byte, error) {
	if err := store.CheckBlobName(name); err != nil {
		return nil, err
	}
	data, err := s.rdb.Get(ctx, blobKey(name)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrBlobNotFound
	}
	if err != nil {
		return nil, unavailable("get blob", err)
	}
	return data, nil
}

// PutBlob writes one blob (SET: replaced whole, atomically).
func (s *Store) PutBlob(ctx context.Context, name string, data []byte) error {
	if err := store.CheckBlob(name, data); err != nil {
		return err
	}
	return unavailable("put blob", s.rdb.Set(ctx, blobKey(name), data, 0).Err())
}

// DeleteBlob removes one blob.
func (s *Store) DeleteBlob(ctx context.Context, name string) error {
	if err := store.CheckBlobName(name); err != nil {
		return err
	}
	return unavailable("delete blob", s.rdb.Del(ctx, blobKey(name)).Err())
}
