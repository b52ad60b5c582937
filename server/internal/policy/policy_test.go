package policy

import (
	"net/netip"
	"testing"

	"github.com/relayapi/relayapi/sdk/go/token"
)

func TestPatternMatching(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"gpt-4o", "gpt-4o", true}, {"gpt-4o", "gpt-4o-mini", false}, {"gpt-4o*", "gpt-4o-mini", true},
		{"*", "", true}, {"*mini", "gpt-4o-mini", true}, {"gpt-*-mini", "gpt-4o-mini", true},
		{"gpt-*-mini", "gpt-4o", false}, {"/v1/chat/*", "/v1/chat/completions", true},
		{"a*b*c", "abc", true}, {"a*b*c", "acb", false}, {"GPT*", "gpt-4o", false},
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestOriginsExactWildcardAndCase(t *testing.T) {
	entries := []string{"https://app.example.com", "https://*.example.org"}
	for origin, want := range map[string]bool{
		"https://app.example.com": true, "HTTPS://APP.EXAMPLE.COM": true, "http://app.example.com": false,
		"https://a.example.org": true, "https://example.org": false, "https://evil-example.org": false, "": false,
	} {
		if got := OriginMatches(entries, origin); got != want {
			t.Errorf("%q: %v", origin, got)
		}
	}
}

func TestIPsAndMappedAddresses(t *testing.T) {
	tok := Compile(&token.Claims{IPs: []string{"10.0.0.0/8", "2001:db8::1"}})
	for ip, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "11.0.0.1": false, "2001:db8::1": true, "2001:db8::2": false} {
		if got := tok.IPAllowed(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s: %v", ip, got)
		}
	}
	if !Compile(&token.Claims{}).IPAllowed(netip.Addr{}) {
		t.Error("a token without ips must allow any address")
	}
}
