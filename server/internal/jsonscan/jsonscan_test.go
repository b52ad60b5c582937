package jsonscan

import (
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
