// Package mock is the cheapest possible OpenAI chat/completions provider.
// It is the ceiling baseline of the relay benchmarks, so every response
// byte is rendered once at start-up: a request costs little more than
// net/http itself (no JSON encoding, no logging, no per-request state).
package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Per-request overrides of Config.Chunks and Config.Delay, read only when
// present so the default path parses nothing.
const (
	HeaderChunks  = "X-Bench-Chunks"
	HeaderDelayMs = "X-Bench-Delay-Ms"
)

const (
	maxBodyBytes   = 8 << 20 // requests are discarded; the cap only guards memory
	maxPooledBytes = 1 << 20 // larger buffers are dropped, not kept alive by the pool
	maxChunks      = 100_000
	maxDelayMs     = 3_600_000
	promptTokens   = 12
	model          = "gpt-4o-mini"
	completionID   = "chatcmpl-bench0000000000000000000000"
	fingerprint    = "fp_bench"
)

// Config shapes the answers.
type Config struct {
	Chunks int           // content chunks per streamed answer
	Delay  time.Duration // pause between two streamed content chunks
	Size   int           // approximate bytes of a non-streamed JSON answer
}

// Handler serves the mock provider. Build it with New.
type Handler struct {
	cfg Config

	jsonBody []byte
	// Header values are shared, pre-built slices: net/http only reads them,
	// and building them per request would be the dominant allocation.
	jsonLen  []string
	jsonType []string
	sseType  []string
	noCache  []string

	// events[role][stop] is one content chunk event: role marks the first
	// chunk (it carries "role":"assistant"), stop the last (finish_reason).
	events [2][2][]byte
	tail   []byte // usage chunk and [DONE] for cfg.Chunks chunks
	base   chunk  // template for tails of overridden chunk counts

	notFound []byte
	bufs     sync.Pool // *bytes.Buffer holding request bodies
}

// New pre-renders every answer for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Chunks < 0 || cfg.Chunks > maxChunks {
		return nil, fmt.Errorf("chunks %d out of range [0, %d]", cfg.Chunks, maxChunks)
	}
	if cfg.Delay < 0 {
		return nil, fmt.Errorf("negative delay %s", cfg.Delay)
	}
	if cfg.Size < 0 {
		return nil, fmt.Errorf("negative size %d", cfg.Size)
	}
	created := time.Now().Unix()
	h := &Handler{
		cfg:      cfg,
		jsonType: []string{"application/json"},
		sseType:  []string{"text/event-stream"},
		noCache:  []string{"no-cache"},
		base: chunk{
			ID: completionID, Object: "chat.completion.chunk", Created: created,
			Model: model, SystemFingerprint: fingerprint,
		},
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	var err error
	if h.jsonBody, err = renderCompletion(created, cfg.Size); err != nil {
		return nil, err
	}
	h.jsonLen = []string{strconv.Itoa(len(h.jsonBody))}
	for role := range 2 {
		for stop := range 2 {
			if h.events[role][stop], err = h.renderEvent(role == 1, stop == 1); err != nil {
				return nil, err
			}
		}
	}
	if h.tail, err = h.renderTail(cfg.Chunks); err != nil {
		return nil, err
	}
	h.notFound = []byte(`{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}` + "\n")
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		h.chat(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/healthz":
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = w.Write([]byte("ok"))
	default:
		h.fail(w, http.StatusNotFound, h.notFound)
	}
}

func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	stream, err := h.wantsStream(w, r)
	if err != nil {
		h.fail(w, http.StatusBadRequest, errorBody("read request body: "+err.Error()))
		return
	}
	n, delay, err := h.overrides(r.Header)
	if err != nil {
		h.fail(w, http.StatusBadRequest, errorBody(err.Error()))
		return
	}
	if !stream {
		hdr := w.Header()
		hdr["Content-Type"] = h.jsonType
		hdr["Content-Length"] = h.jsonLen
		_, _ = w.Write(h.jsonBody)
		return
	}
	h.stream(w, r, n, delay)
}

// wantsStream reads the whole body, as a provider must before answering,
// and looks for "stream":true without decoding the JSON.
func (h *Handler) wantsStream(w http.ResponseWriter, r *http.Request) (bool, error) {
	buf := h.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBytes {
			buf.Reset()
			h.bufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil {
		return false, err
	}
	b := buf.Bytes()
	return bytes.Contains(b, []byte(`"stream":true`)) || bytes.Contains(b, []byte(`"stream": true`)), nil
}

func (h *Handler) overrides(hdr http.Header) (int, time.Duration, error) {
	n, delay := h.cfg.Chunks, h.cfg.Delay
	if v := hdr.Get(HeaderChunks); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 0 || c > maxChunks {
			return 0, 0, fmt.Errorf("%s must be an integer in [0, %d]", HeaderChunks, maxChunks)
		}
		n = c
	}
	if v := hdr.Get(HeaderDelayMs); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 || ms > maxDelayMs {
			return 0, 0, fmt.Errorf("%s must be an integer in [0, %d]", HeaderDelayMs, maxDelayMs)
		}
		delay = time.Duration(ms) * time.Millisecond
	}
	return n, delay, nil
}

// stream writes n content chunks, flushing each so the client (or the relay
// under test) sees them one by one, then the usage chunk and [DONE].
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, n int, delay time.Duration) {
	f, ok := w.(http.Flusher)
	if !ok {
		h.fail(w, http.StatusInternalServerError, errorBody("response writer cannot flush"))
		return
	}
	tail := h.tail
	if n != h.cfg.Chunks {
		var err error
		// One small Marshal per overridden stream: negligible next to the
		// chunk delays that make overrides worth using.
		if tail, err = h.renderTail(n); err != nil {
			h.fail(w, http.StatusInternalServerError, errorBody(err.Error()))
			return
		}
	}
	hdr := w.Header()
	hdr["Content-Type"] = h.sseType
	hdr["Cache-Control"] = h.noCache
	w.WriteHeader(http.StatusOK)

	done := r.Context().Done()
	var t *time.Timer
	for i := range n {
		if i > 0 && delay > 0 {
			if t == nil {
				t = time.NewTimer(delay)
				defer t.Stop()
			} else {
				t.Reset(delay)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
		if _, err := w.Write(h.events[b2i(i == 0)][b2i(i == n-1)]); err != nil {
			return
		}
		f.Flush()
	}
	if _, err := w.Write(tail); err != nil {
		return
	}
	f.Flush()
}

func (h *Handler) fail(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = h.jsonType
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "code": nil,
	}})
	return append(b, '\n')
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
