package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/relayapi/relayapi/server/internal/reqlog"
	"github.com/relayapi/relayapi/server/internal/store"
)

// recorder notes the status, size and time to first byte of a response.
type recorder struct {
	http.ResponseWriter
	start       time.Time
	status      int
	bytes       int64
	wroteHeader bool
	firstByte   time.Duration

	// idle > 0 keeps a write deadline idle ahead of every write and flush
	// (Options.WriteIdle); rc reaches the connection.
	idle time.Duration
	rc   *http.ResponseController
}

// extendDeadline gives the next write idle to complete. Writers that
// cannot take a deadline (tests' recorders) are left alone.
func (r *recorder) extendDeadline() {
	if r.rc != nil {
		_ = r.rc.SetWriteDeadline(time.Now().Add(r.idle))
	}
}

func (r *recorder) WriteHeader(code int) {
	r.extendDeadline()
	// Informational answers (103 Early Hints passed through by the proxy)
	// precede the real status.
	if !r.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.wroteHeader = true
		r.status = code
		r.firstByte = time.Since(r.start)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	} else {
		r.extendDeadline()
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush keeps streaming working through the recorder.
func (r *recorder) Flush() {
	r.extendDeadline()
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logAccess records a request: its access log line (when the logger
// writes info lines), its metrics and its request log record.
func (a *api) logAccess(rec *recorder, r *http.Request, f *reqlog.Fields) {
	latency := time.Since(f.Start)
	if a.o.Logger.Enabled(r.Context(), slog.LevelInfo) {
		a.accessLine(rec, r, f, latency)
	}
	if f.Provider != "" {
		a.o.Metrics.ObserveRequest(f.Provider, f.Model, f.Code, rec.status, latency, rec.firstByte)
	}
	if f.TokenID != "" && a.o.RequestLog != nil {
		a.o.RequestLog.Add(store.Record{
			Time: f.Start, RequestID: f.RequestID, TokenID: f.TokenID, Subject: f.Subject,
			Provider: f.Provider, Model: f.Model, Path: f.Path, Status: rec.status,
			Latency: latency, TTFB: rec.firstByte, PromptTokens: f.PromptTokens,
			CompletionTokens: f.CompletionTokens, Estimated: f.Estimated, UsageSource: f.UsageSource,
			BytesIn: f.BytesIn, BytesOut: rec.bytes, ErrorCode: f.Code,
		})
	}
}

// accessLine writes one structured line per request. The path is redacted
// (/t/***/...) and the query is never logged: both can carry the token.
// The attributes are gathered in one allocation (growing the slice as
// they were added was a tenth of the relay's allocation at saturation).
func (a *api) accessLine(rec *recorder, r *http.Request, f *reqlog.Fields, latency time.Duration) {
	attrs := make([]slog.Attr, 0, 19)
	attrs = append(attrs,
		slog.String("request_id", f.RequestID),
		slog.String("method", r.Method),
		slog.String("path", RedactPath(r.URL.EscapedPath())),
		slog.Int("status", rec.status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
		slog.Float64("ttfb_ms", float64(rec.firstByte.Microseconds())/1000),
	)
	for _, kv := range [...][2]string{
		{"jti", f.TokenID}, {"sub", f.Subject}, {"provider", f.Provider}, {"model", f.Model},
		{"code", f.Code}, {"token_in", f.Location},
	} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	if f.Upstream != 0 {
		attrs = append(attrs, slog.Int("upstream_status", f.Upstream))
	}
	if f.PromptTokens+f.CompletionTokens > 0 {
		attrs = append(attrs, slog.Int64("prompt_tokens", f.PromptTokens), slog.Int64("completion_tokens", f.CompletionTokens))
		if f.Estimated {
			attrs = append(attrs, slog.Bool("estimated", true))
		}
	}
	if f.UsageSource != "" {
		attrs = append(attrs, slog.String("usage_source", f.UsageSource))
	}
	if len(f.Meta) > 0 {
		attrs = append(attrs, slog.Any("meta", f.Meta))
	}
	a.o.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// RedactPath hides a path token: /t/{token}/v1/x → /t/***/v1/x.
func RedactPath(p string) string {
	i := strings.Index(p, "/t/")
	if i < 0 {
		return p
	}
	rest := p[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return p[:i] + "/t/***" + rest[j:]
	}
	return p[:i] + "/t/***"
}
