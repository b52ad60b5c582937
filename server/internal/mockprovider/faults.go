package mockprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
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
//	                            Content-Length (none when gzip-compressed) or as SSE chunks of 16 KiB, written from
//	                            a fixed buffer so the mock itself stays small; usage (if any) comes last, as OpenAI
//	                            sends it, with completion_tokens = ceil(N/4)
//	x-mock-ignore-max-tokens: 1 produce the natural (or x-mock-chunks) length ignoring every cap (max_tokens,
//	                            max_completion_tokens, max_output_tokens, maxOutputTokens), like a non-compliant
//	                            OpenAI-compatible server; the parameter rules (limits, minimums) still apply
//	x-mock-omit-usage: 1        a 2xx answer without any usage: JSON without usage/usageMetadata, streams without
//	                            the usage chunk even when include_usage is asked, Anthropic message_start and
//	                            message_delta without usage, Responses API response.usage null
//	x-mock-chunk-tokens: K      each streamed content chunk carries K word tokens (default 1), like Anthropic's
//	                            multi-token text deltas
const (
	maxHugeBytes   = 1 << 30
	maxRetryAfter  = 3600
	maxFaultIDLen  = 128
	hugeChunkBytes = 16 << 10
)

// faults are the fault controls of one call.
type faults struct {
	retryAfter  string
	failFirst   int
	faultID     string
	stallAt     int
	stallSet    bool
	forever     bool
	hugeBytes   int
	ignoreCaps  bool
	omitUsage   bool
	chunkTokens int
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
	return c.relayFaults(intHeader)
}

// relayFaults reads the controls that make the mock misbehave the way a
// relay must survive: caps ignored, usage omitted, multi-token chunks.
func (c *call) relayFaults(intHeader func(string, int, int, *int) (bool, error)) error {
	var ignore, omit int
	if _, err := intHeader("X-Mock-Ignore-Max-Tokens", 0, 1, &ignore); err != nil {
		return err
	}
	if _, err := intHeader("X-Mock-Omit-Usage", 0, 1, &omit); err != nil {
		return err
	}
	c.ignoreCaps, c.omitUsage = ignore == 1, omit == 1
	c.chunkTokens = 1
	_, err := intHeader("X-Mock-Chunk-Tokens", 1, maxChunks, &c.chunkTokens)
	return err
}

// statusApplies reports whether x-mock-status answers this request: always,
// unless x-mock-fail-first limits it to the first N of its fault id.
func (c *call) statusApplies() bool {
	if c.failFirst == 0 {
		return true
	}
	return c.p.faults.next(c.faultID) <= c.failFirst
}

// stall holds a started stream silent until the client leaves.
func (s *sse) stall() {
	<-s.c.r.Context().Done()
	s.err = s.c.r.Context().Err()
}

// hugeChat answers a chat completion with c.hugeBytes bytes of content,
// billing ceil(bytes/4) completion tokens (for a stream: of the bytes
// written so far).
func (c *call) hugeChat(base chatBase, stream, includeUsage bool, prompt int) {
	completion := (c.hugeBytes + 3) / 4
	u := newUsage(prompt, completion, 0)
	if !stream {
		c.bill(prompt, completion, 0)
		c.hugeJSON(base, u)
		return
	}
	c.bill(prompt, 0, 0)
	base.Object = "chat.completion.chunk"
	s := c.startSSE()
	defer s.done()
	frame := func(content string) []byte {
		b, _ := chatChunk{chatBase: base, Choices: []chatChoice{{Delta: map[string]any{"content": content}}}, withUsage: includeUsage}.MarshalJSON()
		return []byte("data: " + string(b) + "\n\n")
	}
	full := frame(strings.Repeat("x", hugeChunkBytes))
	for written := 0; written < c.hugeBytes; written += hugeChunkBytes {
		ev := full
		if left := c.hugeBytes - written; left < hugeChunkBytes {
			ev = frame(strings.Repeat("x", left))
		}
		if !s.raw(ev) {
			return
		}
		c.bill(prompt, (min(written+hugeChunkBytes, c.hugeBytes)+3)/4, 0)
	}
	if !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{{Delta: map[string]any{}, FinishReason: "stop"}}, withUsage: includeUsage}) {
		return
	}
	if includeUsage && !c.omitUsage && !s.event("", chatChunk{chatBase: base, Choices: []chatChoice{}, Usage: &u, withUsage: true}) {
		return
	}
	s.event("", "[DONE]")
}

// hugeJSON writes the non-streamed huge answer from a fixed buffer.
func (c *call) hugeJSON(base chatBase, u usage) {
	base.Object = "chat.completion"
	str := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	head := fmt.Sprintf(`{"id":%s,"object":%s,"created":%d,"model":%s,"choices":[{"index":0,"message":{"role":"assistant","content":"`,
		str(base.ID), str(base.Object), base.Created, str(base.Model))
	tail := `"},"finish_reason":"stop"}]}` + "\n"
	if !c.omitUsage {
		tail = fmt.Sprintf(`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n",
			u.PromptTokens, u.CompletionTokens, u.TotalTokens)
	}
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
}
