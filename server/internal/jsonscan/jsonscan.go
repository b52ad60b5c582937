// Package jsonscan skips over JSON values in raw bytes without decoding
// them: the relay reads one member of a large body (a model, a usage
// object) or rewrites a few, and leaves every other byte untouched. It
// assumes well-formed input where it matters and never panics on garbage:
// every index it returns is within 0..len(b).
package jsonscan

import (
	"bytes"
	"encoding/json"
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

// Members calls fn with the raw quoted key and the raw value of each
// member of the object that starts at b's first non-space byte. b must be
// well-formed JSON (check with json.Valid first); anything but an object
// has no members.
func Members(b []byte, fn func(key, value []byte)) {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	for i = SkipSpace(b, i+1); i < len(b) && b[i] == '"'; {
		keyEnd := SkipString(b, i)
		start := SkipSpace(b, SkipSpace(b, keyEnd)+1) // past ':'
		end := SkipValue(b, start)
		fn(b[i:keyEnd], b[start:end])
		if i = SkipSpace(b, end); i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
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
