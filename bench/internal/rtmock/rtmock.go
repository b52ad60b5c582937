// Package rtmock is the benchmark's OpenAI Realtime provider: a WebSocket
// endpoint as cheap as the chat mock. Every event it sends is rendered at
// start-up; per message it only finds the client's "type" and "event_id"
// (a byte scan, no JSON decoding) and writes a pre-rendered answer around
// that id.
//
// On connect it sends session.created. A client event of type bench.ping
// or response.create is answered at once with one
// response.output_text.delta-shaped event whose event_id is the client
// event's own, so a load generator can match answers to what it sent;
// other events are read and ignored.
package rtmock

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

// Path is the one route served (with ?model=, as OpenAI's).
const Path = "/v1/realtime"

// Event types answered; everything else is read and dropped.
const (
	PingType  = "bench.ping"
	ReplyType = "response.output_text.delta"
)

// maxMessageBytes bounds one client message (the mock only needs events
// of a few hundred bytes; audio appends are read and dropped in pieces).
const maxMessageBytes = 16 << 20

// peekBytes of a message are scanned for its type and event_id; the rest
// is discarded unread, so a large append costs no buffer.
const peekBytes = 1 << 10

var (
	sessionCreated = []byte(`{"type":"session.created","event_id":"evt_bench_session",` +
		`"session":{"id":"sess_bench0000000000","object":"realtime.session","type":"realtime",` +
		`"model":"gpt-realtime","output_modalities":["text"],"instructions":"",` +
		`"max_output_tokens":"inf"}}`)
	replyPrefix = []byte(`{"type":"` + ReplyType + `","event_id":"`)
	replySuffix = []byte(`","response_id":"resp_bench0000000000","item_id":"item_bench0000000000",` +
		`"output_index":0,"content_index":0,"delta":"Hello! How can I help you today?"}`)
	noEventID = []byte("evt_bench_noid")

	typeKey, eventIDKey  = []byte(`"type"`), []byte(`"event_id"`)
	pingType, createType = []byte(PingType), []byte("response.create")
)

// Handler serves Path. The zero value is ready to use.
type Handler struct {
	bufs sync.Pool // *[]byte: a message's head, then the answer; held only while answering
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("model") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"message":"missing model","type":"invalid_request_error","code":"missing_model"}}` + "\n"))
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{"realtime"},
		InsecureSkipVerify: true, // a benchmark upstream: any Origin
	})
	if err != nil {
		return // Accept answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(maxMessageBytes)
	// Valid while the handler runs, hijacked or not.
	ctx := r.Context()
	if err := c.Write(ctx, websocket.MessageText, sessionCreated); err != nil {
		return
	}
	for {
		// A close frame is answered by the library before Reader returns.
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if err := h.answer(ctx, c, typ, rd); err != nil {
			return
		}
	}
}

// answer reads one message and answers it when it is a ping.
func (h *Handler) answer(ctx context.Context, c *websocket.Conn, typ websocket.MessageType, rd io.Reader) error {
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, peekBytes+len(replyPrefix)+len(replySuffix)+64)
		bp = &b
	}
	defer h.bufs.Put(bp)
	head := (*bp)[:peekBytes]
	n, err := io.ReadFull(rd, head)
	switch err {
	case nil:
		if _, err := io.Copy(io.Discard, rd); err != nil {
			return err
		}
	case io.EOF, io.ErrUnexpectedEOF:
	default:
		return err
	}
	head = head[:n]
	if typ != websocket.MessageText {
		return nil
	}
	t := field(head, typeKey)
	if !bytes.Equal(t, pingType) && !bytes.Equal(t, createType) {
		return nil
	}
	id := field(head, eventIDKey)
	if id == nil {
		id = noEventID
	}
	// The answer goes after head in the same buffer (id points into head).
	out := append((*bp)[peekBytes:peekBytes], replyPrefix...)
	out = append(out, id...)
	out = append(out, replySuffix...)
	return c.Write(ctx, websocket.MessageText, out)
}

// StringField returns the raw value of the first `"key":"value"` in b (a
// byte scan, not a JSON parser: enough for the flat events of a
// benchmark), or nil when there is none or the value holds an escape.
func StringField(b []byte, key string) []byte {
	return field(b, []byte(`"`+key+`"`))
}

// field is StringField with the quoted key given.
func field(b, quotedKey []byte) []byte {
	for {
		i := bytes.Index(b, quotedKey)
		if i < 0 {
			return nil
		}
		b = b[i+len(quotedKey):]
		j := skipSpace(b, 0)
		if j >= len(b) || b[j] != ':' {
			continue
		}
		j = skipSpace(b, j+1)
		if j >= len(b) || b[j] != '"' {
			continue
		}
		v := b[j+1:]
		end := bytes.IndexByte(v, '"')
		if end < 0 || bytes.IndexByte(v[:end], '\\') >= 0 {
			return nil
		}
		return v[:end]
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
