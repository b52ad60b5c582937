package rewrite

import (
	"bytes"
	"encoding/json"
	"iter"
)

// The scanner below walks JSON that json.Valid has accepted, slicing
// values out of the original bytes instead of decoding them: a body of
// megabytes (base64 images) is read once and never copied or re-encoded.
// It stays in bounds on any input, but only valid JSON gives sense.

// objectMembers yields the raw key (quotes included) and raw value of
// each member of the object obj, in order.
func objectMembers(obj []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		i := skipSpace(obj, 1)
		for i < len(obj) && obj[i] == '"' {
			keyEnd := skipString(obj, i)
			colon := skipSpace(obj, keyEnd)
			start := skipSpace(obj, min(colon+1, len(obj)))
			end := skipValue(obj, start)
			if !yield(obj[i:keyEnd], obj[start:end]) {
				return
			}
			i = skipSpace(obj, end)
			if i < len(obj) && obj[i] == ',' {
				i = skipSpace(obj, i+1)
			}
		}
	}
}

// arrayElements yields each raw element of the array arr.
func arrayElements(arr []byte) iter.Seq[[]byte] {
	return func(yield func(elem []byte) bool) {
		i := skipSpace(arr, 1)
		for i < len(arr) && arr[i] != ']' {
			end := max(skipValue(arr, i), i+1)
			if !yield(arr[i:end]) {
				return
			}
			i = skipSpace(arr, end)
			if i < len(arr) && arr[i] == ',' {
				i = skipSpace(arr, i+1)
			}
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the value starting at b[i].
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
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
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

// skipString returns the index just past the string whose opening quote
// is b[i]: the first quote after it not escaped by an odd run of '\'.
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

// keyIs reports whether the raw key names want once unescaped. Matching
// is exact, as providers match; encoding/json's case folding is not.
func keyIs(rawKey []byte, want string) bool {
	if len(rawKey) < 2 {
		return false
	}
	inner := rawKey[1 : len(rawKey)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == want
	}
	var s string
	return json.Unmarshal(rawKey, &s) == nil && s == want
}

// stringIs reports whether the raw value is the JSON string want.
func stringIs(raw []byte, want string) bool {
	return len(raw) > 0 && raw[0] == '"' && keyIs(raw, want)
}
