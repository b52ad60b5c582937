// Package policy checks a decoded token's restrictions against a request:
// models, paths, origins and client IPs. Everything here is pure and the
// compiled form is cached with the token.
package policy

import (
	"net/netip"
	"strings"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// Token is a decoded token with its restrictions compiled for checking.
type Token struct {
	Claims *token.Claims
	ips    []netip.Prefix
}

// Compile prepares claims for repeated checks. Claims are already
// validated, so the CIDRs parse.
func Compile(c *token.Claims) *Token {
	t := &Token{Claims: c}
	for _, s := range c.IPs {
		if p, err := token.ParseIPPrefix(s); err == nil {
			t.ips = append(t.ips, p)
		}
	}
	return t
}

// Match reports whether s matches pattern, where `*` matches any run of
// characters (docs/token-format.md §4.1).
func Match(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return strings.HasSuffix(s, last)
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if Match(p, s) {
			return true
		}
	}
	return false
}

// ModelAllowed checks the requested model. A token without `models`
// allows every model; one with `models` needs a model it matches.
func (t *Token) ModelAllowed(model string) bool {
	if len(t.Claims.Models) == 0 {
		return true
	}
	return model != "" && matchAny(t.Claims.Models, model)
}

// RestrictsModels reports whether the token names allowed models.
func (t *Token) RestrictsModels() bool { return len(t.Claims.Models) > 0 }

// RestrictsPaths reports whether the token names allowed paths.
func (t *Token) RestrictsPaths() bool { return len(t.Claims.Paths) > 0 }

// PathAllowed checks the forwarded path (without query).
func (t *Token) PathAllowed(path string) bool {
	return len(t.Claims.Paths) == 0 || matchAny(t.Claims.Paths, path)
}

// IPAllowed checks the client address.
func (t *Token) IPAllowed(ip netip.Addr) bool {
	if len(t.ips) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range t.ips {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// OriginAllowed checks the browser Origin against the token's `origins`.
// A token with `origins` is for browsers: a request without Origin fails.
// ok=false with restricted=false means the token has no `origins`.
func (t *Token) OriginAllowed(origin string) (ok, restricted bool) {
	if len(t.Claims.Origins) == 0 {
		return true, false
	}
	return OriginMatches(t.Claims.Origins, origin), true
}

// OriginMatches checks origin against entries: "*", an exact origin, or a
// wildcard subdomain scheme://*.example.com.
func OriginMatches(entries []string, origin string) bool {
	if origin == "" {
		return false
	}
	origin = strings.ToLower(origin)
	for _, e := range entries {
		if e == "*" || e == origin {
			return true
		}
		scheme, host, ok := strings.Cut(e, "://*.")
		if !ok {
			continue
		}
		oScheme, oHost, ok := strings.Cut(origin, "://")
		if ok && oScheme == scheme && strings.HasSuffix(oHost, "."+host) {
			return true
		}
	}
	return false
}
