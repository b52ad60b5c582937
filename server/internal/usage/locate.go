package usage

import (
	"bytes"
	"strings"
)

// Providers put "usage" at the end of the root object, after what may be
// megabytes of content (embeddings, long completions). topLevelUsage finds
// that member from the end and checks that only the root's closing brace
// follows its container, instead of decoding the whole body: the body is
// trusted to be the JSON the provider sent, and keys are matched exactly
// as written. decided is false when the search gives up and the caller
// must decode in full.
func topLevelUsage(body []byte) (value []byte, decided bool) {
	const maxCandidates = 8
	end := len(body)
	for range maxCandidates {
		k := bytes.LastIndex(body[:end], usageKey)
		if k < 0 {
			return nil, true
		}
		if v, ok := memberValueAt(body, k); ok {
			return v, true
		}
		end = k
	}
	return nil, false
}

var usageKey = []byte(`"usage"`)

// memberValueAt returns the value of the key at body[k] when it is a
// member of the root object.
func memberValueAt(body []byte, k int) ([]byte, bool) {
	if k > 0 && body[k-1] == '\\' {
		return nil, false // inside a string
	}
	colon := skipSpace(body, k+len(usageKey))
	if colon >= len(body) || body[colon] != ':' {
		return nil, false // a string value, not a key
	}
	start := skipSpace(body, colon+1)
	end := skipValue(body, start)
	if !closesRoot(body, end) {
		return nil, false
	}
	return body[start:end], true
}

// closesRoot reports whether the container open at body[i:] closes with
// the body's last non-space byte.
func closesRoot(body []byte, i int) bool {
	depth := 0
	for i < len(body) {
		switch body[i] {
		case '"':
			i = skipString(body, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return skipSpace(body, i+1) == len(body)
			}
			depth--
		}
		i++
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scalarEnd holds the bytes that end a number, true, false or null.
const scalarEnd = " \t\r\n,}]"

// skipValue returns the index just past the value at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	for i < len(b) && strings.IndexByte(scalarEnd, b[i]) < 0 {
		i++ // a number, true, false or null
	}
	return i
}

func skipNested(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
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

// skipString returns the index just past the string opened at b[i].
func skipString(b []byte, i int) int {
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
