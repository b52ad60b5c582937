package metrics

import (
	"strconv"
	"time"
)

// ObserveRequest records one answered request. code is the relay error
// code (empty when the relay did not refuse: refusals are requests too, so
// there is no separate refusal counter). ttfb <= 0 means no byte was sent
// and is not observed.
func (m *Metrics) ObserveRequest(provider, model, code string, status int, latency, ttfb time.Duration) {
	if m == nil {
		return
	}
	p := m.labels.providers.value(provider)
	m.requests.WithLabelValues(p, m.labels.models.value(model), statusLabel(status), m.labels.codes.value(code)).Inc()
	m.duration.WithLabelValues(p).Observe(latency.Seconds())
	if ttfb > 0 {
		m.ttfb.WithLabelValues(p).Observe(ttfb.Seconds())
	}
}

// UpstreamError counts one failed upstream attempt; kind is one of
// connect, timeout, status_5xx, status_429 or similar.
func (m *Metrics) UpstreamError(provider, kind string) {
	if m == nil {
		return
	}
	m.upstreamErrors.WithLabelValues(m.labels.providers.value(provider), m.labels.kinds.value(kind)).Inc()
}

// Tokens counts prompt and completion tokens of one request; estimated
// marks counts the relay guessed (client left before the provider's usage).
func (m *Metrics) Tokens(provider, model string, prompt, completion int64, estimated bool) {
	if m == nil {
		return
	}
	p, mo, est := m.labels.providers.value(provider), m.labels.models.value(model), strconv.FormatBool(estimated)
	// Counters panic on negative adds; a provider reporting nonsense must
	// not take the relay down.
	if prompt > 0 {
		m.tokens.WithLabelValues(p, mo, "prompt", est).Add(float64(prompt))
	}
	if completion > 0 {
		m.tokens.WithLabelValues(p, mo, "completion", est).Add(float64(completion))
	}
}

// StreamStarted and StreamEnded bracket one streamed response.
func (m *Metrics) StreamStarted() {
	if m != nil {
		m.streams.Add(1)
		m.activeStreams.Inc()
	}
}

// StreamEnded must be called once for every StreamStarted.
func (m *Metrics) StreamEnded() {
	if m != nil {
		m.streams.Add(-1)
		m.activeStreams.Dec()
	}
}

// ActiveStreams is the relayapi_active_streams gauge now: this relay's
// streamed responses in flight (0 with metrics off).
func (m *Metrics) ActiveStreams() int64 {
	if m == nil {
		return 0
	}
	return m.streams.Load()
}

// StoreLatency records one usage store operation.
func (m *Metrics) StoreLatency(op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.store.WithLabelValues(m.labels.ops.value(op), result).Observe(d.Seconds())
}

// statusLabel keeps the exact code: 3-digit codes are bounded already.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return labelOther
	}
	return strconv.Itoa(status)
}
