package rewrite

import (
	"encoding/json"
	"errors"
	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// ErrNotObject is a body that is not a JSON object: nothing to rewrite in it.
var ErrNotObject = errors.New("rewrite: the body is not a JSON object")

// member is one top-level member, both parts as raw bytes.
type member struct {
	key   []byte // quotes and escapes as written
	value []byte
}

// object is a JSON object as its ordered members: re-emitting it keeps
// every member byte for byte, numbers included, except those replaced.
type object []member

func parseObject(body []byte) (object, error) {
	if !valid(body) {
		return nil, ErrNotObject
	}
	trimmed := body[jsonscan.SkipSpace(body, 0):]
	if trimmed[0] != '{' {
		return nil, ErrNotObject
	}
	var o object
	for k, v := range objectMembers(trimmed) {
		o = append(o, member{k, v})
	}
	return o, nil
}

// get is the value of the last member named key, as a provider reading
// a duplicated key would take it; nil when there is none.
func (o object) get(key string) []byte {
	var v []byte
	for _, m := range o {
		if keyIs(m.key, key) {
			v = m.value
		}
	}
	return v
}

func (o object) add(key string, value []byte) object {
	quoted, _ := json.Marshal(key)
	return append(o, member{quoted, value})
}

// encode writes the object compactly between members; members keep
// their bytes.
func (o object) encode(sizeHint int) []byte {
	out := make([]byte, 0, sizeHint)
	out = append(out, '{')
	for i, m := range o {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}
