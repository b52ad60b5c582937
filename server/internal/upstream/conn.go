package upstream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

// readBufferSize is small on purpose: an open stream holds its reader for
// its whole life, and SSE events are far smaller. Header lines longer than
// it still parse (textproto joins the pieces), and body reads into larger
// buffers bypass it.
const readBufferSize = 2 << 10

// conn is one upstream connection, used by one request at a time.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	key origin

	reused      bool // taken from the pool
	nothingRead bool // the last exchange failed before any response byte
	idleSince   time.Time

	// Cancellation: the request's context ending sets a past deadline,
	// which unblocks any read or write in progress.
	mu       sync.Mutex
	ctx      context.Context
	stop     func() bool
	canceled bool
}

func newConn(nc net.Conn, key origin) *conn {
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, readBufferSize), key: key}
}

// watch ties the connection to ctx until unwatch.
func (c *conn) watch(ctx context.Context) {
	c.ctx = ctx
	if ctx.Done() != nil {
		c.stop = context.AfterFunc(ctx, c.interrupt)
	}
}

func (c *conn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled = true
	_ = c.nc.SetDeadline(time.Unix(1, 0))
}

// unwatch detaches the context; false means it was canceled meanwhile and
// the connection is unusable.
func (c *conn) unwatch() bool {
	if c.stop != nil && !c.stop() {
		c.stop = nil
		return false
	}
	c.stop = nil
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.canceled
}

// setReadDeadline sets a deadline unless cancellation already set one in
// the past (which must win).
func (c *conn) setReadDeadline(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.canceled {
		_ = c.nc.SetReadDeadline(t)
	}
}

// cause reports the context's error for an I/O error caused by
// cancellation, so callers see context.Canceled rather than a timeout.
func (c *conn) cause(err error) error {
	c.mu.Lock()
	canceled := c.canceled
	c.mu.Unlock()
	if canceled && c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	return err
}

func (c *conn) close() {
	_ = c.nc.Close()
}

// writeRequest sends the request line, headers and body: one write when
// the body is small and its length known.
func (c *conn) writeRequest(req *http.Request) error {
	buf := getBuffer()
	defer putBuffer(buf)
	b, chunked, err := appendHead((*buf)[:0], req)
	if err != nil {
		return err
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && !chunked && req.ContentLength <= maxInlineBody {
		n := len(b)
		b = append(b, make([]byte, req.ContentLength)...)
		if err := readFull(req.Body, b[n:]); err != nil {
			return err
		}
		*buf = b
		_, err := c.nc.Write(b)
		return err
	}
	*buf = b
	if _, err := c.nc.Write(b); err != nil || !hasBody {
		return err
	}
	bw := bufio.NewWriterSize(c.nc, 16<<10)
	if !chunked {
		if err := copyN(bw, req.Body, req.ContentLength); err != nil {
			return err
		}
		return bw.Flush()
	}
	cw := httputil.NewChunkedWriter(bw)
	if _, err := io.Copy(cw, req.Body); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	if _, err := bw.WriteString("\r\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// readResponse reads the response headers, skipping 1xx informational
// answers.
func (c *conn) readResponse(req *http.Request) (*http.Response, error) {
	c.nothingRead = false
	if _, err := c.br.Peek(1); err != nil {
		c.nothingRead = true
		return nil, err
	}
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		resp.Body.Close()
	}
}
