package intake

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// Malformed replaces a token that is not a canonical compact JWE. It can
// never decode, so the relay answers it with the one uniform invalid_token.
const Malformed = "malformed-token"

// Screen returns tok when it is a canonical compact JWE (WellFormed), and
// Malformed otherwise. Two things follow:
//
//   - No second spelling of a token is accepted. base64url leaves unused
//     low bits in the last character of a part whose length is not a
//     multiple of 4; a lenient decoder ignores them, so flipping one of
//     them would give a different string that still opens to the same
//     claims. Every token minter writes them as zero (RFC 4648 §3.5).
//   - No early exit tells "bad base64" apart from "bad tag" by timing: for a
//     malformed token of at most token.MaxTokenSize bytes Screen pays for
//     one failed AES-256-GCM token decryption (the cost of a token whose
//     tag does not verify) before the relay rejects the stand-in. Larger
//     tokens are refused before any cryptography, as the format requires;
//     their length is public anyway.
func Screen(tok string) string {
	if WellFormed(tok) {
		return tok
	}
	if len(tok) <= token.MaxTokenSize {
		burnFailedOpen()
	}
	return Malformed
}

// WellFormed reports whether tok has the shape of a token: at most
// token.MaxTokenSize bytes, exactly five '.'-separated parts, each the
// canonical unpadded base64url encoding of some bytes (RFC 7516 §7.1). It
// says nothing about the keys or the contents.
func WellFormed(tok string) bool {
	if len(tok) > token.MaxTokenSize || strings.Count(tok, ".") != 4 {
		return false
	}
	for part := range strings.SplitSeq(tok, ".") {
		if !canonicalBase64URL(part) {
			return false
		}
	}
	return true
}

// canonicalBase64URL is base64.RawURLEncoding.Strict() acceptance without
// decoding: alphabet, a length that is not 1 modulo 4, and zero unused
// bits in the last character.
func canonicalBase64URL(s string) bool {
	var last byte
	for i := 0; i < len(s); i++ {
		v, ok := base64URLValue(s[i])
		if !ok {
			return false
		}
		last = v
	}
	switch len(s) % 4 {
	case 1:
		return false
	case 2: // 12 bits carry 8: the low 4 bits are unused
		return last&0x0f == 0
	case 3: // 18 bits carry 16: the low 2 bits are unused
		return last&0x03 == 0
	}
	return true
}

func base64URLValue(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '-':
		return 62, true
	case c == '_':
		return 63, true
	}
	return 0, false
}

// decoy is a keyring and a token minted under the same kid with another
// key: opening it runs the whole decryption path and fails at the tag.
var decoy struct {
	once  sync.Once
	keys  *token.Keyring
	token string
}

func burnFailedOpen() {
	decoy.once.Do(func() {
		relayKey, mintSecret := make([]byte, token.AESKeySize), make([]byte, token.AESKeySize)
		_, _ = rand.Read(relayKey)
		_, _ = rand.Read(mintSecret)
		const kid = "relayapi-decoy"
		keys := token.NewKeyring()
		mint, err := token.NewAESMintKey(kid, mintSecret)
		if err != nil || keys.AddAES(kid, relayKey) != nil {
			return
		}
		// The shape of a typical minimal token (≈ 290 characters).
		tok, err := token.Encode(&token.Claims{
			ID: "decoy-0000000000000000", ExpiresAt: time.Now().Add(time.Hour).Unix(),
			IssuedAt: time.Now().Unix(), Provider: "decoy", APIKey: "sk-decoy-0000000000000000",
		}, mint)
		if err != nil {
			return
		}
		decoy.keys, decoy.token = keys, tok
	})
	if decoy.keys != nil {
		_, _ = decoy.keys.Open(decoy.token)
	}
}
