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
	if err != nil {
		h.upstreamError(w, c, err)
		return
	}
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

// copyBody copies the provider's body to the client through one pooled
// buffer. A read error from the provider is returned; a client that went
// away just ends the copy.
func (h *Handler) copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	bufp := h.buffers.get()
	defer h.buffers.put(bufp)
	buf := *bufp
	flusher, _ := w.(http.Flusher)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			if stream && flusher != nil {
				flusher.Flush()
			}
		}
		switch {
		case rerr == io.EOF:
			return nil
		case rerr != nil:
			return rerr
		}
	}
}
