// Package jsonscan skips over JSON values in raw bytes without decoding
// them: the relay reads one member of a large body (a model, a usage
// object) or rewrites a few, and leaves every other byte untouched. It
// assumes well-formed input where it matters and never panics on garbage:
// every index it returns is within 0..len(b).
package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// IsSpace reports JSON insignificant whitespace.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue returns the index just past the value starting at b[i].
func SkipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	for i < len(b) && !IsSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++ // a number, true, false or null
	}
	return i
}

func skipNested(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = SkipString(b, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return len(b)
}

// SkipString returns the index just past the string whose opening quote
// is b[i]: the first quote after it not escaped by an odd run of '\'.
func SkipString(b []byte, i int) int {
	start := i + 1
	for j := start; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return len(b)
		}
		q += j
		slashes := 0
		for k := q - 1; k >= start && b[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
	return len(b)
}

// KeyIs reports whether the raw quoted key decodes to exactly name
// (escapes included, never case-folded as encoding/json's struct fields
// are).
func KeyIs(quoted []byte, name string) bool {
	if PlainString(quoted) {
		return string(quoted[1:len(quoted)-1]) == name
	}
	var key string
	return json.Unmarshal(quoted, &key) == nil && key == name
}

// PlainString reports a quoted JSON string that decodes to its own bytes:
// ASCII, no escapes.
func PlainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Iter reads the members of an object or the elements of an array one
// at a time, so that a reader of nested values nests loops in one
// function instead of callbacks: its stack stays one frame deep however
// deep the values it reads. The value must be well-formed JSON (check
// with json.Valid first); on garbage Iter ends early but never loops
// forever or panics.
type Iter struct {
	b []byte
	i int // the next member or element; len(b) when done
}

// Object returns an Iter over the members of the object that starts at
// b's first non-space byte; anything but an object has none.
func Object(b []byte) Iter { return open(b, '{') }

// Array returns an Iter over the elements of the array that starts at b's
// first non-space byte; anything but an array has none.
func Array(b []byte) Iter { return open(b, '[') }

func open(b []byte, c byte) Iter {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != c {
		return Iter{}
	}
	return Iter{b: b, i: SkipSpace(b, i+1)}
}

// Member returns the raw quoted key and the raw value of the object's next
// member; ok is false after the last one.
func (it *Iter) Member() (key, value []byte, ok bool) {
	b, i := it.b, it.i
	if i >= len(b) || b[i] != '"' {
		it.i = len(b)
		return nil, nil, false
	}
	keyEnd := SkipString(b, i)
	start := min(SkipSpace(b, SkipSpace(b, keyEnd)+1), len(b)) // past ':'
	end := SkipValue(b, start)
	it.next(end)
	return b[i:keyEnd], b[start:end], true
}

// Element returns the raw value of the array's next element; ok is false
// after the last one.
func (it *Iter) Element() (value []byte, ok bool) {
	b, i := it.b, it.i
	end := i
	if i < len(b) && b[i] != ']' {
		end = SkipValue(b, i)
	}
	if end == i { // the end, or garbage
		it.i = len(b)
		return nil, false
	}
	it.next(end)
	return b[i:end], true
}

func (it *Iter) next(end int) {
	i := SkipSpace(it.b, end)
	if i < len(it.b) && it.b[i] == ',' {
		i = SkipSpace(it.b, i+1)
	}
	it.i = i
}

// DecodedLen returns the length in bytes of the string the quoted JSON
// string v decodes to, exactly as encoding/json decodes it, without
// decoding it: each escape counts the UTF-8 length of its character (a
// \u surrogate pair 4 bytes, a lone surrogate 3 for U+FFFD) and each byte
// of invalid UTF-8 counts 3, for the U+FFFD that replaces it. v must be a
// well-formed JSON string; on anything else the result is meaningless but
// DecodedLen does not panic.
func DecodedLen(v []byte) int {
	s := quotedContent(v)
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c != '\\' {
			n++
			i++
			continue
		}
		var r rune
		r, i = nextRune(s, i)
		n += runeLen(r)
	}
	return n
}

// AppendString appends the string the quoted JSON string v decodes to,
// exactly as encoding/json decodes it (see DecodedLen), to dst. v must be
// a well-formed JSON string; on anything else the result is meaningless
// but AppendString does not panic.
func AppendString(dst, v []byte) []byte {
	s := quotedContent(v)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		var r rune
		r, i = nextRune(s, i)
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// quotedContent strips the quotes of a JSON string.
func quotedContent(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// runeLen is the number of bytes utf8.EncodeRune writes for r.
func runeLen(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return 3 // EncodeRune writes U+FFFD for what RuneLen rejects
}

// nextRune decodes the character at s[i] of a string's content (an
// escape or a non-ASCII byte sequence) and returns it with the index past
// it. It mirrors encoding/json's unquote: invalid UTF-8 gives U+FFFD one
// byte at a time, a \u high surrogate followed by a \u low surrogate is
// one rune, any other surrogate is U+FFFD.
func nextRune(s []byte, i int) (rune, int) {
	if s[i] != '\\' {
		r, size := utf8.DecodeRune(s[i:])
		return r, i + size
	}
	if i+1 >= len(s) {
		return utf8.RuneError, len(s) // malformed
	}
	switch c := s[i+1]; c {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := getu4(s[i:])
		if r < 0 {
			return utf8.RuneError, i + 2 // malformed
		}
		if utf16.IsSurrogate(r) {
			if pair := utf16.DecodeRune(r, getu4(s[i+6:])); pair != utf8.RuneError {
				return pair, i + 12
			}
			return utf8.RuneError, i + 6
		}
		return r, i + 6
	default: // '"', '\\', '/' (anything else is malformed)
		return rune(c), i + 2
	}
}

// getu4 decodes the \uXXXX escape at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// Fold maps a key to what the most lenient servers match it as: Go's
// encoding/json matches struct fields case-insensitively with Unicode
// simple folding ("ſ" is "s", the Kelvin sign is "k"), proto3 JSON
// parsers take snake_case and lowerCamelCase alike. Two keys that fold
// alike may name the same member at some provider: underscores are
// dropped, each rune replaced by the smallest of its folding orbit.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '_' {
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// AppendFold appends the Fold of the quoted JSON string key to dst,
// without decoding or allocating for plain ASCII keys (the case of every
// real key): each letter's smallest folding is its upper case.
func AppendFold(dst, quoted []byte) []byte {
	if !PlainString(quoted) {
		return append(dst, Fold(string(AppendString(nil, quoted)))...)
	}
	for _, c := range quoted[1 : len(quoted)-1] {
		switch {
		case c == '_':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
