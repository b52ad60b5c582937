package store

import "encoding/base64"

// Page sizes and cursors are the same for every backend, so a client
// paging through the admin API sees one behaviour whatever the store.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// PageSize clamps a requested page size to 1..MaxPageSize (0: default).
func PageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// EncodeCursor makes an opaque cursor from a backend's position (a jti, a
// row id or a stream entry id).
func EncodeCursor(position string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(position))
}

// DecodeCursor returns the position in a cursor ("" for the first page);
// a cursor the store did not issue is ErrBadCursor.
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", ErrBadCursor
	}
	return string(b), nil
}
