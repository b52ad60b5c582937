package usage

import (
	"github.com/relayapi/relayapi/server/internal/jsonscan"
)

// The stream events are read with jsonscan, not encoding/json: its
// reflection decoder costs ~11 allocations an event and, recursing once
// per nesting level through large frames, grows the stack of the
// goroutine relaying the stream (8 KiB to 16 KiB), which Go keeps for the
// life of the stream. The scan here allocates nothing for ordinary events
// and its stack use is small and bounded: it reads nested values in
// nested loops (jsonscan.Iter), a function per level at most, as deep as
// the fixed shape of the fields it reads and no deeper; every other
// value, however deep, is skipped by jsonscan's loops, which count depth
// instead of recursing. TestMeterStackUse measures it.
//
// The result is what decoding the event into the structs the fields
// belong to gives, with these rules:
//   - An event that is not valid JSON is ignored (json.Valid first, as
//     json.Unmarshal checks before setting anything).
//   - A value of the wrong type (null for a string, a number for an
//     object, an object for an array…) leaves the field as it was.
//   - Keys match exactly after unescaping: encoding/json's
//     case-insensitive fallback ("Usage", "CHOICES", "uſage") is not kept;
//     providers send lowercase keys, and usage.FromJSON has always matched
//     exactly.
//   - A duplicate key: the last string wins for a string field, counts
//     merge one by one (each count's last number wins), objects merge as
//     encoding/json merges them into the same struct; null clears a usage
//     object (a nil pointer) and a "choices" or "tool_calls" array.
//     Where encoding/json differs is a duplicate array: it decodes the
//     second array's elements into the first's, index by index; here the
//     last array replaces the earlier one.

// keyBuf holds an escaped key once decoded; longer keys match nothing we
// read (and only they may allocate).
type keyBuf [32]byte

// typeBuf holds an escaped "type" value once decoded; the longest type
// we act on ("response.function_call_arguments.delta") is 38 bytes.
type typeBuf [64]byte

// memberName is the key as encoding/json decodes it: the raw bytes when
// it is plain ASCII without escapes, else decoded into buf.
func memberName(quoted []byte, buf *keyBuf) []byte {
	if jsonscan.PlainString(quoted) {
		return quoted[1 : len(quoted)-1]
	}
	return jsonscan.AppendString(buf[:0], quoted)
}

// appendDecoded is the decoded string v: plain ones are not copied, the
// others are appended to dst.
func appendDecoded(dst, v []byte) []byte {
	if jsonscan.PlainString(v) {
		return v[1 : len(v)-1]
	}
	return jsonscan.AppendString(dst, v)
}

func isString(v []byte) bool { return len(v) > 0 && v[0] == '"' }
func isNull(v []byte) bool   { return len(v) > 0 && v[0] == 'n' }
func isArray(v []byte) bool  { return len(v) > 0 && v[0] == '[' }

// setLen sets n to the decoded length of a string value; any other type
// leaves it.
func setLen(n *int, value []byte) {
	if isString(value) {
		*n = jsonscan.DecodedLen(value)
	}
}

// read applies a usage value as encoding/json decodes it into a
// *tokenCounts that may hold an earlier duplicate: an object's members
// merge in, null clears it, another type leaves it. (A cleared or absent
// usage reads as nothing, like a nil pointer.)
func (t *tokenCounts) read(value []byte) {
	switch {
	case isNull(value):
		*t = tokenCounts{}
	default:
		t.addMembers(value)
	}
}
