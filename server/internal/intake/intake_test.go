package intake

import (
	"net/http/httptest"
	"testing"
)

// fakeToken has the shape of a token (five canonical base64url parts);
// ct tells tokens apart.
func fakeToken(ct string) string {
	return "eyJhbGciOiJkaXIifQ..AAAAAAAAAAAAAAAA." + ct + ".AAAAAAAAAAAAAAAAAAAAAA"
}

var (
	tokA, tokX, tokQ, tokK = fakeToken("QUFB"), fakeToken("WFhY"), fakeToken("UVFR"), fakeToken("S0tL")
)

func TestPathTokenIsSplitFromTheForwardedPath(t *testing.T) {
	r := httptest.NewRequest("POST", "/t/"+tokA+"/v1/chat/completions?a=1&token=x&key=y&b=2", nil)
	f, p := Extract(r, r.URL.EscapedPath())
	if p != OK || f.Token != tokA || f.Location != InPath || f.Path != "/v1/chat/completions" || f.RawQuery != "a=1&b=2" {
		t.Fatalf("%+v %v", f, p)
	}
}

func TestA1xQueryTokenURLLeavesNeitherTokenNorRaiHashInTheQuery(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions?token="+tokQ+"&rai_hash=5e884898da28&a=1", nil)
	f, p := Extract(r, r.URL.EscapedPath())
	if p != OK || f.Token != tokQ || f.Location != InQueryToken || f.RawQuery != "a=1" {
		t.Fatalf("%+v %v", f, p)
	}
}

func TestTokenLocationsInOrder(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/models?token="+tokQ+"&key="+tokK, nil)
	r.Header.Set("x-api-key", tokX)
	r.Header.Set("Authorization", "Bearer "+tokA)
	f, _ := Extract(r, r.URL.EscapedPath())
	if f.Token != tokA || f.Location != InAuthorization {
		t.Fatalf("%+v", f)
	}
	r.Header.Del("Authorization")
	if f, _ = Extract(r, r.URL.EscapedPath()); f.Token != tokX {
		t.Fatalf("%+v", f)
	}
	r.Header.Del("x-api-key")
	if f, _ = Extract(r, r.URL.EscapedPath()); f.Token != tokQ || f.Location != InQueryToken {
		t.Fatalf("%+v", f)
	}
	r = httptest.NewRequest("GET", "/v1/models?key="+tokK, nil)
	if f, _ = Extract(r, r.URL.EscapedPath()); f.Token != tokK || f.Location != InQueryKey {
		t.Fatalf("%+v", f)
	}
	r = httptest.NewRequest("GET", "/v1/models", nil)
	r.Header.Set("Authorization", "Basic abc")
	if _, p := Extract(r, r.URL.EscapedPath()); p != NoToken {
		t.Fatalf("basic auth is not a token: %v", p)
	}
}

func TestSafePathRefusesEveryWayOut(t *testing.T) {
	for _, bad := range []string{"/v1/../admin", "/v1/%2e%2e/x", "/v1/%2E%2e/x", "//evil.example/x", "/v1//x",
		"/v1/a%2fb", "/v1/a%5cb", "/v1/./x", "/v1/%00", "/v1/%zz", "v1/x"} {
		if SafePath(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"/", "/v1/chat/completions", "/v1/models/", "/v1beta/models/gemini:generateContent", "/v1/files/file-abc%20x"} {
		if !SafePath(good) {
			t.Errorf("%q refused", good)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add("/t/abc/v1/chat/completions", "token=x&a=1", "Bearer y")
	f.Add("/v1/%2e%2e/x", "key=k", "")
	f.Fuzz(func(t *testing.T, path, query, auth string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", auth)
		found, p := Extract(r, path)
		if p == OK && !SafePath(found.Path) {
			t.Fatalf("unsafe path %q accepted", found.Path)
		}
	})
}
