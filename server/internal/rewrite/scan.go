package rewrite

import (
	"bytes"
	"encoding/json"
	"github.com/relayapi/relayapi/server/internal/jsonscan"
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
		i := jsonscan.SkipSpace(obj, 1)
		for i < len(obj) && obj[i] == '"' {
			keyEnd := jsonscan.SkipString(obj, i)
			colon := jsonscan.SkipSpace(obj, keyEnd)
			start := jsonscan.SkipSpace(obj, min(colon+1, len(obj)))
			end := jsonscan.SkipValue(obj, start)
			if !yield(obj[i:keyEnd], obj[start:end]) {
				return
			}
			i = jsonscan.SkipSpace(obj, end)
			if i < len(obj) && obj[i] == ',' {
				i = jsonscan.SkipSpace(obj, i+1)
			}
		}
	}
}

// arrayElements yields each raw element of the array arr.
func arrayElements(arr []byte) iter.Seq[[]byte] {
	return func(yield func(elem []byte) bool) {
		i := jsonscan.SkipSpace(arr, 1)
		for i < len(arr) && arr[i] != ']' {
			end := max(jsonscan.SkipValue(arr, i), i+1)
			if !yield(arr[i:end]) {
				return
			}
			i = jsonscan.SkipSpace(arr, end)
			if i < len(arr) && arr[i] == ',' {
				i = jsonscan.SkipSpace(arr, i+1)
			}
		}
	}
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

// keyIsAny reports whether the raw key names one of want.
func keyIsAny(rawKey []byte, want []string) bool {
	for _, w := range want {
		if keyIs(rawKey, w) {
			return true
		}
	}
	return false
}

// stringValue decodes a raw JSON string; anything else is "".
func stringValue(raw []byte) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// keyName is the decoded key.
func keyName(rawKey []byte) string {
	if len(rawKey) >= 2 && bytes.IndexByte(rawKey, '\\') < 0 {
		return string(rawKey[1 : len(rawKey)-1])
	}
	return stringValue(rawKey)
}
