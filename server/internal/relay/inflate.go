package relay

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
)

// inflater decompresses a copy of a gzip answer for its meter while the
// compressed bytes go to the client as they are: the client gets exactly
// what it asked for (Accept-Encoding: gzip) and the relay still reads
// the usage inside. The decoder runs in its own goroutine, fed through a
// pipe; each Write returns once the decoder has taken the bytes, so no
// more than one read of the answer is ever held.
type inflater struct {
	pw   *io.PipeWriter
	done chan struct{}
}

func newInflater(dst io.Writer) *inflater {
	pr, pw := io.Pipe()
	f := &inflater{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		if zr, err := gzip.NewReader(pr); err == nil {
			_, _ = io.Copy(dst, zr)
		}
		// A corrupt stream stops the decoder, not the answer: the rest is
		// taken and dropped (its usage stays unread, which is charged as
		// such).
		_, _ = io.Copy(io.Discard, pr)
	}()
	return f
}

// Write hands p to the decoder.
func (f *inflater) Write(p []byte) {
	_, _ = f.pw.Write(p)
}

// Close ends the input and waits for the decoder. It may be called more
// than once.
func (f *inflater) Close() {
	_ = f.pw.Close()
	<-f.done
}

// contentEncoding is the answer's coding, "" for none (identity); a
// list of codings is returned as written (the relay reads none of them).
func contentEncoding(h http.Header) string {
	v := strings.ToLower(strings.TrimSpace(strings.Join(h.Values("Content-Encoding"), ",")))
	switch v {
	case "", "identity":
		return ""
	case "x-gzip":
		return "gzip"
	}
	return v
}

// gunzip decodes a gzip body lazily: the header is read on the first Read,
// in the copy loop, not when the response arrives.
type gunzip struct {
	rc io.ReadCloser
	zr *gzip.Reader
}

func newGunzip(rc io.ReadCloser) *gunzip { return &gunzip{rc: rc} }

func (g *gunzip) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.rc)
		if err != nil {
			return 0, err
		}
		g.zr = zr
	}
	return g.zr.Read(p)
}

func (g *gunzip) Close() error { return g.rc.Close() }
