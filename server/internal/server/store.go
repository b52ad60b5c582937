package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/metrics"
	"github.com/relayapi/relayapi/server/internal/store"
	"github.com/relayapi/relayapi/server/internal/store/pgstore"
	"github.com/relayapi/relayapi/server/internal/store/redisstore"
	"github.com/relayapi/relayapi/server/internal/store/sqlitestore"
)

// openStore opens the configured usage store, and the request-log store
// when it is a different one (store.log_driver).
func openStore(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (store.Store, error) {
	counters, err := openDriver(cfg.Store.Driver, cfg.Store.URL, cfg, log, m)
	if err != nil {
		return nil, fmt.Errorf("store.driver %s: %w", cfg.Store.Driver, err)
	}
	if cfg.Store.LogDriver == "" {
		return counters, nil
	}
	logs, err := openDriver(cfg.Store.LogDriver, cfg.Store.LogURL, cfg, log, m)
	if err != nil {
		counters.Close()
		return nil, fmt.Errorf("store.log_driver %s: %w", cfg.Store.LogDriver, err)
	}
	return store.WithLog(counters, logs), nil
}

func openDriver(driver, url string, cfg config.Config, log *slog.Logger, m *metrics.Metrics) (store.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	timeout, pool := cfg.Store.Timeout.D(), cfg.Store.PoolSize
	switch driver {
	case "sqlite":
		if url == "" {
			url = filepath.Join(cfg.DataDir, "relayapi.db")
		}
		st, err := sqlitestore.OpenOptions(url, sqlitestore.Options{
			Logger: log,
			// The pause a forced WAL checkpoint causes the writer, as a
			// store operation of its own.
			OnCheckpoint: func(c sqlitestore.Checkpoint) { m.StoreLatency("checkpoint", c.Pause, c.Err) },
		})
		if err == nil {
			m.Gauge("relayapi_sqlite_wal_bytes", "SQLite WAL in use, in bytes (bounded by the store's ceiling).",
				func() float64 { return float64(st.Stats().WALBytes) })
		}
		return st, err
	case "redis":
		return redisstore.Open(ctx, redisstore.Options{URL: url, PoolSize: pool, Timeout: timeout})
	case "postgres":
		return pgstore.Open(ctx, pgstore.Options{URL: url, PoolSize: pool, Timeout: timeout})
	}
	return nil, fmt.Errorf("unknown driver %q", driver)
}
