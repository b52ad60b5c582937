package credentials

import (
	"encoding/json"
	"strings"
	"testing"
)

const secret = "sk-proj-THISISASECRETVALUE0123456789"

func TestRefNeedsExactlyOneSource(t *testing.T) {
	cases := []struct {
		ref Ref
		ok  bool
	}{
		{Ref{Env: "OPENAI_API_KEY"}, true},
		{Ref{File: "/run/secrets/openai"}, true},
		{Ref{}, false},
		{Ref{Env: "A", File: "/b"}, false},
	}
	for _, c := range cases {
		if err := c.ref.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", c.ref, err, c.ok)
		}
	}
}

func TestRefDecodesFromConfigShape(t *testing.T) {
	var refs []Ref
	err := json.Unmarshal([]byte(`[{"env":"OPENAI_API_KEY"},{"file":"/run/secrets/openai"}]`), &refs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{{Env: "OPENAI_API_KEY"}, {File: "/run/secrets/openai"}}
	if len(refs) != 2 || refs[0] != want[0] || refs[1] != want[1] {
		t.Fatalf("got %+v, want %+v", refs, want)
	}
}

func TestInlineOrUnknownKeysAreRejectedWithoutEchoingThem(t *testing.T) {
	for _, doc := range []string{
		`["` + secret + `"]`,
		`[{"key":"` + secret + `"}]`,
		`[{"env":"A","file":"/b"}]`,
		`[null]`,
	} {
		var refs []Ref
		err := json.Unmarshal([]byte(doc), &refs)
		if err == nil {
			t.Errorf("%s: accepted", doc)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}
