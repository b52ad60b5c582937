package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

func newClaims(now time.Time) *token.Claims {
	return &token.Claims{
		ID: "roundtrip-0123456789abcdef", ExpiresAt: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(),
		Provider: "openai", APIKey: "sk-test-roundtrip", MaxCalls: 3, Models: []string{"gpt-4o*"},
		Origins: []string{"https://app.example.com"}, IPs: []string{"127.0.0.1", "::1/128"},
		ModelMap: map[string]string{"fast": "gpt-4o-mini"}, Meta: map[string]string{"k": "v"},
	}
}

func generated(t *testing.T, method token.Method) (*token.MintKey, *token.Keyring) {
	t.Helper()
	var backend, relay *rai.File
	var err error
	if method == token.MethodAES {
		backend, err = rai.GenerateAES(rai.Server{})
		relay = backend
	} else {
		backend, relay, err = rai.GenerateECC(rai.Server{})
	}
	if err != nil {
		t.Fatal(err)
	}
	mint, err := backend.MintKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeyring()
	if err := relay.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	return mint, keys
}

func TestRoundTripPreservesEveryClaim(t *testing.T) {
	for _, method := range []token.Method{token.MethodAES, token.MethodECC} {
		t.Run(string(method), func(t *testing.T) {
			mint, keys := generated(t, method)
			now := time.Now()
			want := newClaims(now)
			tok, err := token.Encode(want, mint)
			if err != nil {
				t.Fatal(err)
			}
			got, err := token.Decode(tok, keys, now)
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := got.MarshalJSON()
			wantJSON, _ := want.MarshalJSON()
			assertSameJSON(t, gotJSON, wantJSON)
		})
	}
}

func TestTokensOfOneMethodAreRejectedByAKeyringOfAnother(t *testing.T) {
	aesMint, aesKeys := generated(t, token.MethodAES)
	eccMint, eccKeys := generated(t, token.MethodECC)
	now := time.Now()
	aesTok, _ := token.Encode(newClaims(now), aesMint)
	eccTok, _ := token.Encode(newClaims(now), eccMint)
	if _, err := token.Decode(aesTok, eccKeys, now); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("aes token at ecc relay: %v", err)
	}
	if _, err := token.Decode(eccTok, aesKeys, now); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("ecc token at aes relay: %v", err)
	}
}

func TestKeyringAcceptsSeveralKeysAtOnce(t *testing.T) {
	a, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	eb, er, err := rai.GenerateECC(rai.Server{})
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeyring()
	for _, f := range []*rai.File{a, b, er} {
		if err := f.AddTo(keys); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, f := range []*rai.File{a, b, eb} {
		mint, err := f.MintKey()
		if err != nil {
			t.Fatal(err)
		}
		tok, err := token.Encode(newClaims(now), mint)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.Decode(tok, keys, now); err != nil {
			t.Fatalf("%s key: %v", mint.Method(), err)
		}
	}
}

func TestEncodeRefusesInvalidClaims(t *testing.T) {
	mint, _ := generated(t, token.MethodAES)
	now := time.Now()
	cases := map[string]func(c *token.Claims){
		"missing jti":     func(c *token.Claims) { c.ID = "" },
		"missing exp":     func(c *token.Claims) { c.ExpiresAt = 0 },
		"bad provider":    func(c *token.Claims) { c.Provider = "Open AI" },
		"negative calls":  func(c *token.Claims) { c.MaxCalls = -1 },
		"bad cidr":        func(c *token.Claims) { c.IPs = []string{"300.0.0.1"} },
		"origin path":     func(c *token.Claims) { c.Origins = []string{"https://a.com/x"} },
		"nbf after exp":   func(c *token.Claims) { c.NotBefore = c.ExpiresAt + 1 },
		"key with space":  func(c *token.Claims) { c.APIKey = "sk abc" },
		"empty models":    func(c *token.Claims) { c.Models = []string{} },
		"relative path":   func(c *token.Claims) { c.Paths = []string{"v1/chat"} },
		"rpm too large":   func(c *token.Claims) { c.RPM = 2_000_000 },
		"session 86401":   func(c *token.Claims) { c.MaxSessionSeconds = 86_401 },
		"session -1":      func(c *token.Claims) { c.MaxSessionSeconds = -1 },
		"empty meta":      func(c *token.Claims) { c.Meta = map[string]string{} },
		"long model name": func(c *token.Claims) { c.Models = []string{strings.Repeat("m", 300)} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClaims(now)
			mutate(c)
			if _, err := token.Encode(c, mint); err == nil {
				t.Fatal("encoded invalid claims")
			}
		})
	}
}

func TestTimeChecksHonourTheLeeway(t *testing.T) {
	c := &token.Claims{ExpiresAt: 1000, NotBefore: 500}
	cases := []struct {
		now  int64
		want error
	}{
		{1000, nil}, {1030, nil}, {1031, token.ErrExpired},
		{470, nil}, {469, token.ErrNotYetValid},
	}
	for _, tc := range cases {
		if err := c.CheckTime(time.Unix(tc.now, 0), 30*time.Second); !errors.Is(err, tc.want) && err != tc.want {
			t.Errorf("now=%d: %v, want %v", tc.now, err, tc.want)
		}
	}
}

func TestAnOversizedTokenIsRejectedBeforeCrypto(t *testing.T) {
	_, keys := generated(t, token.MethodAES)
	_, err := keys.Open(strings.Repeat("A", token.MaxTokenSize+1))
	if !errors.Is(err, token.ErrInvalid) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v", err)
	}
}

func TestOriginSyntax(t *testing.T) {
	good := []string{"*", "https://app.example.com", "http://localhost:5173", "https://*.example.org", "http://[::1]:8080", "http://127.0.0.1:3000"}
	bad := []string{"https://app.example.com/", "HTTPS://APP.example.com", "https://-bad.example", "http://x:0", "http://x:99999", "http://[zz]:1", "app.example.com", "https://a..b"}
	base := newClaims(time.Now())
	for _, o := range good {
		c := *base
		c.Origins = []string{o}
		if err := c.Validate(); err != nil {
			t.Errorf("%q rejected: %v", o, err)
		}
	}
	for _, o := range bad {
		c := *base
		c.Origins = []string{o}
		if err := c.Validate(); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}

func TestPresentButEmptyStringClaimsAreRejected(t *testing.T) {
	for _, name := range []string{"sub", "api_key", "provider", "jti"} {
		data := `{"jti":"0123456789abcdef0123","exp":4102444800,"provider":"openai","` + name + `":""}`
		if _, err := token.ParseClaims([]byte(data)); err == nil {
			t.Errorf("empty %s accepted", name)
		}
	}
}
