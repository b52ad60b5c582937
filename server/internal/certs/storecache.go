package certs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/relayapi/relayapi/server/internal/store"
)

// storeCachePrefix namespaces the ACME cache among the store's blobs.
const storeCachePrefix = "acme/"

// storeCacheTimeout bounds each cache operation. autocert deletes
// challenge tokens with no deadline while holding its challenge lock, so
// a store that hangs must not hold the lock forever.
var storeCacheTimeout = 15 * time.Second

// storeCache is an autocert.Cache over the usage store's shared blobs
// (tls.cache "store"): every relay on the store reads the account key,
// the certificates and the pending challenge answers (HTTP-01 tokens,
// TLS-ALPN-01 certificates) that any of them wrote. autocert names its
// entries "acme_account+key", "<domain>" (ECDSA), "<domain>+rsa",
// "<token>+http-01" and "<domain>+token"; they are kept as
// "acme/<name>".
type storeCache struct {
	b   store.Blobs
	log *slog.Logger
}

// NewStoreCache returns an autocert.Cache keeping its entries in b. Store
// failures are logged (autocert drops some of them silently) and returned.
func NewStoreCache(b store.Blobs, log *slog.Logger) autocert.Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &storeCache{b: b, log: log}
}

func (c *storeCache) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, storeCacheTimeout)
	defer cancel()
	data, err := c.b.GetBlob(ctx, storeCachePrefix+key)
	if errors.Is(err, store.ErrBlobNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		c.log.Warn("ACME cache: reading the store failed", "entry", key, "err", err)
		return nil, err
	}
	return data, nil
}

func (c *storeCache) Put(ctx context.Context, key string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, storeCacheTimeout)
	defer cancel()
	if err := c.b.PutBlob(ctx, storeCachePrefix+key, data); err != nil {
		c.log.Warn("ACME cache: writing the store failed; other relays will not see this entry", "entry", key, "err", err)
		return err
	}
	return nil
}

func (c *storeCache) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, storeCacheTimeout)
	defer cancel()
	if err := c.b.DeleteBlob(ctx, storeCachePrefix+key); err != nil {
		c.log.Warn("ACME cache: deleting from the store failed", "entry", key, "err", err)
		return err
	}
	return nil
}
