// Package streamedit edits a provider's server-sent-events stream on its
// way to the client, event by event: it removes what the relay added for
// itself (the usage chunk of stream_options.include_usage) and ends a
// stream the relay must stop the way that provider ends a length-limited
// answer, so the client sees exactly the stream it would get from the
// provider.
package streamedit

import "bytes"

// MaxEvent bounds the bytes of one event held back for editing. A longer
// event (no provider sends one) is passed through as it arrives, unedited.
const MaxEvent = 1 << 20

// Splitter cuts a byte stream into whole events, each with its exact
// bytes: its lines and the blank line that ends it. Lines end in "\n",
// "\r\n" or "\r" (all three are SSE line ends).
type Splitter struct {
	buf         []byte
	lineStart   int  // start of the line being scanned in buf
	passthrough bool // an overlong event is being passed through
	drop        int  // bytes handed out at the last Feed, dropped at the next
}

// Piece is a run of stream bytes: a whole event, or (Raw) bytes of an
// overlong event or of an unterminated end of stream, passed unedited.
type Piece struct {
	Bytes []byte
	Raw   bool
}

// Feed adds p and appends to out every piece now complete. The pieces
// alias the splitter's buffer: use them before the next Feed.
func (s *Splitter) Feed(p []byte, out []Piece) []Piece {
	s.compact()
	s.buf = append(s.buf, p...)
	start := 0
	for {
		end, ok := s.eventEnd()
		if !ok {
			break
		}
		out = append(out, Piece{Bytes: s.buf[start:end], Raw: s.passthrough})
		s.passthrough = false
		start = end
		s.lineStart = end
	}
	if len(s.buf)-start > MaxEvent || (s.passthrough && len(s.buf) > start) {
		out = append(out, Piece{Bytes: s.buf[start:], Raw: true})
		s.passthrough = true
		start = len(s.buf)
		s.lineStart = start
	}
	s.consumed(start)
	return out
}

// Rest returns what is left at the end of the stream: an event the
// provider did not end with a blank line.
func (s *Splitter) Rest() Piece {
	s.compact()
	p := Piece{Bytes: s.buf, Raw: true}
	s.buf, s.lineStart = nil, 0
	return p
}

// eventEnd scans whole lines from lineStart; it reports the offset just
// past the blank line that ends the first event.
func (s *Splitter) eventEnd() (int, bool) {
	for {
		rest := s.buf[s.lineStart:]
		i := bytes.IndexAny(rest, "\r\n")
		if i < 0 {
			return 0, false
		}
		width := 1
		if rest[i] == '\r' {
			if i+1 == len(rest) {
				return 0, false // a "\n" may follow in the next read
			}
			if rest[i+1] == '\n' {
				width = 2
			}
		}
		next := s.lineStart + i + width
		blank := i == 0
		s.lineStart = next
		if blank {
			return next, true
		}
	}
}

// consumed drops the first n bytes once the caller is done with them (at
// the next Feed).
func (s *Splitter) consumed(n int) { s.drop = n }

func (s *Splitter) compact() {
	if s.drop == 0 {
		return
	}
	n := copy(s.buf, s.buf[s.drop:])
	s.buf = s.buf[:n]
	s.lineStart -= s.drop
	s.drop = 0
	if cap(s.buf) > 4*MaxEvent && n < MaxEvent {
		s.buf = append([]byte(nil), s.buf...)
	}
}
