package mockprovider

import (
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Fault controls, as request headers, for reliability tests (they add to
// the controls in the package documentation and change nothing without
// them):
//
//	x-mock-retry-after: 2       the Retry-After (seconds) sent with x-mock-status (default: "1" on a 429, none otherwise)
//	x-mock-fail-first: 1        with x-mock-status and x-mock-fault-id: only the first N requests carrying that id
//	                            get the status; later ones are answered normally (a fault that heals, for retries)
//	x-mock-fault-id: abc        the group x-mock-fail-first counts in (any string up to 128 bytes)
//	x-mock-stall-after: 3       streaming: after 3 content chunks send nothing more, keeping the connection open
//	                            until the client leaves
//	x-mock-stream-forever: 1    streaming: content chunks never end (paced by x-mock-chunk-delay-ms) until the client leaves
//	x-mock-huge-bytes: N        chat completions: answer with N bytes of content ("xxx…"), as one JSON body with a
//	                            Content-Length or as SSE chunks of 16 KiB, written from a fixed buffer so the mock
//	                            itself stays small; usage (if any) comes last, as OpenAI sends it
const (
	maxHugeBytes   = 1 << 30
	maxRetryAfter  = 3600
	maxFaultIDLen  = 128
	hugeChunkBytes = 16 << 10
)

// faults are the fault controls of one call.
type faults struct {
	retryAfter string
	failFirst  int
	faultID    string
	stallAt    int
	stallSet   bool
	forever    bool
	hugeBytes  int
}

// faultState counts requests per x-mock-fault-id for x-mock-fail-first.
type faultState struct {
	mu   sync.Mutex
	seen map[string]int
}

// next counts one more request of id and returns its 1-based number.
func (f *faultState) next(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	if _, ok := f.seen[id]; !ok && len(f.seen) >= maxCounterKeys {
		id = "_other"
	}
	f.seen[id]++
	return f.seen[id]
}

func (f *faultState) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = nil
}

// faultControls reads the fault headers; a malformed one is answered 400
// (and errHandled returned), like the other controls.
func (c *call) faultControls(api apiFlavor) error {
	h := c.r.Header
	bad := func(name, v string, lo, hi int) error {
		c.fail(api, http.StatusBadRequest, fmt.Sprintf("invalid %s header %q (want an integer %d–%d)", name, v, lo, hi))
		return errHandled
	}
	intHeader := func(name string, lo, hi int, dst *int) (bool, error) {
		v := h.Get(name)
		if v == "" {
			return false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return false, bad(name, v, lo, hi)
		}
		*dst = n
		return true, nil
	}
	var retryAfter int
	if ok, err := intHeader("X-Mock-Retry-After", 0, maxRetryAfter, &retryAfter); err != nil {
		return err
	} else if ok {
		c.retryAfter = strconv.Itoa(retryAfter)
	}
	if _, err := intHeader("X-Mock-Fail-First", 1, maxChunks, &c.failFirst); err != nil {
		return err
	}
	c.faultID = h.Get("X-Mock-Fault-Id")
	if len(c.faultID) > maxFaultIDLen || (c.failFirst > 0 && c.faultID == "") {
		c.fail(api, http.StatusBadRequest, "x-mock-fail-first needs an x-mock-fault-id of at most 128 bytes")
		return errHandled
	}
	ok, err := intHeader("X-Mock-Stall-After", 0, maxChunks, &c.stallAt)
	if err != nil {
		return err
	}
	c.stallSet = ok
	var forever int
	if _, err := intHeader("X-Mock-Stream-Forever", 0, 1, &forever); err != nil {
		return err
	}
	c.forever = forever == 1
	if _, err := intHeader("X-Mock-Huge-Bytes", 1, maxHugeBytes, &c.hugeBytes); err != nil {
		return err
	}
	return nil
}

// statusApplies reports whether x-mock-status answers this request: always,
// unless x-mock-fail-first limits it to the first N of its fault id.
func (c *call) statusApplies() bool {
	if c.failFirst == 0 {
		return true
	}
	return c.p.faults.next(c.faultID) <= c.failFirst
}

// contentTokens yields the content chunks of a stream: tokens, or with
// x-mock-stream-forever, tokens over and over until the caller stops.
func (c *call) contentTokens(tokens []string) iter.Seq2[int, string] {
	if !c.forever || len(tokens) == 0 {
		return slices.All(tokens)
	}
	return func(yield func(int, string) bool) {
		for i := 0; ; i++ {
			if !yield(i, tokens[i%len(tokens)]) {
				return
			}
		}
	}
}

// stall holds a started stream silent until the client leaves.
func (s *sse) stall() {
	<-s.c.r.Context().Done()
	s.err = s.c.r.Context().Err()
}

// hugeChat answers a chat completion with c.hugeBytes bytes of content.
func (c *call) hugeChat(base chatBase, stream, includeUsage bool, prompt int) {
	completion := (c.hugeBytes + 3) / 4
	u := newUsage(prompt, completion)
	if !stream {
		base.Object = "chat.completion"
		str := func(v string) string { b, _ := json.Marshal(v); return string(b) }
		head := fmt.Sprintf(`{"id":%s,"object":%s,"created":%d,"model":%s,"choices":[{"index":0,"message":{"role":"assistant","content":"`,
			str(base.ID), str(base.Object), base.Created, str(base.Model))
		tail := fmt.Sprintf(`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n",
			u.PromptTokens, u.CompletionTokens, u.TotalTokens)
		h := c.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(head)+c.hugeBytes+len(tail)))
		c.w.WriteHeader(http.StatusOK)
		if _, err := c.w.Write([]byte(head)); err != nil {
			return
		}
		fill := []byte(strings.Repeat("x", hugeChunkBytes))
		for left := c.hugeBytes; left > 0; left -= len(fill) {
			if _, err := c.w.Write(fill[:min(left, len(fill))]); err != nil {
				c.p.count(func(s *Stats) { s.Canceled++ })
				return
			}
		}
		_, _ = c.w.Write([]byte(tail))
		return
	}
	base.Object = "chat.completion.chunk"
	s := c.startSSE()
	defer s.done()
	frame := func(content string) []byte {
		b, _ := chatChunk{chatBase: base, Choices: []chatChoice{{Delta: map[string]any{"content": content}}}, withUsage: includeUsage}.MarshalJSON()
		return []byte("data: " + string(b) + "\n\n")
	}
	full := frame(strings.Repeat("x", hugeChunkBytes))
	for left := c.hugeBytes; left > 0; left -= hugeChunkBytes {
		ev := full
		if left < hugeChunkBytes {
			ev = frame(strings.Repeat("x", left))
		}
		if s.err == nil {
			if err := c.r.Context().Err(); err != nil {
				s.err = err
			} else if _, err := c.w.Write(ev); err != nil {
				s.err = err
			}
		}
		if s.err != nil {
			return
		}
		s.flush()
	}
	if !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{{Delta: map[string]any{}, FinishReason: "stop"}}, withUsage: includeUsage}) {
		return
	}
	if includeUsage && !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{}, Usage: &u, withUsage: true}) {
		return
	}
	s.event("", "[DONE]")
}
