package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/relayapi/relayapi/server/internal/apierror"
	"github.com/relayapi/relayapi/server/internal/logstats"
	"github.com/relayapi/relayapi/server/internal/store"
)

// Defaults of GET /admin/stats: the last hour by the minute.
const (
	DefaultStatsRange  = time.Hour
	DefaultStatsBucket = time.Minute
)

// Stats is the answer of GET /admin/stats (schema Stats in
// docs/openapi.yaml): the log's aggregates, and the streams in flight.
type Stats struct {
	logstats.Stats
	ActiveStreams int64 `json:"active_streams"`
}

var errBadBucket = apierror.New("bad_request",
	"bucket must be a whole number of seconds from 10 to 86400.")

func (c call) stats() {
	r, bad := c.statsRange()
	if bad != nil {
		c.fail(bad)
		return
	}
	st, err := logstats.Compute(c.r.Context(), c.h.store, r, store.MaxScan)
	if err != nil {
		c.storeFailed("stats", err)
		return
	}
	writeJSON(c.w, http.StatusOK, Stats{Stats: st, ActiveStreams: c.h.streams()})
}

// statsRange reads since, until and bucket, with their defaults, and
// checks the range they make.
func (c call) statsRange() (logstats.Range, *apierror.Error) {
	q := c.r.URL.Query()
	r := logstats.Range{Bucket: DefaultStatsBucket}
	var err error
	if r.Until, err = optionalTime(q.Get("until")); err != nil {
		return r, errBadTime
	}
	if r.Until.IsZero() {
		r.Until = c.h.now()
	}
	if r.Since, err = optionalTime(q.Get("since")); err != nil {
		return r, errBadTime
	}
	if r.Since.IsZero() {
		r.Since = r.Until.Add(-DefaultStatsRange)
	}
	if s := q.Get("bucket"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return r, errBadBucket
		}
		r.Bucket = time.Duration(n) * time.Second
	}
	if err := r.Check(); err != nil {
		if errors.Is(err, logstats.ErrBucketSize) {
			return r, errBadBucket
		}
		return r, apierror.New("bad_request", err.Error()+".")
	}
	return r, nil
}
