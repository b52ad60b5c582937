// Package load generates benchmark traffic: open-loop fixed-rate requests
// (Rate) and many concurrent long-lived SSE streams (Stream).
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Request describes the request every call sends.
type Request struct {
	Method string
	URL    string
	Header http.Header // may hold tokens: never print values
	Body   []byte
}

// Validate checks the parts that would otherwise fail once per request.
func (r Request) Validate() error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return fmt.Errorf("parse url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", r.URL)
	}
	if r.Method == "" {
		return errors.New("empty method")
	}
	return nil
}

// build makes one request. The header map is shared read-only by every
// request: the client never modifies it, and cloning it per request would
// cost the load generator CPU that the server under test needs.
func (r Request) build(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if len(r.Body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header = r.Header
	if h := r.Header.Get("Host"); h != "" {
		req.Host = h
	}
	return req, nil
}

// ParseHeader splits "Name: value" as given to -header.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		// Nothing is echoed: a malformed header may be all token.
		return "", "", errors.New(`malformed header: want "Name: value"`)
	}
	return http.CanonicalHeaderKey(name), strings.TrimSpace(value), nil
}
