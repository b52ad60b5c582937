package rewrite

import "iter"

// The context checks look for a member anywhere inside messages or input
// items. Real bodies nest a few levels; the walk goes no deeper than
// maxWalkDepth, and a body nested deeper than that is reported as holding
// what was looked for: what the relay cannot check, it refuses.

// elements yields the elements of v when it is an array.
func elements(v []byte) iter.Seq[[]byte] {
	if len(v) == 0 || v[0] != '[' {
		return func(func([]byte) bool) {}
	}
	return arrayElements(v)
}

// deepKey returns key when some object inside v has a member named key
// whose value is not null.
func deepKey(v []byte, key string) string {
	if find(v, func(k, val []byte) bool { return keyIs(k, key) && string(val) != "null" }) {
		return key
	}
	return ""
}

// deepValue returns value when some object inside v has a member key whose
// value is the string value.
func deepValue(v []byte, key, value string) string {
	if find(v, func(k, val []byte) bool { return keyIs(k, key) && stringIs(val, value) }) {
		return value
	}
	return ""
}

// sourceOf names a content block's source the provider fetches: a member
// "source" that is an object whose "type" is one of types.
func sourceOf(v []byte, types ...string) string {
	var found string
	hit := find(v, func(k, val []byte) bool {
		if !keyIs(k, "source") || len(val) == 0 || val[0] != '{' {
			return false
		}
		src, err := parseObject(val)
		if err != nil {
			return false
		}
		for _, t := range types {
			if stringIs(src.get("type"), t) {
				found = "source: " + t
				return true
			}
		}
		return false
	})
	if hit && found == "" {
		return "source (nested too deep to check)"
	}
	return found
}

// find reports whether match holds for some member of some object inside
// v — or whether v nests deeper than maxWalkDepth. Bodies are valid JSON
// (parseObject checked them).
func find(v []byte, match func(key, value []byte) bool) bool {
	return findAt(v, 0, match)
}

func findAt(v []byte, depth int, match func(key, value []byte) bool) bool {
	if len(v) == 0 {
		return false
	}
	if depth > maxWalkDepth {
		return v[0] == '{' || v[0] == '['
	}
	switch v[0] {
	case '{':
		for k, val := range objectMembers(v) {
			if match(k, val) || findAt(val, depth+1, match) {
				return true
			}
		}
	case '[':
		for e := range arrayElements(v) {
			if findAt(e, depth+1, match) {
				return true
			}
		}
	}
	return false
}
