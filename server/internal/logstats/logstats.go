// Package logstats folds request-log records into the time-bucketed
// aggregates of GET /admin/stats: requests, errors by code, tokens,
// latency and time-to-first-byte percentiles per bucket and over the
// range, and the tokens and subjects that called or spent the most. It is
// the same code whatever store the records come from, so every backend
// answers the same numbers for the same log.
package logstats

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Bounds of a Range: a chart has at most MaxBuckets points, and a range
// is at most a week (the log is pruned long before most weeks end).
const (
	MinBucket  = 10 * time.Second
	MaxBucket  = 24 * time.Hour
	MaxBuckets = 1440
	MaxRange   = 7 * 24 * time.Hour
	// TopN is the length of each top list.
	TopN = 10
)

// Range is the time range, since inclusive and until exclusive, cut into
// buckets of Bucket from Since on (the last one may end past Until).
type Range struct {
	Since, Until time.Time
	Bucket       time.Duration
}

// Errors of Range.Check, worded for the operator.
var (
	ErrEmptyRange  = errors.New("since must be before until")
	ErrLongRange   = errors.New("the range may span at most 7 days")
	ErrBucketSize  = fmt.Errorf("bucket must be %d to %d seconds", int(MinBucket.Seconds()), int(MaxBucket.Seconds()))
	ErrManyBuckets = fmt.Errorf("the range holds more than %d buckets: choose a larger bucket or a shorter range", MaxBuckets)
)

// Check reports why r cannot be aggregated, or nil.
func (r Range) Check() error {
	switch {
	case !r.Since.Before(r.Until):
		return ErrEmptyRange
	case r.Until.Sub(r.Since) > MaxRange:
		return ErrLongRange
	case r.Bucket < MinBucket || r.Bucket > MaxBucket:
		return ErrBucketSize
	case r.buckets() > MaxBuckets:
		return ErrManyBuckets
	}
	return nil
}

// buckets is how many buckets cover the range (the last may be partial).
func (r Range) buckets() int {
	d := r.Until.Sub(r.Since)
	return int((d + r.Bucket - 1) / r.Bucket)
}

// Scanner reads the log of a range, newest first (store.Store does).
type Scanner interface {
	ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(store.Record) error) (bool, error)
}

// Compute aggregates the log of r read from s, at most limit records.
func Compute(ctx context.Context, s Scanner, r Range, limit int) (Stats, error) {
	if err := r.Check(); err != nil {
		return Stats{}, err
	}
	a := New(r)
	truncated, err := s.ScanRecords(ctx, r.Since, r.Until, limit, func(rec store.Record) error {
		a.Add(rec)
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("scan the request log: %w", err)
	}
	return a.Stats(truncated), nil
}

// Stats is the answer of GET /admin/stats but active_streams (schema
// Stats in docs/openapi.yaml).
type Stats struct {
	Since         time.Time         `json:"since"`
	Until         time.Time         `json:"until"`
	BucketSeconds int64             `json:"bucket_seconds"`
	Buckets       []Bucket          `json:"buckets"`
	Totals        Summary           `json:"totals"`
	TopTokens     Top[TokenCount]   `json:"top_tokens"`
	TopSubjects   Top[SubjectCount] `json:"top_subjects"`
	Scanned       int64             `json:"scanned"`
	Truncated     bool              `json:"truncated"`
}

// Bucket is the Summary of the records from Start to the next bucket.
type Bucket struct {
	Start time.Time `json:"start"`
	Summary
}

// Summary aggregates some records. Errors are the records with a status
// of 400 or more; ByCode counts the records with an error code (a relay
// refusal or an upstream failure), whatever their status.
type Summary struct {
	Requests         int64            `json:"requests"`
	Errors           int64            `json:"errors"`
	ByCode           map[string]int64 `json:"by_code"`
	PromptTokens     int64            `json:"prompt_tokens"`
	CompletionTokens int64            `json:"completion_tokens"`
	LatencyMS        Percentiles      `json:"latency_ms"`
	TTFBMS           Percentiles      `json:"ttfb_ms"`
}

// Percentiles are nearest-rank percentiles in milliseconds, nil (JSON
// null) over no values.
type Percentiles struct {
	P50 *float64 `json:"p50"`
	P90 *float64 `json:"p90"`
	P99 *float64 `json:"p99"`
}

// Top is a top list both ways, at most TopN entries each.
type Top[T any] struct {
	ByCalls  []T `json:"by_calls"`
	ByTokens []T `json:"by_tokens"`
}

// TokenCount is one token's calls and tokens (prompt + completion) over
// the range; Sub is the subject of its newest record.
type TokenCount struct {
	JTI    string `json:"jti"`
	Sub    string `json:"sub"`
	Calls  int64  `json:"calls"`
	Tokens int64  `json:"tokens"`
}

// SubjectCount is one subject's calls and tokens over the range.
type SubjectCount struct {
	Sub    string `json:"sub"`
	Calls  int64  `json:"calls"`
	Tokens int64  `json:"tokens"`
}

// millis is d in milliseconds, to the microsecond (as the request log
// reports it).
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentiles sorts values and picks the nearest-rank p50, p90 and p99:
// the smallest value with at least p% of the values at or below it.
func percentiles(values []float64) Percentiles {
	if len(values) == 0 {
		return Percentiles{}
	}
	slices.Sort(values)
	at := func(p float64) *float64 {
		rank := int(math.Ceil(p / 100 * float64(len(values))))
		v := values[max(rank, 1)-1]
		return &v
	}
	return Percentiles{P50: at(50), P90: at(90), P99: at(99)}
}
