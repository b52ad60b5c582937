package redisstore

import (
	"encoding/base64"

	"github.com/relayapi/relayapi/server/internal/store"
)

// Page sizes match the SQLite store.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}

// Cursors are opaque to clients: base64 of a jti or a stream entry id.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", store.ErrBadCursor
	}
	return string(b), nil
}
