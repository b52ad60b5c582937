package relay

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
)

// maxErrorBody bounds an error answer read to scrub it: real ones are a
// few hundred bytes; the rest of a longer one is dropped.
const maxErrorBody = 1 << 20

var redacted = []byte("[redacted]")

// scrubKey takes the real API key out of an error answer before it
// reaches the client: some providers and gateways echo the request —
// headers included — or the key itself in their errors. Every header
// carrying it is dropped, every occurrence in the body replaced. The body
// is served decompressed.
func (c *call) scrubKey(resp *http.Response) {
	key := c.upstreamKey
	if resp.StatusCode < 400 || len(key) < 8 {
		return
	}
	for name, values := range resp.Header {
		for _, v := range values {
			if bytes.Contains([]byte(v), []byte(key)) {
				delete(resp.Header, name)
			}
		}
	}
	var body io.Reader = resp.Body
	if contentEncoding(resp.Header) == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			body = bytes.NewReader(nil)
		} else {
			body = zr
		}
	}
	raw, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	resp.Body.Close()
	if contentEncoding(resp.Header) != "" && contentEncoding(resp.Header) != "gzip" {
		raw = nil // an encoding the relay cannot read cannot be checked
	}
	raw = bytes.ReplaceAll(raw, []byte(key), redacted)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Del("Content-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
}
