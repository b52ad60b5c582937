package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// scrape returns the handler's text exposition.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape status %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func mustContain(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
}

func TestRequestsAreCountedByProviderModelStatusAndCode(t *testing.T) {
	m := New()
	m.ObserveRequest("openai", "gpt-4o", "", 200, 300*time.Millisecond, 40*time.Millisecond)
	m.ObserveRequest("openai", "gpt-4o", "", 200, time.Second, 0)
	m.ObserveRequest("openai", "gpt-4o", "rate_limited", 429, time.Millisecond, time.Millisecond)
	mustContain(t, scrape(t, m),
		`relayapi_requests_total{code="none",model="gpt-4o",provider="openai",status="200"} 2`,
		`relayapi_requests_total{code="rate_limited",model="gpt-4o",provider="openai",status="429"} 1`,
		`relayapi_request_duration_seconds_count{provider="openai"} 3`,
		`relayapi_request_duration_seconds_bucket{provider="openai",le="0.5"} 2`,
		`relayapi_request_duration_seconds_bucket{provider="openai",le="300"} 3`,
	)
}

func TestTimeToFirstByteIsSkippedWhenNoByteWasSent(t *testing.T) {
	m := New()
	m.ObserveRequest("openai", "gpt-4o", "", 200, time.Second, 40*time.Millisecond)
	m.ObserveRequest("openai", "gpt-4o", "upstream_unreachable", 502, time.Second, 0)
	mustContain(t, scrape(t, m),
		`relayapi_time_to_first_byte_seconds_count{provider="openai"} 1`,
		`relayapi_time_to_first_byte_seconds_bucket{provider="openai",le="0.05"} 1`,
	)
}

func TestUpstreamErrorsAreCountedByKind(t *testing.T) {
	m := New()
	m.UpstreamError("anthropic", "status_5xx")
	m.UpstreamError("anthropic", "status_5xx")
	m.UpstreamError("anthropic", "connect")
	mustContain(t, scrape(t, m),
		`relayapi_upstream_errors_total{kind="status_5xx",provider="anthropic"} 2`,
		`relayapi_upstream_errors_total{kind="connect",provider="anthropic"} 1`,
	)
}

func TestTokensAreCountedByKindAndEstimation(t *testing.T) {
	m := New()
	m.Tokens("openai", "gpt-4o", 10, 5, false)
	m.Tokens("openai", "gpt-4o", 7, 3, true)
	m.Tokens("openai", "gpt-4o", -4, 0, false) // nonsense is ignored, not a panic
	mustContain(t, scrape(t, m),
		`relayapi_tokens_total{estimated="false",kind="prompt",model="gpt-4o",provider="openai"} 10`,
		`relayapi_tokens_total{estimated="false",kind="completion",model="gpt-4o",provider="openai"} 5`,
		`relayapi_tokens_total{estimated="true",kind="prompt",model="gpt-4o",provider="openai"} 7`,
		`relayapi_tokens_total{estimated="true",kind="completion",model="gpt-4o",provider="openai"} 3`,
	)
}

func TestActiveStreamsFollowStartAndEnd(t *testing.T) {
	m := New()
	m.StreamStarted()
	m.StreamStarted()
	m.StreamEnded()
	mustContain(t, scrape(t, m), `relayapi_active_streams 1`)
	if n := m.ActiveStreams(); n != 1 {
		t.Fatalf("ActiveStreams %d, the gauge says 1", n)
	}
}

func TestStoreLatencyIsSplitByResult(t *testing.T) {
	m := New()
	m.StoreLatency("reserve", 2*time.Millisecond, nil)
	m.StoreLatency("reserve", 2*time.Millisecond, errors.New("database is locked"))
	mustContain(t, scrape(t, m),
		`relayapi_store_duration_seconds_count{op="reserve",result="ok"} 1`,
		`relayapi_store_duration_seconds_count{op="reserve",result="error"} 1`,
	)
}

func TestHandlerIncludesRuntimeAndProcessMetrics(t *testing.T) {
	body := scrape(t, New())
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
}

func TestInstancesDoNotShareSeries(t *testing.T) {
	a, b := New(), New()
	a.UpstreamError("openai", "timeout")
	if strings.Contains(scrape(t, b), "relayapi_upstream_errors_total{") {
		t.Fatal("a series recorded on one instance shows up on another")
	}
}

func TestNilMetricsRecordsNothingAndDoesNotPanic(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("p", "m", "", 200, time.Second, time.Second)
	m.UpstreamError("p", "connect")
	m.Tokens("p", "m", 1, 1, false)
	m.StreamStarted()
	m.StreamEnded()
	m.StoreLatency("op", time.Second, nil)
	if n := m.ActiveStreams(); n != 0 {
		t.Fatalf("nil ActiveStreams %d", n)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Fatalf("nil handler status %d, want 404", rec.Code)
	}
}
