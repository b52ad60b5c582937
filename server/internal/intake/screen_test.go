package intake

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
)

func vectorTokens(t testing.TB) (valid, invalid map[string]string) {
	t.Helper()
	data, err := os.ReadFile("../../../testdata/vectors/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Vectors []struct {
			Name, Token, Error string
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	valid, invalid = map[string]string{}, map[string]string{}
	for _, v := range s.Vectors {
		if v.Error == "" || v.Error == "token_expired" || v.Error == "token_not_yet_valid" {
			valid[v.Name] = v.Token
		} else {
			invalid[v.Name] = v.Token
		}
	}
	return valid, invalid
}

func TestEveryMintedVectorIsWellFormed(t *testing.T) {
	valid, invalid := vectorTokens(t)
	if len(valid) < 8 {
		t.Fatalf("only %d decodable vectors", len(valid))
	}
	for name, tok := range valid {
		if !WellFormed(tok) || Screen(tok) != tok {
			t.Errorf("%s: a token minted by a JOSE library was screened out", name)
		}
	}
	// Vectors broken in their shape are screened; the others (wrong key,
	// tampered bytes, bad claims) have a token's shape and reach the keyring.
	for _, name := range []string{"empty", "aes-non-base64", "aes-six-parts", "aes-truncated", "aes-oversized"} {
		if WellFormed(invalid[name]) || Screen(invalid[name]) != Malformed {
			t.Errorf("%s passed the screen", name)
		}
	}
}

func TestScreenRefusesASecondSpellingOfAToken(t *testing.T) {
	valid, _ := vectorTokens(t)
	tok := valid["aes-valid-minimal"]
	parts := strings.Split(tok, ".")
	respelled := 0
	for i, p := range parts {
		if len(p)%4 < 2 {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		// Set an unused low bit of the last character: a lenient decoder
		// reads the very same bytes.
		last := strings.IndexByte(alphabet, p[len(p)-1]) | 1
		q := p[:len(p)-1] + alphabet[last:last+1]
		same, err := base64.RawURLEncoding.DecodeString(q)
		if err != nil || string(same) != string(raw) {
			t.Fatalf("part %d: %q does not decode leniently to the same bytes", i, q)
		}
		other := append([]string(nil), parts...)
		other[i] = q
		if s := Screen(strings.Join(other, ".")); s != Malformed {
			t.Errorf("part %d: non-canonical spelling passed the screen", i)
		}
		respelled++
	}
	if respelled == 0 {
		t.Fatal("the vector has no part with unused bits; the test proves nothing")
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestScreenedTokensNeverDecode(t *testing.T) {
	if _, err := token.NewKeyring().Open(Malformed); err == nil {
		t.Fatal("the stand-in for a malformed token decoded")
	}
}

// FuzzWellFormed checks the hand-written base64url check against the
// standard library's strict decoder, part by part.
func FuzzWellFormed(f *testing.F) {
	f.Add("eyJhbGciOiJkaXIifQ..AAAAAAAAAAAAAAAA.QUJD.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("a.b.c.d.e")
	f.Add("AB.AC.AAA.AAB.A-_")
	f.Add("....")
	f.Fuzz(func(t *testing.T, tok string) {
		want := len(tok) <= token.MaxTokenSize && strings.Count(tok, ".") == 4
		if want {
			for _, p := range strings.Split(tok, ".") {
				if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil || strings.ContainsAny(p, "\r\n") {
					want = false
				}
			}
		}
		if got := WellFormed(tok); got != want {
			t.Fatalf("WellFormed(%q) = %v, strict decoding says %v", tok, got, want)
		}
		if s := Screen(tok); s != tok && s != Malformed {
			t.Fatalf("Screen returned %q", s)
		}
	})
}

// FuzzSafePath builds the upstream URL the way the relay does (provider
// prefix + forwarded path) for every path SafePath accepts, and checks the
// request target a client library would send: same host, still under the
// prefix, no dot segment, nothing that could end the request line.
func FuzzSafePath(f *testing.F) {
	for _, s := range []string{"/v1/chat/completions", "/v1/%2e%2e/x", "//evil.example/x", "/v1/a%2fb", "/@evil.example/x",
		"/v1/%5c..%5cx", "/v1/%0d%0aX-Evil:%201", "/v1/ x", "/v1/%zz", "/v1/..;/x", "/v1/.%2e/x", "/%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		if !SafePath(escaped) {
			return
		}
		const prefix = "/compatible-mode"
		raw := prefix + escaped
		dec, err := url.PathUnescape(raw)
		if err != nil {
			t.Fatalf("SafePath accepted %q, which does not unescape", escaped)
		}
		u := &url.URL{Scheme: "http", Host: "up.example:8080", Path: dec, RawPath: raw}
		target := u.RequestURI()
		if strings.ContainsAny(target, " \r\n\t\x00") {
			t.Fatalf("request target %q could break the request line", target)
		}
		back, err := url.Parse("http://up.example:8080" + target)
		if err != nil {
			t.Fatalf("target %q does not parse: %v", target, err)
		}
		if back.Host != "up.example:8080" || back.User != nil {
			t.Fatalf("target %q changes the authority to %q", target, back.Host)
		}
		if !strings.HasPrefix(back.Path, prefix+"/") || !strings.HasPrefix(path.Clean(back.Path)+"/", prefix+"/") {
			t.Fatalf("target %q leaves %s (path %q)", target, prefix, back.Path)
		}
		segs := strings.Split(back.Path[1:], "/")
		for i, seg := range segs {
			if seg == "." || seg == ".." || strings.Contains(seg, "\\") || (seg == "" && i != len(segs)-1) {
				t.Fatalf("target %q has segment %q", target, seg)
			}
		}
	})
}
