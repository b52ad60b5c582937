package usage

import "github.com/relayapi/relayapi/server/internal/jsonscan"

// The BodyMeter's JSON scanner: a state machine fed bytes split anywhere
// that accepts exactly what encoding/json's Valid accepts (the same
// grammar, the same nesting limit) in O(1) memory. It copies nothing:
// where a key or a value starts and ends it calls the capture hooks of
// body.go, which copy only the member they want. What big bodies are
// made of, long strings (base64 images, text) and arrays of numbers
// (embeddings, logprobs), is crossed by tight loops.

// maxNesting is encoding/json's maxNestingDepth: a deeper body is not
// valid JSON to it, so it is not to the BodyMeter either.
const maxNesting = 10000

// scanState is what the scanner expects next.
type scanState uint8

const (
	sValue      scanState = iota // a value (the root, or after ':' or an array's ',')
	sValueOrEnd                  // a value or ']', just after '['
	sKey                         // a key, after an object's ','
	sKeyOrEnd                    // a key or '}', just after '{'
	sColon                       // the ':' after a key
	sAfter                       // ',' or the container's end; after the root, only space
	sString                      // in a string
	sEscape                      // after a '\' in a string
	sHex                         // in the 4 digits of a \u escape
	sLiteral                     // in true, false or null
	sNeg                         // after a number's '-'
	sZero                        // after a number's leading 0
	sInt                         // in a number's integer digits
	sDot                         // after a number's '.'
	sFrac                        // in a number's fraction digits
	sExp                         // after a number's 'e'
	sExpSign                     // after the exponent's sign
	sExpDigits                   // in the exponent's digits
	sError                       // not JSON: the rest is ignored
)

// stringStop marks the bytes that end a run of plain string content: the
// closing quote, an escape, and the control characters JSON forbids.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// step reads from p[i] on and returns where it stopped.
func (m *BodyMeter) step(p []byte, i int) int {
	switch m.state {
	case sString:
		return m.inString(p, i)
	case sEscape:
		return m.escape(p[i], i)
	case sHex:
		return m.hexDigit(p[i], i)
	case sLiteral:
		return m.literal(p, i)
	case sNeg, sZero, sInt, sDot, sFrac, sExp, sExpSign, sExpDigits:
		return m.number(p, i)
	}
	for i < len(p) && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t') {
		i++
	}
	if i == len(p) {
		return i
	}
	return m.token(p, i)
}

// token reads the structural byte or value start at p[i].
func (m *BodyMeter) token(p []byte, i int) int {
	c := p[i]
	switch m.state {
	case sValueOrEnd, sValue:
		if c == ']' && m.state == sValueOrEnd {
			return m.close(p, i)
		}
		if (c == '-' || isDigit(c)) && !m.object && m.depth > 0 {
			if j := m.numbers(p, i); j > i {
				return j
			}
		}
		return m.beginValue(c, i)
	case sKeyOrEnd:
		if c == '}' {
			return m.close(p, i)
		}
		return m.beginKey(c, i)
	case sKey:
		return m.beginKey(c, i)
	case sColon:
		if c == ':' {
			m.state = sValue
			return i + 1
		}
	case sAfter:
		return m.afterValue(p, i)
	}
	return m.fail(i)
}

func (m *BodyMeter) beginValue(c byte, i int) int {
	m.valueStart(i)
	switch {
	case c == '{' || c == '[':
		return m.open(c == '{', i)
	case c == '"':
		m.state, m.inKey = sString, false
	case c == '-':
		m.state = sNeg
	case c == '0':
		m.state = sZero
	case '1' <= c && c <= '9':
		m.state = sInt
	case c == 't':
		m.state, m.lit = sLiteral, "rue"
	case c == 'f':
		m.state, m.lit = sLiteral, "alse"
	case c == 'n':
		m.state, m.lit = sLiteral, "ull"
	default:
		return m.fail(i)
	}
	return i + 1
}

func (m *BodyMeter) beginKey(c byte, i int) int {
	if c != '"' {
		return m.fail(i)
	}
	m.keyStart(i)
	m.state, m.inKey = sString, true
	return i + 1
}

func (m *BodyMeter) afterValue(p []byte, i int) int {
	if m.depth == 0 {
		return m.fail(i) // only space may follow the root value
	}
	object := m.object
	switch c := p[i]; {
	case c == ',' && object:
		m.state = sKey
	case c == ',':
		m.state = sValue
	case c == '}' && object, c == ']' && !object:
		return m.close(p, i)
	default:
		return m.fail(i)
	}
	return i + 1
}

// open enters an object or array; its bit in the stack says which.
func (m *BodyMeter) open(object bool, i int) int {
	if m.depth == maxNesting {
		return m.fail(i)
	}
	d := m.depth
	m.depth++
	m.object = object
	m.objects.set(d, object)
	if object {
		m.state = sKeyOrEnd
	} else {
		m.state = sValueOrEnd
	}
	return i + 1
}

// nesting is a bit per open container, set for an object. Answers nest a
// few levels: the first 256 live in the meter itself, deeper ones (up to
// maxNesting) in a slice grown on demand — a whole maxNesting bitmap in
// every meter was 1.2 KiB allocated per metered answer.
type nesting struct {
	near [4]uint64
	deep []uint64
}

func (n *nesting) set(d int, object bool) {
	w, bit := n.word(d), uint64(1)<<uint(d%64)
	if object {
		*w |= bit
	} else {
		*w &^= bit
	}
}

func (n *nesting) get(d int) bool { return *n.word(d)&(1<<uint(d%64)) != 0 }

// word is the word holding depth d's bit, grown into when first needed.
func (n *nesting) word(d int) *uint64 {
	i := d / 64
	if i < len(n.near) {
		return &n.near[i]
	}
	i -= len(n.near)
	for len(n.deep) <= i {
		n.deep = append(n.deep, 0)
	}
	return &n.deep[i]
}

// close leaves the container whose closing byte is p[i].
func (m *BodyMeter) close(p []byte, i int) int {
	m.depth--
	if d := m.depth - 1; d >= 0 {
		m.object = m.objects.get(d)
	}
	m.valueEnd(p, i+1)
	return i + 1
}

// inString crosses plain content in one tight loop.
func (m *BodyMeter) inString(p []byte, i int) int {
	for i < len(p) && !stringStop[p[i]] {
		i++
	}
	if i == len(p) {
		return i
	}
	switch p[i] {
	case '"':
		if m.inKey {
			m.keyEnd(p, i+1)
			m.state = sColon
		} else {
			m.valueEnd(p, i+1)
		}
		return i + 1
	case '\\':
		m.state = sEscape
		return i + 1
	}
	return m.fail(i) // a raw control character
}

func (m *BodyMeter) escape(c byte, i int) int {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		m.state = sString
	case 'u':
		m.state, m.hex = sHex, 4
	default:
		return m.fail(i)
	}
	return i + 1
}

func (m *BodyMeter) hexDigit(c byte, i int) int {
	if !isHex(c) {
		return m.fail(i)
	}
	if m.hex--; m.hex == 0 {
		m.state = sString
	}
	return i + 1
}

func (m *BodyMeter) literal(p []byte, i int) int {
	if p[i] != m.lit[0] {
		return m.fail(i)
	}
	if m.lit = m.lit[1:]; m.lit == "" {
		m.valueEnd(p, i+1)
	}
	return i + 1
}

// number reads a number's bytes. A number ends at the first byte that
// cannot continue it, which is left for sAfter to judge.
func (m *BodyMeter) number(p []byte, i int) int {
	s := m.state
	for ; i < len(p); i++ {
		if s == sInt || s == sFrac || s == sExpDigits {
			// A run of digits: a loop with no state to carry, so no
			// table load waits on the one before.
			for i < len(p) && isDigit(p[i]) {
				i++
			}
			if i == len(p) {
				break
			}
		}
		switch next := numberTable[s-sNeg][p[i]]; next {
		case sAfter:
			m.valueEnd(p, i)
			return i
		case sError:
			return m.fail(i)
		default:
			s = next
		}
	}
	m.state = s
	return i
}

// numbers crosses a run of numbers in an array (embeddings, logprobs:
// what big bodies are mostly made of) without the state machine, each
// number whole within p. It returns i when the first one is not (it
// goes on in the next write, or is not a number): the state machine
// reads it. Between an array's elements the capture hooks have nothing
// to do (no key comes between them), so they are not called.
func (m *BodyMeter) numbers(p []byte, i int) int {
	for {
		j := numberEnd(p, i)
		if j < 0 {
			return i
		}
		m.state = sAfter
		j = jsonscan.SkipSpace(p, j)
		if j == len(p) || p[j] != ',' {
			return j // ']', or what sAfter will judge
		}
		m.state = sValue
		k := jsonscan.SkipSpace(p, j+1)
		if k == len(p) || p[k] != '-' && !isDigit(p[k]) {
			return k
		}
		i = k
	}
}

// numberEnd is the end of the number at p[i], or -1 when there is none
// or it does not end within p.
func numberEnd(p []byte, i int) int {
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && '1' <= p[i] && p[i] <= '9':
		i = digitsEnd(p, i+1)
	default:
		return -1
	}
	if i < len(p) && p[i] == '.' {
		if i = digitsEnd(p, i+1); p[i-1] == '.' {
			return -1
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if j := digitsEnd(p, i); j > i {
			i = j
		} else {
			return -1
		}
	}
	if i == len(p) {
		return -1 // it may go on in the next write
	}
	return i
}

func digitsEnd(p []byte, i int) int {
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	return i
}

// numberTable is numberNext for every number state and byte, sAfter
// where the number ended before the byte: one load a byte.
var numberTable = func() (t [sExpDigits - sNeg + 1][256]scanState) {
	for s := sNeg; s <= sExpDigits; s++ {
		for c := range 256 {
			next, ends := numberNext(s, byte(c))
			if ends {
				next = sAfter
			}
			t[s-sNeg][c] = next
		}
	}
	return t
}()

// numberNext is the number state after c (JSON's number grammar); ends
// reports that c is past the end of a complete number.
func numberNext(s scanState, c byte) (next scanState, ends bool) {
	digit := isDigit(c)
	exp := c == 'e' || c == 'E'
	switch {
	case s == sNeg && c == '0':
		return sZero, false
	case (s == sNeg || s == sInt) && digit:
		return sInt, false
	case (s == sZero || s == sInt) && c == '.':
		return sDot, false
	case (s == sZero || s == sInt || s == sFrac) && exp:
		return sExp, false
	case (s == sDot || s == sFrac) && digit:
		return sFrac, false
	case s == sExp && (c == '+' || c == '-'):
		return sExpSign, false
	case (s == sExp || s == sExpSign || s == sExpDigits) && digit:
		return sExpDigits, false
	case s == sZero || s == sInt || s == sFrac || s == sExpDigits:
		return s, true
	}
	return sError, false
}

func (m *BodyMeter) fail(i int) int {
	m.state = sError
	return i
}
