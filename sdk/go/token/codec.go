package token

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxTokenSize bounds a token before any cryptography is attempted.
const MaxTokenSize = 8192

// DefaultLeeway is the clock skew allowed on `exp` and `nbf`.
const DefaultLeeway = 30 * time.Second

var contentAlgorithms = []jose.ContentEncryption{jose.A256GCM}

// Encode validates claims and mints a token with key.
func Encode(claims *Claims, key *MintKey) (string, error) {
	if err := claims.Validate(); err != nil {
		return "", fmt.Errorf("invalid claims: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	var tok string
	switch key.method {
	case MethodAES:
		tok, err = encrypt(payload, jose.DIRECT, key.aesKey, key.kid, nil)
	case MethodECC:
		tok, err = encodeECC(payload, key)
	default:
		err = fmt.Errorf("unknown method %q", key.method)
	}
	if err != nil {
		return "", err
	}
	if len(tok) > MaxTokenSize {
		return "", fmt.Errorf("%w: %d bytes, over the %d-byte limit: shorten the claims", ErrTooLarge, len(tok), MaxTokenSize)
	}
	return tok, nil
}

func encodeECC(payload []byte, key *MintKey) (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.signer, KeyID: key.signerKID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	inner, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize jws: %w", err)
	}
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT")
	return encrypt([]byte(inner), jose.ECDH_ES, key.relay, key.kid, opts)
}

func encrypt(plaintext []byte, alg jose.KeyAlgorithm, key any, kid string, opts *jose.EncrypterOptions) (string, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key, KeyID: kid}, opts)
	if err != nil {
		return "", fmt.Errorf("encrypter: %w", err)
	}
	jwe, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return jwe.CompactSerialize()
}

// Decode opens tok with the keyring and checks its time claims at now with
// DefaultLeeway. Errors match ErrInvalid, ErrExpired or ErrNotYetValid.
func Decode(tok string, keys *Keyring, now time.Time) (*Claims, error) {
	claims, err := keys.Open(tok)
	if err != nil {
		return nil, err
	}
	if err := claims.CheckTime(now, DefaultLeeway); err != nil {
		return nil, err
	}
	return claims, nil
}

// CheckTime checks `exp` and `nbf` at now, allowing leeway of clock skew.
func (c *Claims) CheckTime(now time.Time, leeway time.Duration) error {
	t := now.Unix()
	skew := int64(leeway / time.Second)
	if t > c.ExpiresAt+skew {
		return ErrExpired
	}
	if c.NotBefore != 0 && t+skew < c.NotBefore {
		return ErrNotYetValid
	}
	return nil
}

// Open decrypts and authenticates tok and validates its claims, without
// looking at the clock. Every failure matches ErrInvalid.
func (r *Keyring) Open(tok string) (*Claims, error) {
	if len(tok) > MaxTokenSize {
		return nil, invalid("token too large")
	}
	if strings.Count(tok, ".") != 4 {
		return nil, invalid("not a compact JWE")
	}
	jwe, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.DIRECT, jose.ECDH_ES}, contentAlgorithms)
	if err != nil {
		return nil, invalid("malformed JWE")
	}
	var payload []byte
	switch jose.KeyAlgorithm(jwe.Header.Algorithm) {
	case jose.DIRECT:
		payload, err = r.openAES(jwe)
	case jose.ECDH_ES:
		payload, err = r.openECC(jwe)
	default:
		err = invalid("algorithm not allowed")
	}
	if err != nil {
		return nil, err
	}
	claims, err := ParseClaims(payload)
	if err != nil {
		return nil, invalid("claims rejected")
	}
	return claims, nil
}

func (r *Keyring) openAES(jwe *jose.JSONWebEncryption) ([]byte, error) {
	key, ok := r.aes[jwe.Header.KeyID]
	if !ok {
		return nil, invalid("unknown aes kid")
	}
	payload, err := jwe.Decrypt(key)
	if err != nil {
		return nil, invalid("aes decryption failed")
	}
	return payload, nil
}

func (r *Keyring) openECC(jwe *jose.JSONWebEncryption) ([]byte, error) {
	key, ok := r.ecc[jwe.Header.KeyID]
	if !ok {
		return nil, invalid("unknown ecc kid")
	}
	cty, _ := jwe.Header.ExtraHeaders[jose.HeaderContentType].(string)
	if !strings.EqualFold(cty, "JWT") {
		return nil, invalid("ecc token without cty JWT")
	}
	inner, err := jwe.Decrypt(key.private)
	if err != nil {
		return nil, invalid("ecc decryption failed")
	}
	jws, err := jose.ParseSignedCompact(string(inner), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, invalid("malformed inner JWS")
	}
	signer, trusted := key.signers[jws.Signatures[0].Header.KeyID]
	if !trusted {
		signer = r.decoy // same work as a real check: no timing oracle
	}
	payload, err := jws.Verify(signer)
	if !trusted {
		return nil, invalid("untrusted signer")
	}
	if err != nil {
		return nil, invalid("bad signature")
	}
	return payload, nil
}
