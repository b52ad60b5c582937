// Package intake finds the RelayAPI token in a request (DESIGN.md §4) and
// works out the path and query to forward without it.
package intake

import (
	"net/http"
	"net/url"
	"strings"
)

// Location says where the token was found.
type Location string

const (
	InPath          Location = "path"
	InAuthorization Location = "authorization"
	InXAPIKey       Location = "x-api-key"
	InAPIKey        Location = "api-key"
	InGoogAPIKey    Location = "x-goog-api-key"
	InQueryToken    Location = "query-token"
	InQueryKey      Location = "query-key"
)

// Found is a located token and what to forward.
type Found struct {
	// Token is the token as found, or Malformed in place of one that is
	// not a canonical compact JWE (see Screen).
	Token    string
	Location Location
	// Path is the escaped path to forward (always starts with "/").
	Path string
	// RawQuery is the query to forward, without `token` and `key`.
	RawQuery string
}

// Result of Extract other than success.
type Problem int

const (
	OK Problem = iota
	NoToken
	BadPath
)

// Extract locates the token in r, whose escaped path has already had the
// relay's base path removed (escapedPath). The token is passed through
// Screen.
func Extract(r *http.Request, escapedPath string) (Found, Problem) {
	f, p := extract(r, escapedPath)
	if p == OK {
		f.Token = Screen(f.Token)
	}
	return f, p
}

func extract(r *http.Request, escapedPath string) (Found, Problem) {
	f := Found{Path: escapedPath}
	if rest, ok := strings.CutPrefix(escapedPath, "/t/"); ok {
		tok, after, _ := strings.Cut(rest, "/")
		if tok == "" {
			return f, NoToken
		}
		f.Token, f.Location, f.Path = tok, InPath, "/"+after
	}
	if !SafePath(f.Path) {
		return f, BadPath
	}
	query, qToken, qKey := splitQuery(r.URL.RawQuery)
	f.RawQuery = query
	if f.Token != "" {
		return f, OK
	}
	if tok, ok := bearer(r.Header.Get("Authorization")); ok {
		f.Token, f.Location = tok, InAuthorization
		return f, OK
	}
	for _, h := range []struct {
		name string
		loc  Location
	}{{"X-Api-Key", InXAPIKey}, {"Api-Key", InAPIKey}, {"X-Goog-Api-Key", InGoogAPIKey}} {
		if v := strings.TrimSpace(r.Header.Get(h.name)); v != "" {
			f.Token, f.Location = v, h.loc
			return f, OK
		}
	}
	switch {
	case qToken != "":
		f.Token, f.Location = qToken, InQueryToken
	case qKey != "":
		f.Token, f.Location = qKey, InQueryKey
	default:
		return f, NoToken
	}
	return f, OK
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// splitQuery removes every `token` and `key` parameter from a raw query and
// returns the rest verbatim, in order, with the first value of each. It
// drops 1.x's `rai_hash` too: a hash of the key file, meaningless here and
// nothing a provider should see.
func splitQuery(raw string) (rest, token, key string) {
	if raw == "" {
		return "", "", ""
	}
	kept := make([]string, 0, 4)
	for _, part := range strings.Split(raw, "&") {
		name, value, _ := strings.Cut(part, "=")
		switch name {
		case "token":
			if token == "" {
				token, _ = url.QueryUnescape(value)
			}
		case "key":
			if key == "" {
				key, _ = url.QueryUnescape(value)
			}
		case "rai_hash":
		default:
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&"), token, key
}

// SafePath reports whether an escaped path can be appended to a provider's
// base URL without leaving it: no dot segments (also percent-encoded), no
// empty segments, no encoded slashes or backslashes, no control characters.
func SafePath(escaped string) bool {
	if !strings.HasPrefix(escaped, "/") {
		return false
	}
	segments := strings.Split(escaped[1:], "/")
	for i, seg := range segments {
		if seg == "" {
			if i == len(segments)-1 {
				continue // trailing slash
			}
			return false
		}
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
			return false
		}
		for j := 0; j < len(dec); j++ {
			if dec[j] < 0x20 || dec[j] == 0x7f {
				return false
			}
		}
	}
	return true
}
