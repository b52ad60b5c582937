package store

import (
	"context"
	"errors"
	"time"
)

// WithLog returns a store whose request log lives in logs while every
// counter stays in counters: e.g. Redis for the hot path and PostgreSQL
// for the durable log. Closing it closes both.
func WithLog(counters, logs Store) Store {
	return &split{Store: counters, logs: logs}
}

type split struct {
	Store
	logs Store
}

func (s *split) Log(ctx context.Context, records []Record) error {
	return s.logs.Log(ctx, records)
}

func (s *split) Requests(ctx context.Context, f RecordFilter) ([]Record, string, error) {
	return s.logs.Requests(ctx, f)
}

func (s *split) ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(Record) error) (bool, error) {
	return s.logs.ScanRecords(ctx, since, until, limit, fn)
}

func (s *split) Prune(ctx context.Context, before time.Time) error {
	return errors.Join(s.Store.Prune(ctx, before), s.logs.Prune(ctx, before))
}

func (s *split) Ping(ctx context.Context) error {
	return errors.Join(s.Store.Ping(ctx), s.logs.Ping(ctx))
}

func (s *split) Close() error {
	return errors.Join(s.Store.Close(), s.logs.Close())
}
