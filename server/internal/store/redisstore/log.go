package redisstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/relayapi/relayapi/server/internal/store"
)

// logEntry is a Record as stored in a stream entry's one field "r".
type logEntry struct {
	Time        int64  `json:"t"`
	RequestID   string `json:"id,omitempty"`
	TokenID     string `json:"jti,omitempty"`
	Subject     string `json:"sub,omitempty"`
	Provider    string `json:"p,omitempty"`
	Model       string `json:"m,omitempty"`
	Path        string `json:"path,omitempty"`
	Status      int    `json:"st,omitempty"`
	LatencyUS   int64  `json:"lat,omitempty"`
	TTFBUS      int64  `json:"ttfb,omitempty"`
	Prompt      int64  `json:"pt,omitempty"`
	Complete    int64  `json:"ct,omitempty"`
	Estimated   bool   `json:"est,omitempty"`
	UsageSource string `json:"us,omitempty"`
	BytesIn     int64  `json:"bi,omitempty"`
	BytesOut    int64  `json:"bo,omitempty"`
	ErrorCode   string `json:"err,omitempty"`
}

func entryOf(r store.Record) logEntry {
	return logEntry{
		Time: r.Time.UnixMilli(), RequestID: r.RequestID, TokenID: r.TokenID, Subject: r.Subject,
		Provider: r.Provider, Model: r.Model, Path: r.Path, Status: r.Status,
		LatencyUS: r.Latency.Microseconds(), TTFBUS: r.TTFB.Microseconds(),
		Prompt: r.PromptTokens, Complete: r.CompletionTokens, Estimated: r.Estimated, UsageSource: r.UsageSource,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, ErrorCode: r.ErrorCode,
	}
}

func (e logEntry) record() store.Record {
	return store.Record{
		Time: time.UnixMilli(e.Time), RequestID: e.RequestID, TokenID: e.TokenID, Subject: e.Subject,
		Provider: e.Provider, Model: e.Model, Path: e.Path, Status: e.Status,
		Latency: time.Duration(e.LatencyUS) * time.Microsecond, TTFB: time.Duration(e.TTFBUS) * time.Microsecond,
		PromptTokens: e.Prompt, CompletionTokens: e.Complete, Estimated: e.Estimated, UsageSource: e.UsageSource,
		BytesIn: e.BytesIn, BytesOut: e.BytesOut, ErrorCode: e.ErrorCode,
	}
}

// Log appends each record to ra:log and to its token's own stream, in one
// pipeline. The two streams are in different slots, so the appends are
// not atomic together: a failure midway may leave a record in one only.
func (s *Store) Log(ctx context.Context, records []store.Record) error {
	if len(records) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range records {
			b, err := json.Marshal(entryOf(r))
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: logKey, MaxLen: logMaxLen, Approx: true, Values: []any{"r", b}})
			if r.TokenID != "" {
				logToken(ctx, p, r, b)
			}
		}
		return nil
	})
	return unavailable("log", err)
}

func logToken(ctx context.Context, p redis.Pipeliner, r store.Record, b []byte) {
	k := keysOf(r.TokenID).log
	p.XAdd(ctx, &redis.XAddArgs{Stream: k, MaxLen: tokenLogMaxLen, Approx: true, Values: []any{"r", b}})
	p.PExpire(ctx, k, tokenLogTTL)
	// ra:logged lets Prune find token streams without SCAN.
	p.ZAddGT(ctx, loggedKey, redis.Z{Score: float64(r.Time.UnixMilli()), Member: r.TokenID})
}

// decodeEntry tolerates a malformed entry (written by hand or a future
// version) as an empty record rather than failing the whole page.
func decodeEntry(m redis.XMessage) store.Record {
	var e logEntry
	if v, ok := m.Values["r"].(string); ok {
		_ = json.Unmarshal([]byte(v), &e)
	}
	return e.record()
}
