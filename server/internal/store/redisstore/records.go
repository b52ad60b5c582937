package redisstore

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

const (
	// maxPageScan bounds the entries one filtered page reads: a filter
	// that matches nothing must not read the whole stream in one request.
	// The page then ends short, with a cursor to read on from.
	maxPageScan = 10_000
	// readBatch is the entries one XREVRANGE reads once a page is
	// filtering (the first read asks for just one page).
	readBatch = 500
	// logSkew is how far a relay's clock (a record's Time) may run ahead
	// of Redis's (the entry id, assigned when the record arrives, after
	// its request ended): a read with a lower time bound stops at entries
	// that arrived that much before it.
	logSkew = 5 * time.Minute
)

// streamID is the form of a Redis stream entry id, the Requests cursor.
var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// Requests reads ra:log, or the token's own stream, newest first, keeping
// the entries f matches. Entry ids are assigned by Redis on arrival, so
// "newest" is arrival order. A page reads at most maxPageScan entries;
// short of a full page it ends with the cursor of the last entry read.
func (s *Store) Requests(ctx context.Context, f store.RecordFilter) ([]store.Record, string, error) {
	limit := store.PageSize(f.Limit)
	start, err := store.DecodeCursor(f.Cursor)
	switch {
	case err != nil:
		return nil, "", err
	case start == "":
		start = "+"
	case !streamID.MatchString(start):
		return nil, "", store.ErrBadCursor
	default:
		start = "(" + start
	}
	key := logKey
	if f.TokenID != "" {
		key = keysOf(f.TokenID).log
	}
	p := pager{f: f, limit: limit}
	err = s.walk(ctx, key, start, floorID(f.Since), limit+1, maxPageScan, p.visit)
	if err != nil {
		return nil, "", unavailable("read log", err)
	}
	return p.page, p.next, nil
}

// pager fills one page of Requests from the entries walk visits.
type pager struct {
	f     store.RecordFilter
	limit int
	page  []store.Record
	last  string // id of the last entry the page accounts for
	next  string
}

// visit takes one entry; false stops the walk. id is "" when the walk
// ended: at the end of the stream (next stays ""), or at its bound
// (next is the last entry read, so the next page reads on from there).
func (p *pager) visit(id string, r store.Record, bounded bool) bool {
	if id == "" {
		if bounded {
			p.next = store.EncodeCursor(p.last)
		}
		return false
	}
	if !p.f.Match(r) {
		p.last = id // a short page continues after what it examined
		return true
	}
	if len(p.page) == p.limit {
		p.next = store.EncodeCursor(p.last)
		return false
	}
	p.page, p.last = append(p.page, r), id
	return true
}

// ScanRecords reads ra:log newest first (in arrival order) down to the
// entries that arrived before since (less logSkew), keeping the records
// of the range.
func (s *Store) ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(store.Record) error) (bool, error) {
	if limit <= 0 {
		return false, nil
	}
	in := store.RecordFilter{Since: since, Until: until}
	var n int
	var truncated bool
	var fnErr error
	err := s.walk(ctx, logKey, "+", floorID(since), readBatch, 0, func(id string, r store.Record, _ bool) bool {
		if id == "" || !in.Match(r) {
			return id != ""
		}
		if n == limit {
			truncated = true
			return false
		}
		n++
		fnErr = fn(r)
		return fnErr == nil
	})
	if fnErr != nil {
		return false, fnErr
	}
	return truncated, unavailable("scan log", err)
}

// floorID is the lowest entry id a read with lower time bound since
// must visit ("-": every entry).
func floorID(since time.Time) string {
	floor := since.Add(-logSkew)
	if since.IsZero() || floor.UnixMilli() <= 0 {
		return "-"
	}
	return strconv.FormatInt(floor.UnixMilli(), 10)
}

// walk reads key from start down to floor, newest first, first batch
// entries then readBatch at a time, calling visit for each until it
// returns false. At the end of the stream, or after bound entries (bound
// > 0), it calls visit once more with id "" (bounded true for the latter).
func (s *Store) walk(ctx context.Context, key, start, floor string, batch, bound int,
	visit func(id string, r store.Record, bounded bool) bool) error {
	read := 0
	for {
		n := batch
		if bound > 0 {
			n = min(n, bound-read)
		}
		msgs, err := s.rdb.XRevRangeN(ctx, key, start, floor, int64(n)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for _, m := range msgs {
			if !visit(m.ID, decodeEntry(m), false) {
				return nil
			}
		}
		read += len(msgs)
		switch {
		case len(msgs) < n:
			visit("", store.Record{}, false)
			return nil
		case bound > 0 && read >= bound:
			visit("", store.Record{}, true)
			return nil
		}
		start, batch = "("+msgs[len(msgs)-1].ID, readBatch
	}
}
