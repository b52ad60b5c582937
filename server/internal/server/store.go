package server

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/pgstore"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// openStore opens the configured usage store, and the request-log store
// when it is a different one (store.log_driver).
func openStore(cfg config.Config) (store.Store, error) {
	counters, err := openDriver(cfg.Store.Driver, cfg.Store.URL, cfg)
	if err != nil {
		return nil, fmt.Errorf("store.driver %s: %w", cfg.Store.Driver, err)
	}
	if cfg.Store.LogDriver == "" {
		return counters, nil
	}
	logs, err := openDriver(cfg.Store.LogDriver, cfg.Store.LogURL, cfg)
	if err != nil {
		counters.Close()
		return nil, fmt.Errorf("store.log_driver %s: %w", cfg.Store.LogDriver, err)
	}
	return store.WithLog(counters, logs), nil
}

func openDriver(driver, url string, cfg config.Config) (store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	timeout, pool := cfg.Store.Timeout.D(), cfg.Store.PoolSize
	switch driver {
	case "sqlite":
		if url == "" {
			url = filepath.Join(cfg.DataDir, "relayapi.db")
		}
		return sqlitestore.Open(url)
	case "redis":
		return redisstore.Open(ctx, redisstore.Options{URL: url, PoolSize: pool, Timeout: timeout})
	case "postgres":
		return pgstore.Open(ctx, pgstore.Options{URL: url, PoolSize: pool, Timeout: timeout})
	}
	return nil, fmt.Errorf("unknown driver %q", driver)
}
