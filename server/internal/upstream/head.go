package upstream

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) > maxInlineBody+(8<<10) {
		return // one large body must not pin its buffer in the pool
	}
	*b = (*b)[:0]
	buffers.Put(b)
}

// appendHead writes the request line and headers. chunked reports a body
// of unknown length, sent with chunked transfer encoding.
func appendHead(b []byte, req *http.Request) (_ []byte, chunked bool, err error) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !validValue(host) || !validValue(req.Method) {
		return b, false, errInvalidHeader
	}
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for name, values := range req.Header {
		if skipHeader(name) {
			continue
		}
		if !validName(name) {
			return b, false, errInvalidHeader
		}
		for _, v := range values {
			if !validValue(v) {
				return b, false, errInvalidHeader
			}
			if v == "" && name == "User-Agent" {
				continue // ReverseProxy's way of asking for no User-Agent
			}
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	switch {
	case hasBody && req.ContentLength < 0:
		chunked = true
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	case req.ContentLength > 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, req.ContentLength, 10)
		b = append(b, "\r\n"...)
	case req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch:
		b = append(b, "Content-Length: 0\r\n"...)
	}
	if req.Close {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...), chunked, nil
}

// skipHeader drops what the transport writes itself and hop-by-hop
// fields.
func skipHeader(name string) bool {
	switch name {
	case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
		"Proxy-Connection", "Te", "Trailer", "Upgrade":
		return true
	}
	return false
}

// validName accepts RFC 9110 token characters.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '"' || c == '(' || c == ')' || c == ',' ||
			c == '/' || c == ';' || c == '<' || c == '=' || c == '>' || c == '?' || c == '@' ||
			c == '[' || c == '\\' || c == ']' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// validValue rejects control characters (CR and LF above all), so a value
// from a client or a token can never start a new header line.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// errShortBody is a request body that ended before its Content-Length.
var errShortBody = errors.New("upstream: request body shorter than its Content-Length")

func readFull(r io.Reader, p []byte) error {
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return errShortBody
		}
		return err
	}
	return nil
}

func copyN(w io.Writer, r io.Reader, n int64) error {
	_, err := io.CopyN(w, r, n)
	if err == io.EOF {
		return errShortBody
	}
	return err
}
