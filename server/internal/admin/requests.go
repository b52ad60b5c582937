package admin

import (
	"net/http"
	"time"

	relayapi "github.com/relayapi/relayapi/sdk/go"
	"github.com/relayapi/relayapi/server/internal/store"
)

// RequestRecord is one request-log line as JSON (schema RequestRecord in
// docs/openapi.yaml), the type the Go SDK reads it into: never bodies,
// keys or tokens.
type RequestRecord = relayapi.RequestRecord

// NewRequestRecord converts a store record.
func NewRequestRecord(r store.Record) RequestRecord {
	return RequestRecord{
		Time:             r.Time.UTC(),
		RequestID:        r.RequestID,
		TokenID:          r.TokenID,
		Subject:          r.Subject,
		Provider:         r.Provider,
		Model:            r.Model,
		Path:             r.Path,
		Status:           r.Status,
		LatencyMS:        millis(r.Latency),
		TTFBMS:           millis(r.TTFB),
		PromptTokens:     r.PromptTokens,
		CompletionTokens: r.CompletionTokens,
		Estimated:        r.Estimated,
		UsageSource:      nonEmpty(r.UsageSource),
		BytesIn:          r.BytesIn,
		BytesOut:         r.BytesOut,
		ErrorCode:        nonEmpty(r.ErrorCode),
	}
}

func (c call) listRequests() {
	p, ok := c.page()
	if !ok {
		return
	}
	f := store.RecordFilter{TokenID: c.r.URL.Query().Get("jti"), Limit: p.limit, Cursor: p.cursor}
	rows, next, err := c.h.store.Requests(c.r.Context(), f)
	if err != nil {
		c.pageFailed("requests", err)
		return
	}
	data := make([]RequestRecord, 0, len(rows))
	for _, r := range rows {
		data = append(data, NewRequestRecord(r))
	}
	writeJSON(c.w, http.StatusOK, Page[RequestRecord]{Data: data, NextCursor: nonEmpty(next)})
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
