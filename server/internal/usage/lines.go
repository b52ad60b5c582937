package usage

import "bytes"

// maxLine bounds one SSE line. A longer line is skipped (and its event
// ignored) instead of buffered without end.
const maxLine = 1 << 20

// maxEvent bounds the data of one event, for the same reason.
const maxEvent = 1 << 20

// keepCap is the buffer capacity kept between lines and events; a rare
// huge one is not held for the life of the stream.
const keepCap = 64 << 10

// lineReader splits a byte stream into lines ended by "\n", "\r\n" or
// "\r" (all three are SSE line ends), whatever the write boundaries.
type lineReader struct {
	partial  []byte // a line whose end has not arrived
	skipping bool   // the partial line passed maxLine and is discarded
	afterCR  bool   // the last line ended in '\r': a leading '\n' belongs to it
}

// feed passes each complete line of p to emit. Lines lying whole inside p
// are passed without copying. ok is false for a skipped overlong line.
func (r *lineReader) feed(p []byte, emit func(line []byte, ok bool)) {
	for len(p) > 0 {
		if r.afterCR {
			r.afterCR = false
			if p[0] == '\n' {
				p = p[1:]
				continue
			}
		}
		i := lineEnd(p)
		if i < 0 {
			r.keep(p)
			return
		}
		r.end(p[:i], emit)
		r.afterCR = p[i] == '\r'
		p = p[i+1:]
	}
}

// flush passes a last line that has no line end.
func (r *lineReader) flush(emit func(line []byte, ok bool)) {
	if len(r.partial) > 0 || r.skipping {
		r.end(nil, emit)
	}
}

func lineEnd(p []byte) int {
	lf := bytes.IndexByte(p, '\n')
	head := p
	if lf >= 0 {
		head = p[:lf]
	}
	if cr := bytes.IndexByte(head, '\r'); cr >= 0 {
		return cr
	}
	return lf
}

func (r *lineReader) keep(p []byte) {
	if r.skipping {
		return
	}
	if len(r.partial)+len(p) > maxLine {
		r.skipping, r.partial = true, r.partial[:0]
		return
	}
	r.partial = append(r.partial, p...)
}

func (r *lineReader) end(tail []byte, emit func(line []byte, ok bool)) {
	if r.skipping || len(r.partial)+len(tail) > maxLine {
		r.skipping, r.partial = false, r.partial[:0]
		emit(nil, false)
		return
	}
	if len(r.partial) == 0 {
		emit(tail, true)
		return
	}
	line := append(r.partial, tail...)
	emit(line, true)
	r.partial = line[:0]
	if cap(r.partial) > keepCap {
		r.partial = nil
	}
}
