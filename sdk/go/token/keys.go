package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/go-jose/go-jose/v4"
)

// Method is how a token is protected (docs/token-format.md §1).
type Method string

const (
	MethodAES Method = "aes"
	MethodECC Method = "ecc"
)

// AESKeySize is the only key size the aes method accepts (A256GCM).
const AESKeySize = 32

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidKeyID reports whether s may be used as a `kid`.
func ValidKeyID(s string) bool { return kidPattern.MatchString(s) }

// DeriveKeyID returns the default `kid` of a key: the first 16 characters of
// its RFC 7638 SHA-256 thumbprint. key is a 32-byte aes key, an
// *ecdsa.PublicKey or an *ecdsa.PrivateKey (whose public half is used).
func DeriveKeyID(key any) (string, error) {
	var sum []byte
	switch k := key.(type) {
	case []byte:
		// go-jose has no thumbprint for symmetric keys; RFC 7638 §3.2
		// defines its input as exactly these members in this order.
		h := sha256.Sum256([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(k) + `","kty":"oct"}`))
		sum = h[:]
	case *ecdsa.PrivateKey:
		return DeriveKeyID(&k.PublicKey)
	default:
		jwk := jose.JSONWebKey{Key: key}
		var err error
		if sum, err = jwk.Thumbprint(crypto.SHA256); err != nil {
			return "", fmt.Errorf("thumbprint: %w", err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(sum)[:16], nil
}

// MintKey is what a backend holds to mint tokens.
type MintKey struct {
	method Method
	kid    string // aes key id, or the relay key id for ecc

	aesKey []byte

	signer    *ecdsa.PrivateKey
	signerKID string
	relay     *ecdsa.PublicKey
}

// NewAESMintKey returns a key minting `aes` tokens. An empty kid is derived.
func NewAESMintKey(kid string, secret []byte) (*MintKey, error) {
	if len(secret) != AESKeySize {
		return nil, fmt.Errorf("aes key must be %d bytes, got %d", AESKeySize, len(secret))
	}
	kid, err := keyIDOrDerived(kid, secret)
	if err != nil {
		return nil, err
	}
	return &MintKey{method: MethodAES, kid: kid, aesKey: append([]byte(nil), secret...)}, nil
}

// NewECCMintKey returns a key minting `ecc` tokens: signed with signer,
// encrypted to relay. Empty key ids are derived.
func NewECCMintKey(signerKID string, signer *ecdsa.PrivateKey, relayKID string, relay *ecdsa.PublicKey) (*MintKey, error) {
	if err := checkP256(&signer.PublicKey); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if err := checkP256(relay); err != nil {
		return nil, fmt.Errorf("relay public key: %w", err)
	}
	signerKID, err := keyIDOrDerived(signerKID, signer)
	if err != nil {
		return nil, err
	}
	relayKID, err = keyIDOrDerived(relayKID, relay)
	if err != nil {
		return nil, err
	}
	return &MintKey{method: MethodECC, kid: relayKID, signer: signer, signerKID: signerKID, relay: relay}, nil
}

// Method returns the method this key mints.
func (k *MintKey) Method() Method { return k.method }

// KeyID returns the `kid` written into the outer JWE header.
func (k *MintKey) KeyID() string { return k.kid }

// Keyring holds every key a relay accepts, by method and `kid`. It is built
// once at start-up and read concurrently afterwards.
type Keyring struct {
	aes map[string][]byte
	ecc map[string]*relayKey
	// decoy is verified against when a signer kid is unknown, so an
	// untrusted signer costs the same time as a bad signature and the
	// timing does not reveal which signer ids are trusted.
	decoy *ecdsa.PublicKey
}

type relayKey struct {
	private *ecdsa.PrivateKey
	signers map[string]*ecdsa.PublicKey
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring {
	decoy, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return &Keyring{aes: map[string][]byte{}, ecc: map[string]*relayKey{}, decoy: &decoy.PublicKey}
}

// AddAES accepts `aes` tokens with this kid and secret. An empty kid is derived.
func (r *Keyring) AddAES(kid string, secret []byte) error {
	if len(secret) != AESKeySize {
		return fmt.Errorf("aes key must be %d bytes, got %d", AESKeySize, len(secret))
	}
	kid, err := keyIDOrDerived(kid, secret)
	if err != nil {
		return err
	}
	if _, dup := r.aes[kid]; dup {
		return fmt.Errorf("duplicate aes key id %q", kid)
	}
	r.aes[kid] = append([]byte(nil), secret...)
	return nil
}

// AddECC accepts `ecc` tokens encrypted to private (under kid) and signed
// by one of signers (keyed by signer kid).
func (r *Keyring) AddECC(kid string, private *ecdsa.PrivateKey, signers map[string]*ecdsa.PublicKey) error {
	if err := checkP256(&private.PublicKey); err != nil {
		return fmt.Errorf("relay private key: %w", err)
	}
	if len(signers) == 0 {
		return fmt.Errorf("ecc relay key %q trusts no signer", kid)
	}
	kid, err := keyIDOrDerived(kid, private)
	if err != nil {
		return err
	}
	if _, dup := r.ecc[kid]; dup {
		return fmt.Errorf("duplicate ecc key id %q", kid)
	}
	trusted := make(map[string]*ecdsa.PublicKey, len(signers))
	for skid, pub := range signers {
		if err := checkP256(pub); err != nil {
			return fmt.Errorf("trusted signer %q: %w", skid, err)
		}
		trusted[skid] = pub
	}
	r.ecc[kid] = &relayKey{private: private, signers: trusted}
	return nil
}

// Len is the number of keys held.
func (r *Keyring) Len() int { return len(r.aes) + len(r.ecc) }

func keyIDOrDerived(kid string, key any) (string, error) {
	if kid == "" {
		return DeriveKeyID(key)
	}
	if !ValidKeyID(kid) {
		return "", fmt.Errorf("key id %q must match %s", kid, kidPattern)
	}
	return kid, nil
}

func checkP256(pub *ecdsa.PublicKey) error {
	if pub == nil {
		return fmt.Errorf("missing key")
	}
	if pub.Curve != elliptic.P256() {
		return fmt.Errorf("curve must be P-256")
	}
	return nil
}
