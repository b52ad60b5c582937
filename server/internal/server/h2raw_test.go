package server_test

// HTTP/2 written frame by frame, for what Go's client will not send:
// oversized header lists, CONTINUATION floods, resets in bulk, streams over
// the advertised limit, stalled flow control, malformed requests.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/relayapi/relayapi/server/internal/config"
)

// quickShutdown shortens the relay's drain at the end of a test in which
// it ended raw connections with a GOAWAY for an error: Go's HTTP/2 server
// keeps such a connection a second longer (its GOAWAY grace), and the
// drain would wait for it.
func quickShutdown(c *config.Config) { c.Timeouts.Shutdown = config.Duration(100 * time.Millisecond) }

// h2Conn is a hand-driven HTTP/2 client connection to a live relay: TLS
// with ALPN "h2", or h2c with prior knowledge. A read loop records what the
// relay sends (per stream and for the connection), acknowledges SETTINGS
// and PINGs and, unless told not to, returns every DATA byte's flow-control
// credit at once.
type h2Conn struct {
	t      *testing.T
	c      net.Conn
	scheme string
	host   string

	wmu  sync.Mutex // guards the writer side: bw, fr writes, henc, hbuf
	bw   *bufio.Writer
	fr   *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer

	noWindowUpdates bool
	quiet           bool

	mu       sync.Mutex
	pings    uint64 // the last PING acknowledged
	streams  map[uint32]*h2Stream
	settings map[http2.SettingID]uint32
	goAway   *h2GoAway
	readErr  error         // why the read loop ended
	closedAt time.Time     // when it ended
	done     chan struct{} // closed when the read loop ends
}

// h2Stream is what the relay sent on one stream.
type h2Stream struct {
	status int
	header http.Header
	body   []byte // the first 64 KiB
	bytes  int64  // DATA bytes in all
	ended  bool   // END_STREAM seen
	reset  bool   // RST_STREAM seen
	code   http2.ErrCode
}

type h2GoAway struct {
	code       http2.ErrCode
	lastStream uint32
	at         time.Time
}

func (g *h2GoAway) String() string {
	if g == nil {
		return "none"
	}
	return g.code.String() + " after stream " + strconv.Itoa(int(g.lastStream))
}

// h2Options shape a raw connection.
type h2Options struct {
	// settings go in the client's first SETTINGS frame.
	settings []http2.Setting
	// connWindow, when set, is added to the connection's receive window
	// right after the preface.
	connWindow uint32
	// noWindowUpdates: never return flow-control credit (a stalled reader
	// that still reads the socket).
	noWindowUpdates bool
	// noRead: start no read loop at all; the relay's frames pile up in the
	// socket (a peer that stopped reading).
	noRead bool
	// quiet: the read loop writes nothing (no SETTINGS or PING
	// acknowledgements, no flow-control credit), so that nothing comes
	// between a HEADERS frame and its CONTINUATION frames written over
	// several calls.
	quiet bool
	// noSettings: send the preface alone.
	noSettings bool
}

// dialH2Conn opens a TCP connection (TLS with ALPN "h2" over h2TLS) and
// writes nothing on it.
func dialH2Conn(t *testing.T, s *liveStack) net.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
	switch s.proto {
	case h2TLS:
		c := tls.Client(raw, &tls.Config{RootCAs: s.cert.pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
		if err := c.Handshake(); err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("ALPN negotiated %q, want h2", p)
		}
		return c
	case h2C:
		return raw
	}
	t.Fatalf("no raw HTTP/2 over %s", s.proto)
	return nil
}

// dialH2 opens a raw HTTP/2 connection to s and sends the preface and the
// client's SETTINGS.
func dialH2(t *testing.T, s *liveStack, o h2Options) *h2Conn {
	t.Helper()
	c := dialH2Conn(t, s)
	bw := bufio.NewWriterSize(c, 64<<10)
	h := &h2Conn{
		t: t, c: c, scheme: s.proto.scheme(), host: s.addr, bw: bw,
		fr: http2.NewFramer(bw, c), streams: map[uint32]*h2Stream{}, settings: map[http2.SettingID]uint32{},
		noWindowUpdates: o.noWindowUpdates || o.quiet, quiet: o.quiet, done: make(chan struct{}),
	}
	h.fr.AllowIllegalWrites = true
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.fr.MaxHeaderListSize = 1 << 20
	h.henc = hpack.NewEncoder(&h.hbuf)
	if _, err := bw.WriteString(http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	err := h.write(func(fr *http2.Framer) error {
		if !o.noSettings {
			if err := fr.WriteSettings(o.settings...); err != nil {
				return err
			}
		}
		if o.connWindow > 0 {
			return fr.WriteWindowUpdate(0, o.connWindow)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("preface: %v", err)
	}
	if o.noRead {
		close(h.done)
	} else {
		go h.readLoop()
	}
	t.Cleanup(func() {
		h.close()
		<-h.done
	})
	return h
}

// close drops the connection. Over TLS it closes the TCP connection
// beneath: tls.Conn.Close would first send close_notify, and wait up to
// 5 s when the relay has stopped reading.
func (h *h2Conn) close() {
	if tc, ok := h.c.(*tls.Conn); ok {
		tc.NetConn().Close()
		return
	}
	h.c.Close()
}

// write runs frames under the write lock and flushes them.
func (h *h2Conn) write(frames func(fr *http2.Framer) error) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if err := frames(h.fr); err != nil {
		return err
	}
	return h.bw.Flush()
}

// h2Field is one header field in the order given.
type h2Field struct{ name, value string }

// block encodes a request's header block: the pseudo-headers (an empty
// method leaves them all out), then extra. Called under wmu.
func (h *h2Conn) block(method, path string, extra []h2Field) []byte {
	h.hbuf.Reset()
	if method != "" {
		for _, f := range []h2Field{{":method", method}, {":scheme", h.scheme}, {":authority", h.host}, {":path", path}} {
			_ = h.henc.WriteField(hpack.HeaderField{Name: f.name, Value: f.value})
		}
	}
	for _, f := range extra {
		_ = h.henc.WriteField(hpack.HeaderField{Name: f.name, Value: f.value})
	}
	return bytes.Clone(h.hbuf.Bytes())
}

// writeHeaders writes a header block as HEADERS and as many CONTINUATION
// frames as 16 KiB frames need. Called under wmu.
func (h *h2Conn) writeHeaders(id uint32, block []byte, endStream bool) error {
	const max = 16 << 10
	first := block[:min(len(block), max)]
	rest := block[len(first):]
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first, EndStream: endStream, EndHeaders: len(rest) == 0}); err != nil {
		return err
	}
	for len(rest) > 0 {
		n := min(len(rest), max)
		if err := h.fr.WriteContinuation(id, n == len(rest), rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

// request starts stream id: its header block, then body in DATA frames
// (with END_STREAM) unless body is nil and open is set, which leaves the
// stream open for more. A write error fails the test.
func (h *h2Conn) request(id uint32, method, path string, extra []h2Field, body []byte, open bool) {
	h.t.Helper()
	if err := h.tryRequest(id, method, path, extra, body, open); err != nil {
		h.t.Fatalf("stream %d: %v", id, err)
	}
}

func (h *h2Conn) tryRequest(id uint32, method, path string, extra []h2Field, body []byte, open bool) error {
	return h.write(func(fr *http2.Framer) error {
		noBody := body == nil && !open
		if err := h.writeHeaders(id, h.block(method, path, extra), noBody); err != nil {
			return err
		}
		if body != nil {
			return h.writeData(id, body, !open)
		}
		return nil
	})
}

// writeData writes b in 16 KiB DATA frames. Called under wmu.
func (h *h2Conn) writeData(id uint32, b []byte, end bool) error {
	for {
		n := min(len(b), 16<<10)
		if err := h.fr.WriteData(id, end && n == len(b), b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if len(b) == 0 {
			return nil
		}
	}
}

// post is a JSON POST on stream id with the body in one go.
func (h *h2Conn) post(id uint32, path, body string, extra ...h2Field) {
	h.t.Helper()
	fields := append([]h2Field{{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(body))}}, extra...)
	h.request(id, "POST", path, fields, []byte(body), false)
}

func (h *h2Conn) readLoop() {
	defer close(h.done)
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			h.mu.Lock()
			h.readErr, h.closedAt = err, time.Now()
			h.mu.Unlock()
			return
		}
		h.mu.Lock()
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			st := h.stream(f.StreamID)
			if st.status == 0 {
				st.status, _ = strconv.Atoi(f.PseudoValue("status"))
				st.header = http.Header{}
				for _, hf := range f.RegularFields() {
					st.header.Add(hf.Name, hf.Value)
				}
			}
			st.ended = st.ended || f.StreamEnded()
		case *http2.DataFrame:
			st := h.stream(f.StreamID)
			data := f.Data()
			if keep := 64<<10 - len(st.body); keep > 0 {
				st.body = append(st.body, data[:min(keep, len(data))]...)
			}
			st.bytes += int64(len(data))
			st.ended = st.ended || f.StreamEnded()
			if n := f.Length; n > 0 && !h.noWindowUpdates {
				go h.write(func(fr *http2.Framer) error {
					if err := fr.WriteWindowUpdate(0, n); err != nil {
						return err
					}
					return fr.WriteWindowUpdate(f.StreamID, n)
				})
			}
		case *http2.RSTStreamFrame:
			// The first reset says why; later ones answer frames the
			// client sent on the stream after it.
			if st := h.stream(f.StreamID); !st.reset {
				st.reset, st.code = true, f.ErrCode
			}
		case *http2.GoAwayFrame:
			if h.goAway == nil {
				h.goAway = &h2GoAway{code: f.ErrCode, lastStream: f.LastStreamID, at: time.Now()}
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = f.ForeachSetting(func(s http2.Setting) error { h.settings[s.ID] = s.Val; return nil })
				if !h.quiet {
					go h.write(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
				}
			}
		case *http2.PingFrame:
			if f.IsAck() {
				h.pings = binary.BigEndian.Uint64(f.Data[:])
			}
			if !f.IsAck() && !h.quiet {
				data := f.Data
				go h.write(func(fr *http2.Framer) error { return fr.WritePing(true, data) })
			}
		}
		h.mu.Unlock()
	}
}

// stream returns the record of stream id, made on first use. Called
// under mu.
func (h *h2Conn) stream(id uint32) *h2Stream {
	st, ok := h.streams[id]
	if !ok {
		st = &h2Stream{}
		h.streams[id] = st
	}
	return st
}

// snapshot copies stream id's record.
func (h *h2Conn) snapshot(id uint32) h2Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.streams[id]; ok {
		return *st
	}
	return h2Stream{}
}

// sync sends a PING and waits (bounded) for its acknowledgement: the
// relay has read every frame sent before it. False: the connection went
// away first.
func (h *h2Conn) sync(within time.Duration) bool {
	h.t.Helper()
	h.mu.Lock()
	n := h.pings + 1
	h.mu.Unlock()
	var data [8]byte
	binary.BigEndian.PutUint64(data[:], n)
	if h.write(func(fr *http2.Framer) error { return fr.WritePing(false, data) }) != nil {
		return false
	}
	acked := false
	waitUntil(h.t, within, "a PING acknowledgement", func() bool {
		h.mu.Lock()
		acked = h.pings >= n
		h.mu.Unlock()
		return acked || h.closed() || h.goAwayFrame() != nil
	})
	return acked
}

// closed reports whether the relay ended the connection (EOF or reset).
func (h *h2Conn) closed() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// goAwayFrame is the relay's GOAWAY, if it sent one.
func (h *h2Conn) goAwayFrame() *h2GoAway {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.goAway
}

// setting is a value from the relay's SETTINGS (ok false before they came).
func (h *h2Conn) setting(id http2.SettingID) (uint32, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.settings[id]
	return v, ok
}

// await waits (bounded) until stream id has ended or been reset, or the
// connection went away (a GOAWAY for an error, or one that leaves the
// stream out), and returns what arrived on it.
func (h *h2Conn) await(id uint32, within time.Duration) h2Stream {
	h.t.Helper()
	var st h2Stream
	waitUntil(h.t, within, "an answer on stream "+strconv.Itoa(int(id)), func() bool {
		st = h.snapshot(id)
		g := h.goAwayFrame()
		return st.ended || st.reset || h.closed() || g != nil && (g.code != http2.ErrCodeNo || g.lastStream < id)
	})
	return st
}

// awaitClose waits (bounded) for the relay to end the connection and
// returns when the read loop saw it end. A read deadline of ours passing
// first fails the test.
func (h *h2Conn) awaitClose(within time.Duration) time.Time {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(within):
		h.t.Fatalf("the relay kept the connection open for %v", within)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var ne net.Error
	if errors.As(h.readErr, &ne) && ne.Timeout() {
		h.t.Fatalf("the relay kept the connection open until our own deadline")
	}
	return h.closedAt
}
