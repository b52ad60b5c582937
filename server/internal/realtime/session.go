// Package realtime relays a WebSocket session (the OpenAI Realtime API)
// between a client and the provider: messages pass both ways as they
// come, streamed rather than buffered whole, under the relay's limits on
// the session. It knows WebSockets and the events it must read; tokens,
// the store and the provider's address are the caller's.
package realtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Close codes the relay ends a session with (4000–4999 are for
// applications, RFC 6455 §7.4.2).
const (
	CodeRevoked     websocket.StatusCode = 4001
	CodeBudget      websocket.StatusCode = 4002
	CodeTimeLimit   websocket.StatusCode = 4008
	CodeIdleTimeout websocket.StatusCode = 4009
)

// End says why a session ended and how the client was told.
type End struct {
	Code   websocket.StatusCode
	Reason string
	By     string // "client", "provider" or "relay"
}

// Limits bound one session.
type Limits struct {
	MaxDuration     time.Duration
	Idle            time.Duration
	MaxMessageBytes int64
	// WriteTimeout bounds delivering one message: a peer that stops
	// reading ends the session instead of holding it (and the provider
	// generating) until the idle timeout.
	WriteTimeout time.Duration
}

// Session is one relayed conversation.
type Session struct {
	Client, Provider *websocket.Conn
	Limits           Limits
	// Inspect, when set, sees each client text event whole before it goes
	// upstream: it may replace it (forward non-nil) or refuse it (refusal
	// non-nil is sent back to the client and nothing goes upstream).
	Inspect func(event []byte) (forward, refusal []byte)
	// Watch, when set, sees whole the provider events whose type Watched
	// lists, before the client does; drop keeps one from the client.
	Watched map[string]bool
	Watch   func(typ string, event []byte) (drop bool)
	// Stop ends the session from outside (revocation): the first End sent
	// on it closes both sides with its code.
	Stop <-chan End

	mu       sync.Mutex
	usage    Usage
	activity chan struct{}
}

// Usage is what the provider's response.done events reported so far.
func (s *Session) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Run relays until either side closes, a limit ends the session or ctx
// ends; both connections are closed when it returns.
func (s *Session) Run(ctx context.Context) End {
	s.Client.SetReadLimit(s.Limits.MaxMessageBytes)
	s.Provider.SetReadLimit(s.Limits.MaxMessageBytes)
	s.activity = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ends := make(chan End, 2)
	go func() { ends <- s.pump(ctx, s.Client, s.Provider, "client", s.fromClient) }()
	go func() { ends <- s.pump(ctx, s.Provider, s.Client, "provider", s.fromProvider) }()

	limit := time.NewTimer(s.Limits.MaxDuration)
	defer limit.Stop()
	idle := time.NewTimer(s.Limits.Idle)
	defer idle.Stop()
	var end End
	for end.Code == 0 {
		select {
		case end = <-ends:
		case end = <-s.Stop:
		case <-limit.C:
			end = End{Code: CodeTimeLimit, Reason: "session_time_limit: the session reached its longest allowed length", By: "relay"}
		case <-idle.C:
			end = End{Code: CodeIdleTimeout, Reason: "idle_timeout: no message either way for too long", By: "relay"}
		case <-s.activity:
			idle.Reset(s.Limits.Idle)
		case <-ctx.Done():
			end = End{Code: websocket.StatusGoingAway, Reason: "the relay is shutting down", By: "relay"}
		}
	}
	s.closeBoth(end)
	cancel()
	return end
}

// closeBoth passes the end on: a side that closed is answered by the
// library; the other side is closed with the same code and reason.
func (s *Session) closeBoth(end End) {
	var wg sync.WaitGroup
	for _, c := range []*websocket.Conn{s.Client, s.Provider} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Close waits (bounded by the library) for the peer's close
			// frame; a peer that already left makes it return at once.
			_ = c.Close(end.Code, truncateReason(end.Reason))
		}()
	}
	wg.Wait()
}

// truncateReason keeps a close reason within the 123 bytes a close frame
// allows.
func truncateReason(r string) string {
	if len(r) > 123 {
		return r[:123]
	}
	return r
}

type direction func(ctx context.Context, typ websocket.MessageType, r io.Reader, dst *websocket.Conn, src *websocket.Conn) error

// pump copies messages from src to dst until src ends.
func (s *Session) pump(ctx context.Context, src, dst *websocket.Conn, side string, copyOne direction) End {
	for {
		typ, r, err := src.Reader(ctx)
		if err != nil {
			return endOf(err, side)
		}
		select {
		case s.activity <- struct{}{}:
		default:
		}
		if err := copyOne(ctx, typ, r, dst, src); err != nil {
			var we writeError
			if errors.As(err, &we) {
				// The other side is gone; its own pump reports how.
				return endOf(we.err, other(side))
			}
			return endOf(err, side)
		}
	}
}

func other(side string) string {
	if side == "client" {
		return "provider"
	}
	return "client"
}

// endOf maps a read error to how the session ends: a close frame passes
// its code and reason on; a connection that just went away is 1001 for
// the client and 1011 when it was the provider.
func endOf(err error, side string) End {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return End{Code: ce.Code, Reason: ce.Reason, By: side}
	}
	if errors.Is(err, websocket.ErrMessageTooBig) || isTooBig(err) {
		return End{Code: websocket.StatusMessageTooBig, Reason: "message_too_big", By: "relay"}
	}
	if side == "provider" {
		return End{Code: websocket.StatusInternalError, Reason: "upstream_unreachable: the provider's connection ended", By: side}
	}
	return End{Code: websocket.StatusGoingAway, Reason: "the client went away", By: side}
}

func isTooBig(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("read limited at"))
}

// fromClient forwards a client event. Text events are read whole
// (bounded by the read limit) when there is an Inspect: a prefix cannot
// prove an event harmless, since a repeated "type" or "session" key later
// in the message is what the provider's parser would keep.
func (s *Session) fromClient(ctx context.Context, typ websocket.MessageType, r io.Reader, dst, src *websocket.Conn) error {
	if typ != websocket.MessageText || s.Inspect == nil {
		wctx, cancel := s.writeContext(ctx)
		defer cancel()
		return stream(wctx, typ, nil, r, dst)
	}
	event, err := readRest(nil, r)
	if err != nil {
		return err
	}
	forward, refusal := s.Inspect(event)
	if refusal != nil {
		wctx, cancel := s.writeContext(ctx)
		defer cancel()
		if err := src.Write(wctx, websocket.MessageText, refusal); err != nil {
			return writeError{err}
		}
		return nil
	}
	if forward != nil {
		event = forward
	}
	wctx, cancel := s.writeContext(ctx)
	defer cancel()
	if err := dst.Write(wctx, typ, event); err != nil {
		return writeError{err}
	}
	return nil
}

// writeContext bounds one message's delivery by Limits.WriteTimeout.
func (s *Session) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Limits.WriteTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.Limits.WriteTimeout)
}

// fromProvider streams a provider event to the client, reading the
// response.done events for their usage.
func (s *Session) fromProvider(ctx context.Context, typ websocket.MessageType, r io.Reader, dst, _ *websocket.Conn) error {
	wctx, cancel := s.writeContext(ctx)
	defer cancel()
	if typ != websocket.MessageText {
		return stream(wctx, typ, nil, r, dst)
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	prefix, whole, err := peek(r, *bp)
	if err != nil {
		return err
	}
	t, known := eventType(prefix, whole)
	watched := t == "response.done" || s.Watched[t]
	switch {
	case known && !watched && whole:
		// Most events fit the peek: one frame, not the prefix and then an
		// empty final frame.
		if err := dst.Write(wctx, typ, prefix); err != nil {
			return writeError{err}
		}
		return nil
	case known && !watched:
		return stream(wctx, typ, prefix, r, dst)
	}
	event, err := readRest(prefix, r)
	if err != nil {
		return err
	}
	if u, ok := responseDone(event); ok {
		s.mu.Lock()
		s.usage.InputTokens += u.InputTokens
		s.usage.OutputTokens += u.OutputTokens
		s.usage.Responses++
		s.mu.Unlock()
	}
	if !known {
		t, _ = eventType(event, true)
	}
	if s.Watch != nil && s.Watched[t] && s.Watch(t, event) {
		return nil
	}
	if err := dst.Write(wctx, typ, event); err != nil {
		return writeError{err}
	}
	return nil
}

// buffers recycles the copy and peek buffers: a session relays many small
// messages, and a fresh 32 KiB per message was most of the relay's
// allocation under load (bench/README.md, realtime).
var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// peek reads up to peekBytes of a message into buf; whole says it was all
// of it.
func peek(r io.Reader, buf []byte) (prefix []byte, whole bool, err error) {
	buf = buf[:peekBytes]
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], true, nil
	case err != nil:
		return nil, false, err
	}
	return buf, false, nil
}

func readRest(prefix []byte, r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	b.Write(prefix)
	if _, err := b.ReadFrom(r); err != nil { // the connection's read limit bounds it
		return nil, err
	}
	return b.Bytes(), nil
}

// writeError is a failure to deliver to the other side, as opposed to
// one reading from the sender.
type writeError struct{ err error }

func (e writeError) Error() string { return "delivering a message: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// stream writes one message to dst as it is read: prefix, then the rest.
func stream(ctx context.Context, typ websocket.MessageType, prefix []byte, r io.Reader, dst *websocket.Conn) error {
	w, err := dst.Writer(ctx, typ)
	if err != nil {
		return writeError{err}
	}
	defer w.Close()
	if len(prefix) > 0 {
		if _, err := w.Write(prefix); err != nil {
			return writeError{err}
		}
	}
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return writeError{err}
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := w.Close(); err != nil {
		return writeError{err}
	}
	return nil
}
