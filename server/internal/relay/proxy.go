package relay

import (
	"io"
	"net/http"
	"strings"
)

// forward sends the admitted call to the provider and relays its answer:
// headers once the provider's arrive, then the body, flushed per read for
// event streams so every event reaches the client as it is produced.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, c *call) {
	out := h.upstreamRequest(r, c)
	resp, err := h.roundTrip(c, out)
	if err == nil && c.filterModels {
		if err = c.filterModelList(resp); err != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		h.upstreamError(w, c, err)
		return
	}
	c.scrubKey(resp)
	h.modifyResponse(c, resp) // wraps resp.Body in the meter
	defer resp.Body.Close()
	dropHop(resp.Header)
	hdr := w.Header()
	for name, values := range resp.Header {
		hdr[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	stream := resp.ContentLength < 0 || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	if err := h.copyBody(w, resp.Body, stream); err != nil {
		// The answer broke off mid-way. Ending the handler normally would
		// present a truncated body as complete (a clean last chunk), so the
		// connection is aborted instead, as httputil.ReverseProxy does
		// (the deferred Close still runs).
		panic(http.ErrAbortHandler)
	}
}

// waitReadabler is a body that can wait for data without a buffer
// (upstream.Transport's bodies).
type waitReadabler interface{ WaitReadable() }

// copyBody copies the provider's body to the client through a pooled
// buffer. A stream takes the buffer only once data has arrived and gives
// it back after each flush, so thousands of idle streams hold none. A
// read error from the provider is returned; a client that went away just
// ends the copy.
func (h *Handler) copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	flusher, _ := w.(http.Flusher)
	waiter, _ := body.(waitReadabler)
	if !stream {
		flusher = nil
	}
	if !stream || waiter == nil {
		bufp := h.buffers.get()
		defer h.buffers.put(bufp)
		for {
			if done, err := copyOnce(w, body, *bufp, flusher); done {
				return err
			}
		}
	}
	for {
		waiter.WaitReadable()
		bufp := h.buffers.get()
		done, err := copyOnce(w, body, *bufp, flusher)
		h.buffers.put(bufp)
		if done {
			return err
		}
	}
}

// copyOnce moves one read's worth; done reports the end of the copy, with
// the provider's read error if that is what ended it.
func copyOnce(w io.Writer, body io.Reader, buf []byte, flusher http.Flusher) (done bool, err error) {
	n, rerr := body.Read(buf)
	if n > 0 {
		if _, werr := w.Write(buf[:n]); werr != nil {
			return true, nil
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	switch {
	case rerr == io.EOF:
		return true, nil
	case rerr != nil:
		return true, rerr
	}
	return false, nil
}
