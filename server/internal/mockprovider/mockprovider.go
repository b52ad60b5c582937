// Package mockprovider is a fake AI provider that speaks the real OpenAI and
// Anthropic wire formats (JSON and SSE). It is the only fake in RelayAPI's
// tests: Go tests mount it with httptest, the e2e suite runs it as the
// `mockprovider` binary (server/cmd/mockprovider).
//
// Endpoints:
//
//	POST /v1/chat/completions   chat.completion / chat.completion.chunk SSE
//	POST /v1/embeddings         embedding list (float or base64 encoding)
//	POST /v1/images/generations {created, data:[{url|b64_json}]}
//	GET  /v1/models[/{id}]      model list / model
//	POST /v1/messages           Anthropic message / Anthropic SSE events
//	GET  /_mock/stats           counters (requests, by_path, by_key, by_status…)
//	GET  /_mock/requests        the last N recorded requests (?path=, ?key=, ?limit=)
//	POST /_mock/reset           clear counters and recorded requests
//
// Completions are deterministic: the text is "Hello from mock: " followed by
// the last user message (first 512 runes), split into word tokens (see
// [CompletionTokens]); prompt tokens are the rune count of every message
// content (and the Anthropic system prompt) divided by 4, minimum 1 (see
// [PromptTokens]). completion_tokens equals the number of tokens emitted, one
// per stream chunk.
//
// Test controls, as request headers (a relay forwards unknown headers):
//
//	x-mock-status: 500          answer that status (400–599) with a provider-shaped error body
//	x-mock-delay-ms: 200        wait before sending the response headers
//	x-mock-chunk-delay-ms: 50   wait before each streamed content chunk
//	x-mock-chunks: 10           number of completion tokens / content chunks
//	x-mock-disconnect-after: 3  streaming: abort the connection after 3 content chunks
//
// Fault controls for reliability tests (x-mock-retry-after, x-mock-fail-first,
// x-mock-stall-after, x-mock-stream-forever, x-mock-huge-bytes) are described
// in faults.go.
//
// /_mock/* requests are neither counted nor recorded.
package mockprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Options].
const (
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxRecorded  = 1000
	// Bounds of the control headers and counters.
	maxChunks      = 10000
	maxDelay       = 60 * time.Second
	maxCounterKeys = 10000
	maxRecordBody  = 4096
)

// Options configure a [Provider]. The zero value is usable.
type Options struct {
	// Chunks is the default number of completion tokens (= content chunks
	// when streaming). 0 means the natural length of the completion text.
	Chunks int
	// ChunkDelay is the default pause before each streamed content chunk.
	ChunkDelay time.Duration
	// MaxBodyBytes bounds request bodies (413 above). Default 10 MiB.
	MaxBodyBytes int64
	// MaxRecorded bounds the requests kept for /_mock/requests. Default 1000.
	MaxRecorded int
	// Now returns the current time (tests may fix it). Default time.Now.
	Now func() time.Time
}

// Request is what the provider recorded about one request.
type Request struct {
	Seq        int64       `json:"seq"`
	Time       time.Time   `json:"time"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Query      string      `json:"query"`
	Host       string      `json:"host"`
	RemoteAddr string      `json:"remote_addr"`
	Headers    http.Header `json:"headers"`
	// Key is the credential the request carried (Authorization Bearer,
	// x-api-key, api-key or x-goog-api-key), "" if none.
	Key       string `json:"key"`
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	MaxTokens *int   `json:"max_tokens,omitempty"`
	BodyBytes int    `json:"body_bytes"`
	// Body holds the first 4 KiB of the request body.
	Body string `json:"body"`
	// Status is the status the mock answered (0 while still in flight).
	Status int `json:"status"`
}

// Stats are the provider's counters.
type Stats struct {
	Requests int64            `json:"requests"`
	ByPath   map[string]int64 `json:"by_path"`
	ByKey    map[string]int64 `json:"by_key"`
	ByStatus map[string]int64 `json:"by_status"`
	ByModel  map[string]int64 `json:"by_model"`
	// InFlight counts requests being answered now.
	InFlight int64 `json:"in_flight"`
	// Streams counts streamed responses that ran to completion, Canceled
	// those the client abandoned before the end (context canceled or a
	// write failed), Disconnected those cut by x-mock-disconnect-after.
	Streams      int64 `json:"streams_completed"`
	Canceled     int64 `json:"canceled"`
	Disconnected int64 `json:"disconnected"`
}

// Provider is the mock provider; it implements http.Handler and is safe for
// concurrent use.
type Provider struct {
	opts Options

	seq      atomic.Int64
	inFlight atomic.Int64
	idSeq    atomic.Int64

	mu      sync.Mutex
	stats   Stats
	records []*Request // ring buffer of at most opts.MaxRecorded
	next    int        // ring write position once full
	faults  faultState // x-mock-fail-first counters
}

// New returns a Provider with opts (zero fields take their defaults).
func New(opts Options) *Provider {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxRecorded <= 0 {
		opts.MaxRecorded = DefaultMaxRecorded
	}
	if opts.Chunks < 0 {
		opts.Chunks = 0
	}
	if opts.Chunks > maxChunks {
		opts.Chunks = maxChunks
	}
	if opts.ChunkDelay < 0 {
		opts.ChunkDelay = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Provider{opts: opts}
	p.resetLocked()
	return p
}

// Stats returns a snapshot of the counters.
func (p *Provider) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.ByPath = copyMap(p.stats.ByPath)
	s.ByKey = copyMap(p.stats.ByKey)
	s.ByStatus = copyMap(p.stats.ByStatus)
	s.ByModel = copyMap(p.stats.ByModel)
	s.InFlight = p.inFlight.Load()
	return s
}

// Requests returns the recorded requests, oldest first.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, 0, len(p.records))
	n := len(p.records)
	for i := 0; i < n; i++ {
		r := p.records[(p.next+i)%n]
		c := *r
		c.Headers = r.Headers.Clone()
		out = append(out, c)
	}
	return out
}

// Reset clears the counters and the recorded requests.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
}

func (p *Provider) resetLocked() {
	p.stats = Stats{
		ByPath:   map[string]int64{},
		ByKey:    map[string]int64{},
		ByStatus: map[string]int64{},
		ByModel:  map[string]int64{},
	}
	p.records = nil
	p.next = 0
	p.faults.reset()
}

func copyMap(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// bump increments m[k], folding new keys into "_other" once m is full.
func bump(m map[string]int64, k string) {
	if _, ok := m[k]; !ok && len(m) >= maxCounterKeys {
		k = "_other"
	}
	m[k]++
}

// ServeHTTP implements http.Handler.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_mock/") {
		p.serveControl(w, r)
		return
	}
	p.inFlight.Add(1)
	defer p.inFlight.Add(-1)

	body, tooLarge, readErr := readBody(w, r, p.opts.MaxBodyBytes)
	rec := p.record(r, body)
	sw := &statusWriter{ResponseWriter: w}
	defer func() { p.finish(rec, sw.status()) }()

	c := &call{p: p, w: sw, r: r, body: body, rec: rec}
	api := apiOpenAI
	if r.URL.Path == "/v1/messages" {
		api = apiAnthropic
	}
	switch {
	case tooLarge:
		c.fail(api, http.StatusRequestEntityTooLarge, "request body too large")
		return
	case readErr != nil:
		c.fail(api, http.StatusBadRequest, "could not read request body")
		return
	}
	if err := c.applyControls(api); err != nil {
		return
	}
	switch r.URL.Path {
	case "/v1/chat/completions":
		c.onlyMethod(api, http.MethodPost, c.chatCompletions)
	case "/v1/embeddings":
		c.onlyMethod(api, http.MethodPost, c.embeddings)
	case "/v1/images/generations":
		c.onlyMethod(api, http.MethodPost, c.images)
	case "/v1/models":
		c.onlyMethod(api, http.MethodGet, c.models)
	case "/v1/messages":
		c.onlyMethod(api, http.MethodPost, c.messages)
	default:
		if id, ok := strings.CutPrefix(r.URL.Path, "/v1/models/"); ok && id != "" && r.Method == http.MethodGet {
			c.model(id)
			return
		}
		c.writeError(api, http.StatusNotFound, "invalid_request_error", "",
			fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
	}
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.Body == nil {
		return nil, false, nil
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, err
	}
	return body, false, err
}

// requestKey extracts the credential a request carries.
func requestKey(h http.Header) string {
	if a := h.Get("Authorization"); a != "" {
		if k, ok := strings.CutPrefix(a, "Bearer "); ok {
			return k
		}
		return a
	}
	for _, name := range []string{"X-Api-Key", "Api-Key", "X-Goog-Api-Key"} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

func (p *Provider) record(r *http.Request, body []byte) *Request {
	var meta struct {
		Model               string `json:"model"`
		Stream              bool   `json:"stream"`
		MaxTokens           *int   `json:"max_tokens"`
		MaxCompletionTokens *int   `json:"max_completion_tokens"`
	}
	_ = json.Unmarshal(body, &meta)
	if meta.MaxTokens == nil {
		meta.MaxTokens = meta.MaxCompletionTokens
	}
	rb := body
	if len(rb) > maxRecordBody {
		rb = rb[:maxRecordBody]
	}
	rec := &Request{
		Seq:        p.seq.Add(1),
		Time:       p.opts.Now().UTC(),
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.RawQuery,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		Headers:    r.Header.Clone(),
		Key:        requestKey(r.Header),
		Model:      meta.Model,
		Stream:     meta.Stream,
		MaxTokens:  meta.MaxTokens,
		BodyBytes:  len(body),
		Body:       string(rb),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	bump(p.stats.ByPath, rec.Path)
	if rec.Key != "" {
		bump(p.stats.ByKey, rec.Key)
	}
	if rec.Model != "" {
		bump(p.stats.ByModel, rec.Model)
	}
	if len(p.records) < p.opts.MaxRecorded {
		p.records = append(p.records, rec)
	} else {
		p.records[p.next] = rec
		p.next = (p.next + 1) % len(p.records)
	}
	return rec
}

func (p *Provider) finish(rec *Request, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec.Status = status
	bump(p.stats.ByStatus, strconv.Itoa(status))
}

func (p *Provider) count(f func(s *Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

// serveControl answers /_mock/*.
func (p *Provider) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_mock/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, p.Stats(), false)
	case r.URL.Path == "/_mock/reset" && r.Method == http.MethodPost:
		p.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true}, false)
	case r.URL.Path == "/_mock/requests" && r.Method == http.MethodGet:
		q := r.URL.Query()
		all := p.Requests()
		out := make([]Request, 0, len(all))
		for _, rq := range all {
			if v := q.Get("path"); v != "" && rq.Path != v {
				continue
			}
			if v := q.Get("key"); v != "" && rq.Key != v {
				continue
			}
			out = append(out, rq)
		}
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 0 && n < len(out) {
			out = out[len(out)-n:]
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out}, false)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": "unknown mock control " + r.Method + " " + r.URL.Path,
			"type":    "invalid_request_error", "param": nil, "code": nil,
		}}, false)
	}
}

// statusWriter remembers the status written and forwards Flush/Unwrap.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

func writeJSON(w http.ResponseWriter, status int, v any, indent bool) {
	var b []byte
	if indent {
		b, _ = json.MarshalIndent(v, "", "  ")
	} else {
		b, _ = json.Marshal(v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
