package logstats

import (
	"cmp"
	"slices"
	"time"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Aggregator folds records into Stats. It keeps every latency of the
// range to take exact percentiles: the scan is bounded (store.MaxScan),
// so that is a few megabytes at most.
type Aggregator struct {
	r        Range
	buckets  []acc
	tokens   map[string]*TokenCount
	subjects map[string]*SubjectCount
	scanned  int64
}

// acc accumulates one bucket.
type acc struct {
	s       Summary
	latency []float64
	ttfb    []float64
}

// New returns an empty Aggregator over r, which must pass r.Check.
func New(r Range) *Aggregator {
	return &Aggregator{
		r: r, buckets: make([]acc, r.buckets()),
		tokens: map[string]*TokenCount{}, subjects: map[string]*SubjectCount{},
	}
}

// Add counts one record; one outside the range is scanned but not counted.
func (a *Aggregator) Add(rec store.Record) {
	a.scanned++
	if rec.Time.Before(a.r.Since) || !rec.Time.Before(a.r.Until) {
		return
	}
	b := &a.buckets[int(rec.Time.Sub(a.r.Since)/a.r.Bucket)]
	b.add(rec)
	used := rec.PromptTokens + rec.CompletionTokens
	if rec.TokenID != "" {
		t := a.tokens[rec.TokenID]
		if t == nil {
			// The scan runs newest first: the first record seen names
			// the token's current subject.
			t = &TokenCount{JTI: rec.TokenID, Sub: rec.Subject}
			a.tokens[rec.TokenID] = t
		}
		t.Calls, t.Tokens = t.Calls+1, t.Tokens+used
	}
	if rec.Subject != "" {
		s := a.subjects[rec.Subject]
		if s == nil {
			s = &SubjectCount{Sub: rec.Subject}
			a.subjects[rec.Subject] = s
		}
		s.Calls, s.Tokens = s.Calls+1, s.Tokens+used
	}
}

func (b *acc) add(rec store.Record) {
	s := &b.s
	s.Requests++
	if rec.Status >= 400 {
		s.Errors++
	}
	if rec.ErrorCode != "" {
		if s.ByCode == nil {
			s.ByCode = map[string]int64{}
		}
		s.ByCode[rec.ErrorCode]++
	}
	s.PromptTokens += rec.PromptTokens
	s.CompletionTokens += rec.CompletionTokens
	b.latency = append(b.latency, millis(rec.Latency))
	// No first byte (a refusal before any was sent) is no TTFB, as in the
	// relayapi_time_to_first_byte_seconds histogram.
	if rec.TTFB > 0 {
		b.ttfb = append(b.ttfb, millis(rec.TTFB))
	}
}

// Stats is the aggregate of what was added; truncated is the scan's.
func (a *Aggregator) Stats(truncated bool) Stats {
	out := Stats{
		Since: a.r.Since.UTC(), Until: a.r.Until.UTC(), BucketSeconds: int64(a.r.Bucket / time.Second),
		Buckets: make([]Bucket, len(a.buckets)), Scanned: a.scanned, Truncated: truncated,
	}
	var total acc
	for i := range a.buckets {
		b := &a.buckets[i]
		total.merge(b)
		out.Buckets[i] = Bucket{Start: a.r.Since.Add(time.Duration(i) * a.r.Bucket).UTC(), Summary: b.summary()}
	}
	out.Totals = total.summary()
	out.TopTokens = top(a.tokens, func(t *TokenCount) (int64, int64, string) { return t.Calls, t.Tokens, t.JTI })
	out.TopSubjects = top(a.subjects, func(s *SubjectCount) (int64, int64, string) { return s.Calls, s.Tokens, s.Sub })
	return out
}

// merge adds b's counts and values into t.
func (t *acc) merge(b *acc) {
	t.s.Requests += b.s.Requests
	t.s.Errors += b.s.Errors
	t.s.PromptTokens += b.s.PromptTokens
	t.s.CompletionTokens += b.s.CompletionTokens
	for code, n := range b.s.ByCode {
		if t.s.ByCode == nil {
			t.s.ByCode = map[string]int64{}
		}
		t.s.ByCode[code] += n
	}
	t.latency = append(t.latency, b.latency...)
	t.ttfb = append(t.ttfb, b.ttfb...)
}

// summary is the bucket's Summary with its percentiles; by_code is {}
// rather than null when no record had a code.
func (b *acc) summary() Summary {
	s := b.s
	if s.ByCode == nil {
		s.ByCode = map[string]int64{}
	}
	s.LatencyMS, s.TTFBMS = percentiles(b.latency), percentiles(b.ttfb)
	return s
}

// top ranks counts by calls and by tokens, each time breaking ties by
// the other count and then by key, so equal counts list in a stable order.
func top[T any](counts map[string]*T, key func(*T) (calls, tokens int64, name string)) Top[T] {
	all := make([]*T, 0, len(counts))
	for _, c := range counts {
		all = append(all, c)
	}
	rank := func(first func(calls, tokens int64) (int64, int64)) []T {
		slices.SortFunc(all, func(x, y *T) int {
			xc, xt, xn := key(x)
			yc, yt, yn := key(y)
			x1, x2 := first(xc, xt)
			y1, y2 := first(yc, yt)
			return cmp.Or(cmp.Compare(y1, x1), cmp.Compare(y2, x2), cmp.Compare(xn, yn))
		})
		out := make([]T, 0, min(len(all), TopN))
		for _, c := range all[:min(len(all), TopN)] {
			out = append(out, *c)
		}
		return out
	}
	return Top[T]{
		ByCalls:  rank(func(calls, tokens int64) (int64, int64) { return calls, tokens }),
		ByTokens: rank(func(calls, tokens int64) (int64, int64) { return tokens, calls }),
	}
}
