// Package metrics exposes the relay's Prometheus metrics. Each Metrics owns
// a private registry, so tests and several relays in one process never
// collide and nothing depends on the global default registry.
//
// Every label value that can come from outside (model names from request
// bodies, provider names and error codes) is sanitized and bounded: an
// attacker who sends a million distinct model names must not be able to
// create a million time series.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics records relay activity. A nil *Metrics is valid and records
// nothing, so callers with metrics turned off need no guards.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	labels  labelSets

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	ttfb           *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	tokens         *prometheus.CounterVec
	activeStreams  prometheus.Gauge
	store          *prometheus.HistogramVec
	// streams mirrors activeStreams for ActiveStreams: a Prometheus gauge
	// can be read back only through its protobuf form.
	streams atomic.Int64
}

// New returns a Metrics with its own registry, including the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), labels: newLabelSets()}
	m.requests = counter(m.reg, "relayapi_requests_total",
		"Requests answered, by provider, model, HTTP status and relay error code.",
		"provider", "model", "status", "code")
	m.duration = histogram(m.reg, "relayapi_request_duration_seconds",
		"Time from receiving a request to sending its last byte.", requestBuckets, "provider")
	m.ttfb = histogram(m.reg, "relayapi_time_to_first_byte_seconds",
		"Time from receiving a request to sending the first response byte.", requestBuckets, "provider")
	m.upstreamErrors = counter(m.reg, "relayapi_upstream_errors_total",
		"Failed upstream attempts, by provider and kind (connect, timeout, status_5xx, status_429, ...).",
		"provider", "kind")
	m.tokens = counter(m.reg, "relayapi_tokens_total",
		"Tokens accounted, by provider, model, kind (prompt|completion) and whether they were estimated.",
		"provider", "model", "kind", "estimated")
	m.activeStreams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "relayapi_active_streams", Help: "Streaming responses in flight."})
	m.store = histogram(m.reg, "relayapi_store_duration_seconds",
		"Usage store operation latency, by operation and result (ok|error).", storeBuckets, "op", "result")
	m.reg.MustRegister(m.activeStreams,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Gauge registers a gauge read from value at every scrape.
func (m *Metrics) Gauge(name, help string, value func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value))
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

func counter(reg *prometheus.Registry, name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	reg.MustRegister(c)
	return c
}

func histogram(reg *prometheus.Registry, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	reg.MustRegister(h)
	return h
}
