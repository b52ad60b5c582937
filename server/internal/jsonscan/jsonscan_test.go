package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSkipValueFindsTheEndOfEachKind(t *testing.T) {
	cases := map[string]int{
		`"a\"b" ,`:           6,
		`"a\\" ,`:            5,
		`{"x":[1,"]",{}]} ,`: 16,
		`123 ,`:              3,
		`true}`:              4,
		`[`:                  1,
		`"unterminated`:      13,
		`{"a":"}"}`:          9,
	}
	for in, want := range cases {
		if got := SkipValue([]byte(in), 0); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
}

func FuzzSkipValueStaysInBounds(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":"c\"d"}]}`), 0)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		if got := SkipValue(b, i); got < i || got > len(b) {
			t.Fatalf("SkipValue(%q, %d) = %d", b, i, got)
		}
		if got := SkipSpace(b, i); got < i || got > len(b) {
			t.Fatalf("SkipSpace = %d", got)
		}
		Members(b, func(_, _ []byte) {}) // garbage never panics
	})
}

func TestMembersWalksOnlyTheTopLevelInOrder(t *testing.T) {
	var got []string
	Members([]byte(` { "a" : 1 , "b":{"a":2},"c":[ "x" ,{}] ,"d":"}" } `), func(key, value []byte) {
		got = append(got, string(key)+"="+string(value))
	})
	want := []string{`"a"=1`, `"b"={"a":2}`, `"c"=[ "x" ,{}]`, `"d"="}"`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
	Members([]byte(`[{"a":1}]`), func(_, _ []byte) { t.Fatal("an array has no members") })
}

func TestKeyIsUnescapesButNeverFoldsCase(t *testing.T) {
	for key, want := range map[string]bool{
		`"model"`: true, `"mod\u0065l"`: true, `"MODEL"`: false, `"model "`: false, `"mod\"el"`: false,
	} {
		if KeyIs([]byte(key), "model") != want {
			t.Errorf("KeyIs(%s, model) != %v", key, want)
		}
	}
}

func TestIterWalksOnlyTheTopLevelInOrder(t *testing.T) {
	var got []string
	for it := Object([]byte(` { "a" : 1 , "b":{"a":2},"c":[ "x" ,{}] ,"d":"}" } `)); ; {
		key, value, ok := it.Member()
		if !ok {
			break
		}
		got = append(got, string(key)+"="+string(value))
	}
	want := []string{`"a"=1`, `"b"={"a":2}`, `"c"=[ "x" ,{}]`, `"d"="}"`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("members: got %q, want %q", got, want)
	}
	got = got[:0]
	for it := Array([]byte(` [ 1 , {"a":[2]},"]",[ [] ] ,null] `)); ; {
		value, ok := it.Element()
		if !ok {
			break
		}
		got = append(got, string(value))
	}
	want = []string{`1`, `{"a":[2]}`, `"]"`, `[ [] ]`, `null`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("elements: got %q, want %q", got, want)
	}
	for _, none := range []string{`[]`, ` [ ] `, `{"a":[1]}`, `[,]`, `"x"`, ``} {
		it := Array([]byte(none))
		if v, ok := it.Element(); ok {
			t.Errorf("Array(%s) has element %s", none, v)
		}
	}
	for _, none := range []string{`{}`, `{ }`, `[{"a":1}]`, `{,}`, `null`, ``} {
		it := Object([]byte(none))
		if k, _, ok := it.Member(); ok {
			t.Errorf("Object(%s) has member %s", none, k)
		}
	}
}

// FuzzIterMatchesMembers checks Iter against Members on valid JSON, and
// that it ends without panicking on any bytes (Members may panic there).
func FuzzIterMatchesMembers(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":2}],"c":"d"}`))
	f.Add([]byte(`[1,[2],{"a":3},"x"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got []string
		valid := json.Valid(b)
		if valid {
			Members(b, func(key, value []byte) { want = append(want, string(key)+"="+string(value)) })
		}
		it := Object(b)
		for n := 0; ; n++ {
			key, value, ok := it.Member()
			if !ok {
				break
			}
			if n > len(b) {
				t.Fatal("Member does not end")
			}
			got = append(got, string(key)+"="+string(value))
		}
		if valid && strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("Iter %q, Members %q", got, want)
		}
		it = Array(b)
		for n := 0; ; n++ {
			value, ok := it.Element()
			if !ok {
				break
			}
			if n > len(b) || len(value) == 0 {
				t.Fatalf("Element gives %q (%d)", value, n)
			}
		}
	})
}

func TestDecodedLenAndAppendStringDecodeAsEncodingJSON(t *testing.T) {
	cases := map[string]string{
		`""`:                   "",
		`"plain"`:              "plain",
		`"a\nb\"c\\d\/e"`:      "a\nb\"c\\d/e",
		`"\b\f\n\r\t"`:         "\b\f\n\r\t",
		`"caf\u00e9"`:          "café",
		`"caf\u00E9"`:          "café",
		`"\u0000\u007f\u0080"`: "\x00\x7f\u0080",
		`"\u20ac"`:             "€",
		`"\ud83d\ude00"`:       "😀",
		`"\ud83d"`:             "\ufffd",
		`"\ude00\ud83d"`:       "\ufffd\ufffd",
		`"\ud83dx"`:            "\ufffdx",
		`"\ud83d\u0041"`:       "\ufffdA",
		`"\ud83d\ud83d\ude00"`: "\ufffd😀",
		`"\ud83d\n"`:           "\ufffd\n",
		"\"\xff\"":             "\ufffd",
		"\"\xe2\x82\"":         "\ufffd\ufffd",
		"\"\xed\xa0\x80\"":     "\ufffd\ufffd\ufffd", // an encoded surrogate
		"\"\xef\xbf\xbd\"":     "\ufffd",
		"\"é😀\"":               "é😀",
	}
	for in, want := range cases {
		var ref string
		if err := json.Unmarshal([]byte(in), &ref); err != nil || ref != want {
			t.Fatalf("test case %q: encoding/json gives %q (%v), not %q", in, ref, err, want)
		}
		if got := DecodedLen([]byte(in)); got != len(want) {
			t.Errorf("DecodedLen(%q) = %d, want %d", in, got, len(want))
		}
		if got := AppendString([]byte("x"), []byte(in)); string(got) != "x"+want {
			t.Errorf("AppendString(%q) = %q, want %q", in, got, "x"+want)
		}
	}
}

func FuzzDecodedLenMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d\ude00\ud800\n"`, "\"\xff\xc3\"", `"\\\"\/"`, `"`, `"\u12"`, `x\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		n, s := DecodedLen(v), AppendString(nil, v) // never panic
		var ref string
		// A raw string value: json.Unmarshal would also take spaces around.
		if len(v) == 0 || v[0] != '"' || v[len(v)-1] != '"' || json.Unmarshal(v, &ref) != nil {
			return
		}
		if n != len(ref) || string(s) != ref {
			t.Fatalf("%q: DecodedLen %d, AppendString %q; encoding/json %q", v, n, s, ref)
		}
	})
}

// Members, the callback walk Iter replaced, stays as its reference:
// it calls fn with the raw quoted key and the raw value of each
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
		colon := SkipSpace(b, keyEnd)
		if colon >= len(b) {
			return // truncated: garbage never panics
		}
		start := SkipSpace(b, colon+1)
		end := SkipValue(b, start)
		fn(b[i:keyEnd], b[start:end])
		if i = SkipSpace(b, end); i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
}

func TestAppendFoldAgreesWithFold(t *testing.T) {
	for _, key := range []string{`"model"`, `"MODEL"`, `"max_tokens"`, `"maxTokens"`, `"\u017ftream"`, `"ſtream"`, `"\u212a"`, `"a\"b"`, `""`, `"_"`} {
		var decoded string
		if err := json.Unmarshal([]byte(key), &decoded); err != nil {
			t.Fatal(err)
		}
		if got, want := string(AppendFold(nil, []byte(key))), Fold(decoded); got != want {
			t.Errorf("AppendFold(%s) = %q, Fold = %q", key, got, want)
		}
	}
}
