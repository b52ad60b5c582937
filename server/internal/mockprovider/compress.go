package mockprovider

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Response compression. api.openai.com (behind Cloudflare) answers with
// `Content-Encoding: gzip` (or br) whenever the request's Accept-Encoding
// allows it — "The latest version of the OpenAI API forced the
// content-encoding … in json response"
// (https://github.com/ChatGPTNextWeb/NextChat/pull/3215; relays that forward
// the client's Accept-Encoding get compressed bodies back:
// https://github.com/headroomlabs-ai/headroom/issues/135). The mock does the
// same for every API it speaks, and — the worst case for a relay — for SSE
// streams too, flushing the gzip writer after every event so events still
// flow. A relay that parses streams must ask for `identity`.

// acceptsGzip reports whether an Accept-Encoding value allows gzip: a
// "gzip" (or "x-gzip") coding, or "*", with a q-value above 0
// (RFC 9110 §12.5.3). An explicit "gzip;q=0" refuses it even when "*" is
// allowed; "identity" or an absent header means a plain body.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, q := parseCoding(part)
		switch coding {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// parseCoding splits "gzip;q=0.5" into its lowercase coding and q (default 1).
func parseCoding(part string) (string, float64) {
	coding, params, _ := strings.Cut(part, ";")
	q := 1.0
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, "q") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
	}
	return strings.ToLower(strings.TrimSpace(coding)), q
}

// gzipPool recycles compressors: a flate writer allocates about a
// megabyte, too much to make per request.
var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// gzipWriter compresses a response on the fly (nothing is buffered beyond
// the gzip window, so huge answers stream through). It drops any
// Content-Length the handler set, since the compressed length differs.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
}

// encode wraps w in a gzipWriter when r accepts gzip. close must be called
// after a handler that returned normally; it is deliberately not deferred,
// so a connection aborted mid-stream (x-mock-disconnect-after) never gets
// a clean gzip trailer.
func encode(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	w.Header().Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return w, func() {}
	}
	g := &gzipWriter{ResponseWriter: w}
	return g, g.close
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.started {
		g.started = true
		h := g.Header()
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		g.gz = gzipPool.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Write(b)
}

// FlushError pushes everything written so far through the compressor
// (a sync flush) and on to the client; http.ResponseController finds it.
func (g *gzipWriter) FlushError() error {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	if err := g.gz.Flush(); err != nil {
		return err
	}
	return http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// close writes the gzip trailer of a started response and recycles the
// compressor (an aborted response just drops it).
func (g *gzipWriter) close() {
	if g.started {
		_ = g.gz.Close()
		g.gz.Reset(io.Discard)
		gzipPool.Put(g.gz)
	}
}
