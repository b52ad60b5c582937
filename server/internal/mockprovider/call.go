package mockprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

type apiFlavor int

const (
	apiOpenAI apiFlavor = iota
	apiAnthropic
	apiGemini
)

// call is one request being answered.
type call struct {
	p    *Provider
	w    *statusWriter
	r    *http.Request
	body []byte
	rec  *Request
	// model is the model the path picked (Gemini, Azure deployment); for
	// Azure it overrides any model in the body.
	model string

	chunks        int           // completion tokens wanted (0: natural)
	chunkDelay    time.Duration // before each streamed content chunk
	disconnectAt  int           // abort the stream after this many content chunks (0: never)
	disconnectSet bool
	requestID     string
	faults        // x-mock-* fault controls (faults.go)
}

var errHandled = errors.New("response already written")

// applyControls reads the x-mock-* headers. It answers the request itself
// (and returns errHandled) for x-mock-status or a malformed control.
func (c *call) applyControls(api apiFlavor) error {
	h := c.r.Header
	c.chunks = c.p.opts.Chunks
	c.chunkDelay = c.p.opts.ChunkDelay
	c.requestID = fmt.Sprintf("req_mock_%d", c.rec.Seq)
	c.w.Header().Set("X-Request-Id", c.requestID)
	if api == apiAnthropic {
		c.w.Header().Set("Request-Id", c.requestID)
	}

	intHeader := func(name string, lo, hi int) (int, bool, error) {
		v := h.Get(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			c.fail(api, http.StatusBadRequest, fmt.Sprintf("invalid %s header %q (want an integer %d–%d)", name, v, lo, hi))
			return 0, false, errHandled
		}
		return n, true, nil
	}
	maxMS := int(maxDelay / time.Millisecond)
	delayMS, _, err := intHeader("X-Mock-Delay-Ms", 0, maxMS)
	if err != nil {
		return err
	}
	if n, ok, err := intHeader("X-Mock-Chunk-Delay-Ms", 0, maxMS); err != nil {
		return err
	} else if ok {
		c.chunkDelay = time.Duration(n) * time.Millisecond
	}
	if n, ok, err := intHeader("X-Mock-Chunks", 1, maxChunks); err != nil {
		return err
	} else if ok {
		c.chunks = n
	}
	if n, ok, err := intHeader("X-Mock-Disconnect-After", 0, maxChunks); err != nil {
		return err
	} else if ok {
		c.disconnectAt, c.disconnectSet = n, true
	}
	status, statusSet, err := intHeader("X-Mock-Status", 400, 599)
	if err != nil {
		return err
	}
	if err := c.faultControls(api); err != nil {
		return err
	}

	if delayMS > 0 && !sleepCtx(c.r, time.Duration(delayMS)*time.Millisecond) {
		c.p.count(func(s *Stats) { s.Canceled++ })
		return errHandled
	}
	if statusSet && c.statusApplies() {
		c.fail(api, status, fmt.Sprintf("mock upstream error (x-mock-status %d)", status))
		return errHandled
	}
	return nil
}

// sleepCtx waits d; false if the request was canceled first.
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fail answers status with the error type a real provider uses for it.
func (c *call) fail(api apiFlavor, status int, msg string) {
	typ, code := errorType(api, status)
	switch {
	case c.retryAfter != "":
		c.w.Header().Set("Retry-After", c.retryAfter)
	case status == http.StatusTooManyRequests:
		c.w.Header().Set("Retry-After", "1")
	}
	c.writeError(api, status, typ, code, msg)
}

func errorType(api apiFlavor, status int) (typ, code string) {
	if api == apiGemini {
		return googleStatus(status), ""
	}
	if api == apiAnthropic {
		switch status {
		case 400:
			return "invalid_request_error", ""
		case 401:
			return "authentication_error", ""
		case 403:
			return "permission_error", ""
		case 404:
			return "not_found_error", ""
		case 413:
			return "request_too_large", ""
		case 429:
			return "rate_limit_error", ""
		case 529:
			return "overloaded_error", ""
		}
		if status >= 500 {
			return "api_error", ""
		}
		return "invalid_request_error", ""
	}
	switch status {
	case 401:
		return "invalid_request_error", "invalid_api_key"
	case 403:
		return "invalid_request_error", "unsupported_country_region_territory"
	case 404:
		return "invalid_request_error", "model_not_found"
	case 429:
		return "requests", "rate_limit_exceeded"
	}
	if status >= 500 {
		return "server_error", ""
	}
	return "invalid_request_error", ""
}

// writeError writes an error body in the provider's own shape.
func (c *call) writeError(api apiFlavor, status int, typ, code, msg string) {
	if api == apiGemini {
		c.geminiError(status, msg)
		return
	}
	if api == apiAnthropic {
		writeJSON(c.w, status, map[string]any{
			"type":       "error",
			"error":      map[string]any{"type": typ, "message": msg},
			"request_id": c.requestID,
		}, false)
		return
	}
	c.openAIError(status, typ, "", code, msg)
}

// openAIError writes OpenAI's error shape; an empty param or code is null
// (https://platform.openai.com/docs/guides/error-codes).
func (c *call) openAIError(status int, typ, param, code, msg string) {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	writeJSON(c.w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": orNull(param), "code": orNull(code),
	}}, true)
}

// decode parses the JSON body into v, answering 400 on failure.
func (c *call) decode(api apiFlavor, v any) bool {
	if len(c.body) == 0 {
		c.fail(api, http.StatusBadRequest, "We could not parse the JSON body of your request. (empty body)")
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(api, http.StatusBadRequest, "We could not parse the JSON body of your request. ("+err.Error()+")")
		return false
	}
	return true
}

func (c *call) newID(prefix string) string {
	return fmt.Sprintf("%s%d%06d", prefix, c.p.opts.Now().Unix(), c.p.idSeq.Add(1)%1000000)
}

// sse writes SSE frames, flushing each one.
type sse struct {
	c   *call
	rc  *http.ResponseController
	err error
}

func (c *call) startSSE() *sse {
	return c.startStreamAs("text/event-stream; charset=utf-8")
}

// startStreamAs starts a streamed 200 answer of contentType.
func (c *call) startStreamAs(contentType string) *sse {
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	s := &sse{c: c, rc: http.NewResponseController(c.w)}
	s.flush()
	return s
}

func (s *sse) flush() {
	if s.err == nil {
		if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			s.err = err
		}
	}
}

// event writes one frame: "event: NAME\n" (when name != "") and "data: V\n\n".
func (s *sse) event(name string, v any) bool {
	var data []byte
	switch t := v.(type) {
	case string:
		data = []byte(t)
	default:
		data, _ = json.Marshal(v)
	}
	buf := make([]byte, 0, len(data)+len(name)+16)
	if name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, name...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	return s.raw(buf)
}

// raw writes b as it is and flushes it; false once the client is gone.
func (s *sse) raw(b []byte) bool {
	if s.err != nil {
		return false
	}
	if err := s.c.r.Context().Err(); err != nil {
		s.err = err
		return false
	}
	if _, err := s.c.w.Write(b); err != nil {
		s.err = err
		return false
	}
	s.flush()
	return s.err == nil
}

// beforeChunk runs before content chunk i (0-based): it waits the chunk
// delay and applies x-mock-disconnect-after. False means stop streaming.
func (s *sse) beforeChunk(i int) bool {
	if s.err != nil {
		return false
	}
	if s.c.disconnectSet && i >= s.c.disconnectAt {
		s.c.p.count(func(st *Stats) { st.Disconnected++ })
		// Abort the connection without a clean end of stream.
		panic(http.ErrAbortHandler)
	}
	if s.c.stallSet && i >= s.c.stallAt {
		s.stall()
		return false
	}
	if s.c.chunkDelay > 0 && !sleepCtx(s.c.r, s.c.chunkDelay) {
		s.err = s.c.r.Context().Err()
		return false
	}
	return true
}

// done counts the stream's outcome.
func (s *sse) done() {
	if s.err != nil {
		s.c.p.count(func(st *Stats) { st.Canceled++ })
		return
	}
	s.c.p.count(func(st *Stats) { st.Streams++ })
}
