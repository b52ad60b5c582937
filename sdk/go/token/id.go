package token

import (
	"crypto/rand"
	"encoding/base64"
)

// NewID returns a fresh `jti`: 128 random bits, base64url (22 characters).
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("token: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
