package usage

import (
	"bytes"
	"github.com/relayapi/relayapi/server/internal/jsonscan"
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
	colon := jsonscan.SkipSpace(body, k+len(usageKey))
	if colon >= len(body) || body[colon] != ':' {
		return nil, false // a string value, not a key
	}
	start := jsonscan.SkipSpace(body, colon+1)
	end := jsonscan.SkipValue(body, start)
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
			i = jsonscan.SkipString(body, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return jsonscan.SkipSpace(body, i+1) == len(body)
			}
			depth--
		}
		i++
	}
	return false
}
