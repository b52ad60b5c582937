package mockprovider

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
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
	// Deployments maps Azure OpenAI deployment names to the model each
	// serves. Empty: every deployment serves the model it is named after;
	// otherwise an unlisted deployment answers 404 DeploymentNotFound.
	Deployments map[string]string
	// RealtimeKeys are the API keys the Realtime endpoint accepts; any other
	// key is refused 401 invalid_api_key before the upgrade. Empty: any
	// non-empty key, as the mock's other OpenAI endpoints take any key.
	RealtimeKeys []string
	// RealtimeMaxSession ends a Realtime session after this long (the real
	// API's cap is 60 minutes, see realtime.go). Default 60 minutes.
	RealtimeMaxSession time.Duration
	// RealtimeMaxMessageBytes bounds one client WebSocket message (1009
	// above). Default 15 MiB, OpenAI's limit for an audio append.
	RealtimeMaxMessageBytes int64
	// RealtimePingInterval is how often a Realtime session pings its
	// client, as api.openai.com does. Default 20 s; negative: never.
	RealtimePingInterval time.Duration
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
	// x-api-key, api-key, x-goog-api-key or Gemini's ?key=), "" if none.
	Key    string `json:"key"`
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
	// MaxTokens is the first cap the body gave: max_tokens,
	// max_completion_tokens, max_output_tokens or maxOutputTokens.
	MaxTokens *int `json:"max_tokens,omitempty"`
	// Caps holds every cap parameter the body gave, by its name.
	Caps map[string]int `json:"caps,omitempty"`
	// N is the number of choices asked for (n or Gemini's candidateCount),
	// BestOf the legacy completions best_of; 0 when absent.
	N         int `json:"n,omitempty"`
	BestOf    int `json:"best_of,omitempty"`
	BodyBytes int `json:"body_bytes"`
	// Body holds the first 4 KiB of the request body.
	Body string `json:"body"`
	// Status is the status the mock answered (0 while still in flight).
	Status int `json:"status"`
	// What the mock produced (and a real provider would bill): prompt
	// tokens, and completion tokens including the hidden reasoning/thought
	// tokens (also given alone); for a stream the client cut short, the
	// completion tokens written before the mock noticed. See billing.go.
	ProducedPromptTokens     int `json:"produced_prompt_tokens"`
	ProducedCompletionTokens int `json:"produced_completion_tokens"`
	ProducedReasoningTokens  int `json:"produced_reasoning_tokens"`
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
	// Totals of the produced usage of every request (see [Request]).
	ProducedPromptTokens     int64 `json:"produced_prompt_tokens"`
	ProducedCompletionTokens int64 `json:"produced_completion_tokens"`
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
	store   store      // Responses API: stored responses and conversations

	sessions rtSessions // open Realtime sessions (realtime.go)
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
	opts.Deployments = maps.Clone(opts.Deployments)
	opts.RealtimeKeys = slices.Clone(opts.RealtimeKeys)
	if opts.RealtimeMaxSession <= 0 {
		opts.RealtimeMaxSession = DefaultRealtimeMaxSession
	}
	if opts.RealtimeMaxMessageBytes <= 0 {
		opts.RealtimeMaxMessageBytes = DefaultRealtimeMaxMessageBytes
	}
	if opts.RealtimePingInterval == 0 {
		opts.RealtimePingInterval = DefaultRealtimePingInterval
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
		c.Caps = maps.Clone(r.Caps)
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
	p.store.reset()
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

	rt := p.route(r)
	if rt.realtime {
		// A WebSocket upgrade: no body, no compression (realtime.go).
		p.serveRealtime(w, r, rt)
		return
	}
	body, tooLarge, readErr := readBody(w, r, p.opts.MaxBodyBytes)
	rec := p.record(r, body, rt)
	ew, closeEncoder := encode(w, r)
	sw := &statusWriter{ResponseWriter: ew}
	defer func() { p.finish(rec, sw.status()) }()

	c := &call{p: p, w: sw, r: r, body: body, rec: rec, model: rt.model}
	switch {
	case tooLarge:
		c.fail(rt.api, http.StatusRequestEntityTooLarge, "request body too large")
	case readErr != nil:
		c.fail(rt.api, http.StatusBadRequest, "could not read request body")
	case c.applyControls(rt.api) == nil:
		c.serve(rt)
	}
	// Not deferred: a stream aborted by a panic must not end cleanly.
	closeEncoder()
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

// requestKey extracts the credential a request carries: Authorization
// Bearer, x-api-key, api-key, x-goog-api-key, the Realtime browser
// subprotocol openai-insecure-api-key.KEY, or Gemini's ?key=.
func requestKey(r *http.Request) string {
	h := r.Header
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
	if k := subprotocolKey(r); k != "" {
		return k
	}
	return r.URL.Query().Get("key")
}

func (p *Provider) record(r *http.Request, body []byte, rt route) *Request {
	meta := parseMeta(body)
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
		Key:        requestKey(r),
		Model:      meta.Model,
		Stream:     meta.Stream || rt.stream,
		MaxTokens:  meta.maxTokens(),
		Caps:       meta.caps(),
		N:          meta.n(),
		BestOf:     deref(meta.BestOf),
		BodyBytes:  len(body),
		Body:       string(rb),
	}
	if rt.model != "" {
		rec.Model = rt.model
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
