// Command vectorgen writes testdata/vectors: fixed key files and tokens,
// valid and invalid, that every implementation of the token format decodes.
//
// Vectors are generated once and committed; they must stay decodable forever
// (valid ones expire in 2100 and are checked at the fixed clock `now`).
// Re-running it replaces every key and token: do that only on purpose.
//
//	go run ./internal/tools/vectorgen -out ../testdata/vectors
//
// Vectors added later (laterVectors, for claims new since the first set) are
// appended with -append: it keeps the key files and every vector already in
// vectors.json byte for byte, and mints only the vectors missing from it.
//
//	go run ./internal/tools/vectorgen -out ../testdata/vectors -append
package main

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

const (
	now      = 1767225600 // 2026-01-01T00:00:00Z
	farExp   = 4102444800 // 2100-01-01T00:00:00Z
	iat      = now - 60
	leewaySe = 30
)

type vector struct {
	Name     string          `json:"name"`
	Method   string          `json:"method"`
	RelayKey string          `json:"relay_key"`
	Note     string          `json:"note,omitempty"`
	Token    string          `json:"token"`
	Claims   json.RawMessage `json:"claims,omitempty"`
	Error    string          `json:"error,omitempty"`
}

type suite struct {
	Comment string            `json:"comment"`
	Now     int64             `json:"now"`
	Leeway  int               `json:"leeway"`
	Keys    map[string]string `json:"keys"`
	Vectors []vector          `json:"vectors"`
}

type keys struct {
	aes, aesKID, aesOther              *rai.File
	eccBackend, eccRelay, eccUntrusted *rai.File
	aesMint, aesKIDMint, aesOtherMint  *token.MintKey
	eccMint, eccUntrustedMint          *token.MintKey
	eccSigner                          *ecdsa.PrivateKey
	eccRelayPub                        *ecdsa.PublicKey
	eccRelayKID, eccSignerKID          string
}

func main() {
	out := flag.String("out", "../testdata/vectors", "output directory")
	appendOnly := flag.Bool("append", false, "keep the keys and vectors in -out and add only the vectors missing from vectors.json")
	flag.Parse()
	work := run
	if *appendOnly {
		work = runAppend
	}
	if err := work(*out); err != nil {
		fmt.Fprintln(os.Stderr, "vectorgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	k, err := makeKeys()
	if err != nil {
		return err
	}
	files := map[string]*rai.File{
		"aes.rai": k.aes, "aes-kid.rai": k.aesKID, "aes-other.rai": k.aesOther,
		"ecc-backend.rai": k.eccBackend, "ecc-relay.rai": k.eccRelay,
		"ecc-untrusted-backend.rai": k.eccUntrusted,
	}
	for name, f := range files {
		data, err := f.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	vectors, err := buildVectors(k)
	if err != nil {
		return err
	}
	s := suite{
		Comment: "RelayAPI token format v1 vectors; see docs/token-format.md §8. Decode each token at `now` with `leeway` seconds of skew, using the key file named by keys[relay_key].",
		Now:     now, Leeway: leewaySe,
		Keys: map[string]string{
			"aes": "aes.rai", "aes_kid": "aes-kid.rai", "aes_other": "aes-other.rai",
			"ecc_backend": "ecc-backend.rai", "ecc_relay": "ecc-relay.rai",
			"ecc_untrusted_backend": "ecc-untrusted-backend.rai",
		},
		Vectors: vectors,
	}
	return writeSuite(out, s)
}

func writeSuite(out string, s suite) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "vectors.json"), append(data, '\n'), 0o644)
}

// runAppend adds the vectors of laterVectors that vectors.json lacks,
// minted with the key files already in out; nothing else changes.
func runAppend(out string) error {
	data, err := os.ReadFile(filepath.Join(out, "vectors.json"))
	if err != nil {
		return err
	}
	var s suite
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	k, err := loadKeys(out)
	if err != nil {
		return err
	}
	later, err := laterVectors(k)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, v := range s.Vectors {
		have[v.Name] = true
	}
	added := 0
	for _, v := range later {
		if !have[v.Name] {
			s.Vectors = append(s.Vectors, v)
			added++
		}
	}
	fmt.Fprintf(os.Stderr, "vectorgen: %d vectors added, %d in all\n", added, len(s.Vectors))
	return writeSuite(out, s)
}

// loadKeys reads the key files run wrote into out.
func loadKeys(out string) (*keys, error) {
	k := &keys{}
	for name, f := range map[string]**rai.File{
		"aes.rai": &k.aes, "aes-kid.rai": &k.aesKID, "aes-other.rai": &k.aesOther,
		"ecc-backend.rai": &k.eccBackend, "ecc-relay.rai": &k.eccRelay,
		"ecc-untrusted-backend.rai": &k.eccUntrusted,
	} {
		var err error
		if *f, err = rai.Load(filepath.Join(out, name)); err != nil {
			return nil, err
		}
	}
	return k, k.derive()
}

func makeKeys() (*keys, error) {
	server := rai.Server{Host: "127.0.0.1", Port: 8840}
	k := &keys{}
	var err error
	if k.aes, err = rai.GenerateAES(server); err != nil {
		return nil, err
	}
	// The first file is in the seed's own format, so the seed keeps loading.
	k.aes.Version = "1.0.0"
	k.aes.Crypto.AESIVSeed = "seed-field-ignored"
	if k.aesKID, err = rai.GenerateAES(server); err != nil {
		return nil, err
	}
	k.aesKID.Crypto.KeyID = "rotation-2026-01"
	if k.aesOther, err = rai.GenerateAES(server); err != nil {
		return nil, err
	}
	// Same kid as aes.rai, different secret: the "wrong key" case.
	if k.aesMint, err = k.aes.MintKey(); err != nil {
		return nil, err
	}
	k.aesOther.Crypto.KeyID = k.aesMint.KeyID()
	if k.eccBackend, k.eccRelay, err = rai.GenerateECC(server); err != nil {
		return nil, err
	}
	untrusted, _, err := rai.GenerateECC(server)
	if err != nil {
		return nil, err
	}
	untrusted.Crypto.RelayPublicKey = k.eccBackend.Crypto.RelayPublicKey
	k.eccUntrusted = untrusted
	return k, k.derive()
}

// derive fills in the mint keys and raw keys of the six files.
func (k *keys) derive() error {
	var err error
	for _, m := range []struct {
		file *rai.File
		key  **token.MintKey
	}{
		{k.aes, &k.aesMint}, {k.aesKID, &k.aesKIDMint}, {k.aesOther, &k.aesOtherMint},
		{k.eccBackend, &k.eccMint}, {k.eccUntrusted, &k.eccUntrustedMint},
	} {
		if *m.key, err = m.file.MintKey(); err != nil {
			return err
		}
	}
	k.eccSigner = k.eccBackend.Crypto.SigningKey.Key.(*ecdsa.PrivateKey)
	k.eccSignerKID = k.eccBackend.Crypto.SigningKey.KeyID
	k.eccRelayPub = k.eccBackend.Crypto.RelayPublicKey.Key.(*ecdsa.PublicKey)
	k.eccRelayKID = k.eccBackend.Crypto.RelayPublicKey.KeyID
	return nil
}

func minimal(jti string) map[string]any {
	return map[string]any{"jti": jti, "exp": farExp, "iat": iat, "provider": "openai", "api_key": "sk-test-vector-0000000000000000"}
}

func full(jti string) map[string]any {
	return map[string]any{
		"jti": jti, "exp": farExp, "iat": iat, "nbf": iat, "sub": "user-42",
		"provider": "openai", "api_key": "sk-test-vector-full-1111111111111111",
		"max_calls": 100, "models": []string{"gpt-4o*", "text-embedding-3-small"},
		"paths": []string{"/v1/chat/completions", "/v1/embeddings"},
		"rpm":   60, "concurrency": 2, "max_tokens": 1024, "token_budget": 100000,
		"ips":       []string{"203.0.113.0/24", "2001:db8::/32", "198.51.100.7"},
		"origins":   []string{"https://app.example.com", "https://*.example.org"},
		"model_map": map[string]string{"fast": "gpt-4o-mini"},
		"meta":      map[string]string{"plan": "free", "app": "demo"},
		"x_trace":   map[string]any{"id": 7},
	}
}

func with(c map[string]any, changes map[string]any) map[string]any {
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func buildVectors(k *keys) ([]vector, error) {
	var vs []vector
	var firstErr error
	add := func(v vector, claims any, tok string, err error) {
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", v.Name, err)
		}
		v.Token = tok
		if v.Error == "" {
			data, _ := json.Marshal(claims)
			v.Claims = data
		}
		vs = append(vs, v)
	}
	aes := func(claims any) (string, error) { return rawAES(claims, k.aesMint.KeyID(), mustSecret(k.aes)) }
	ecc := func(claims any) (string, error) {
		return rawECC(claims, k.eccSigner, k.eccSignerKID, k.eccRelayPub, k.eccRelayKID, "JWT")
	}

	// Valid tokens.
	for _, c := range []struct {
		name, method, key, note string
		claims                  map[string]any
		mint                    func(any) (string, error)
	}{
		{"aes-valid-minimal", "aes", "aes", "", minimal("vec-aes-minimal-000001"), aes},
		{"aes-valid-full", "aes", "aes", "every claim plus an x_ extension", full("vec-aes-full-00000001"), aes},
		{"aes-valid-explicit-kid", "aes", "aes_kid", "crypto.key_id given in the .rai", minimal("vec-aes-kid-000000001"), func(c any) (string, error) {
			return rawAES(c, "rotation-2026-01", mustSecret(k.aesKID))
		}},
		{"aes-valid-expired-within-leeway", "aes", "aes", "exp 10 s before now, inside the 30 s leeway", with(minimal("vec-aes-leeway-0000001"), map[string]any{"exp": now - 10}), aes},
		{"aes-valid-relay-credential", "aes", "aes", "no api_key: the relay holds the credential", with(minimal("vec-aes-nokey-00000001"), map[string]any{"api_key": nil, "provider": "anthropic"}), aes},
		{"ecc-valid-minimal", "ecc", "ecc_relay", "", minimal("vec-ecc-minimal-000001"), ecc},
		{"ecc-valid-full", "ecc", "ecc_relay", "", full("vec-ecc-full-00000001"), ecc},
	} {
		tok, err := c.mint(c.claims)
		add(vector{Name: c.name, Method: c.method, RelayKey: c.key, Note: c.note}, c.claims, tok, err)
	}

	good, err := aes(minimal("vec-aes-tamper-000001"))
	if err != nil {
		return nil, err
	}
	goodECC, err := ecc(minimal("vec-ecc-tamper-000001"))
	if err != nil {
		return nil, err
	}
	bad := func(name, method, key, note, code string, tok string, err error) {
		add(vector{Name: name, Method: method, RelayKey: key, Note: note, Error: code}, nil, tok, err)
	}
	inv := "invalid_token"

	// Structural damage.
	bad("aes-tampered-ciphertext", "aes", "aes", "one ciphertext character changed", inv, tamperPart(good, 3), nil)
	bad("aes-tampered-tag", "aes", "aes", "one tag character changed", inv, tamperPart(good, 4), nil)
	bad("aes-tampered-iv", "aes", "aes", "one IV character changed", inv, tamperPart(good, 2), nil)
	bad("aes-tampered-header", "aes", "aes", "protected header re-encoded with an extra member (AAD mismatch)", inv, replaceHeader(good, func(h map[string]any) { h["zip"] = "x" }), nil)
	bad("aes-header-kid-swapped", "aes", "aes_kid", "kid rewritten to another known key's kid", inv, replaceHeader(good, func(h map[string]any) { h["kid"] = "rotation-2026-01" }), nil)
	bad("aes-truncated", "aes", "aes", "last part removed", inv, good[:strings.LastIndex(good, ".")], nil)
	bad("aes-truncated-middle", "aes", "aes", "cut in the middle", inv, good[:len(good)/2], nil)
	bad("aes-non-base64", "aes", "aes", "characters outside base64url", inv, strings.Replace(good, good[len(good)-6:len(good)-3], "!*@", 1), nil)
	bad("empty", "aes", "aes", "empty string", inv, "", nil)
	bad("aes-oversized", "aes", "aes", "over 8192 bytes: rejected before any crypto", inv, oversized(k), nil)
	bad("aes-six-parts", "aes", "aes", "an extra part", inv, good+".AAAA", nil)
	bad("jws-not-jwe", "aes", "aes", "a signed, unencrypted JWT", inv, plainJWS(k), nil)

	// Wrong keys.
	tok, err := rawAES(minimal("vec-aes-wrongkid-00001"), "no-such-kid", mustSecret(k.aes))
	bad("aes-wrong-kid", "aes", "aes", "kid not in the keyring", inv, tok, err)
	tok, err = rawAES(minimal("vec-aes-wrongkey-00001"), k.aesMint.KeyID(), mustSecret(k.aesOther))
	bad("aes-wrong-key", "aes", "aes", "right kid, encrypted with another secret", inv, tok, err)
	tok, err = rawJWE([]byte(mustJSON(minimal("vec-aes-a128gcm-00001"))), jose.DIRECT, jose.A128GCM, mustSecret(k.aes)[:16], k.aesMint.KeyID(), nil)
	bad("aes-enc-a128gcm", "aes", "aes", "enc A128GCM is not allowed", inv, tok, err)
	bad("ecc-to-aes-relay", "ecc", "aes", "an ecc token at a relay holding only the aes key", inv, goodECC, nil)

	// Time.
	tok, err = aes(with(minimal("vec-aes-expired-00001"), map[string]any{"exp": now - 3600}))
	bad("aes-expired", "aes", "aes", "exp an hour before now", "token_expired", tok, err)
	tok, err = aes(with(minimal("vec-aes-nbf-0000000001"), map[string]any{"nbf": now + 3600}))
	bad("aes-not-yet-valid", "aes", "aes", "nbf an hour after now", "token_not_yet_valid", tok, err)
	tok, err = ecc(with(minimal("vec-ecc-expired-00001"), map[string]any{"exp": now - 3600}))
	bad("ecc-expired", "ecc", "ecc_relay", "", "token_expired", tok, err)

	// Claims.
	for _, c := range []struct {
		name, note string
		claims     any
	}{
		{"aes-missing-jti", "", with(minimal(""), map[string]any{"jti": nil})},
		{"aes-missing-exp", "", with(minimal("vec-aes-noexp-0000001"), map[string]any{"exp": nil})},
		{"aes-missing-provider", "", with(minimal("vec-aes-noprov-000001"), map[string]any{"provider": nil})},
		{"aes-short-jti", "jti under 16 characters", with(minimal("short"), nil)},
		{"aes-unknown-claim", "max_call is a typo of max_calls", with(minimal("vec-aes-unknown-00001"), map[string]any{"max_call": 5})},
		{"aes-claim-wrong-type", "max_calls as a string", with(minimal("vec-aes-type-00000001"), map[string]any{"max_calls": "10"})},
		{"aes-claim-fraction", "max_calls 1.5", with(minimal("vec-aes-frac-00000001"), map[string]any{"max_calls": 1.5})},
		{"aes-claim-zero", "max_calls 0 (omit the claim for no limit)", with(minimal("vec-aes-zero-00000001"), map[string]any{"max_calls": 0})},
		{"aes-claim-null", "models null", with(minimal("vec-aes-null-00000001"), map[string]any{"models": json.RawMessage("null")})},
		{"aes-bad-cidr", "ips entry not a CIDR", with(minimal("vec-aes-cidr-00000001"), map[string]any{"ips": []string{"10.0.0.0/33"}})},
		{"aes-bad-origin", "origin with a path", with(minimal("vec-aes-origin-000001"), map[string]any{"origins": []string{"https://app.example.com/"}})},
		{"aes-empty-models", "empty list", with(minimal("vec-aes-empty-0000001"), map[string]any{"models": []string{}})},
		{"aes-claims-not-object", "plaintext is a JSON array", []any{1, 2}},
	} {
		tok, err := aes(c.claims)
		bad(c.name, "aes", "aes", c.note, inv, tok, err)
	}

	// ecc specifics.
	bad("ecc-tampered-ciphertext", "ecc", "ecc_relay", "", inv, tamperPart(goodECC, 3), nil)
	bad("ecc-tampered-epk", "ecc", "ecc_relay", "header epk replaced by another point", inv, replaceHeader(goodECC, func(h map[string]any) {
		other := k.eccUntrusted.Crypto.SigningKey.Key.(*ecdsa.PrivateKey).PublicKey
		epk, _ := json.Marshal(jose.JSONWebKey{Key: &other})
		var m map[string]any
		_ = json.Unmarshal(epk, &m)
		h["epk"] = m
	}), nil)
	tok, err = rawECCBadSig(minimal("vec-ecc-badsig-000001"), k)
	bad("ecc-bad-signature", "ecc", "ecc_relay", "inner JWS signature altered", inv, tok, err)
	tok, err = token.Encode(mustClaims(minimal("vec-ecc-untrust-00001")), k.eccUntrustedMint)
	bad("ecc-untrusted-signer", "ecc", "ecc_relay", "signed by a key the relay does not trust", inv, tok, err)
	tok, err = rawECC(minimal("vec-ecc-forgedkid-0001"), k.eccUntrusted.Crypto.SigningKey.Key.(*ecdsa.PrivateKey), k.eccSignerKID, k.eccRelayPub, k.eccRelayKID, "JWT")
	bad("ecc-forged-signer-kid", "ecc", "ecc_relay", "untrusted key claiming a trusted signer's kid", inv, tok, err)
	tok, err = rawECC(minimal("vec-ecc-nocty-0000001"), k.eccSigner, k.eccSignerKID, k.eccRelayPub, k.eccRelayKID, "")
	bad("ecc-missing-cty", "ecc", "ecc_relay", "outer header without cty JWT", inv, tok, err)
	tok, err = rawJWE([]byte(mustJSON(minimal("vec-ecc-nojws-0000001"))), jose.ECDH_ES, jose.A256GCM, k.eccRelayPub, k.eccRelayKID, (&jose.EncrypterOptions{}).WithContentType("JWT"))
	bad("ecc-unsigned-claims", "ecc", "ecc_relay", "claims encrypted to the relay without the inner signature", inv, tok, err)
	tok, err = rawECC(minimal("vec-ecc-wrongrelay-001"), k.eccSigner, k.eccSignerKID, &k.eccUntrusted.Crypto.SigningKey.Key.(*ecdsa.PrivateKey).PublicKey, k.eccRelayKID, "JWT")
	bad("ecc-wrong-relay-key", "ecc", "ecc_relay", "encrypted to another public key under the relay's kid", inv, tok, err)
	tok, err = rawECC(with(minimal("vec-ecc-unknown-00001"), map[string]any{"budget": 5}), k.eccSigner, k.eccSignerKID, k.eccRelayPub, k.eccRelayKID, "JWT")
	bad("ecc-unknown-claim", "ecc", "ecc_relay", "", inv, tok, err)

	later, err := laterVectors(k)
	if err != nil && firstErr == nil {
		firstErr = err
	}
	return append(vs, later...), firstErr
}

// laterVectors covers claims added after the first set of vectors; -append
// adds them to a committed vectors.json without touching the rest.
func laterVectors(k *keys) ([]vector, error) {
	var vs []vector
	aes := func(claims any) (string, error) { return rawAES(claims, k.aesMint.KeyID(), mustSecret(k.aes)) }
	ecc := func(claims any) (string, error) {
		return rawECC(claims, k.eccSigner, k.eccSignerKID, k.eccRelayPub, k.eccRelayKID, "JWT")
	}
	for _, c := range []struct {
		name, method, key, note, code string
		claims                        map[string]any
		mint                          func(any) (string, error)
	}{
		// max_session_seconds: the longest realtime session, 1 … 86400.
		{"aes-valid-max-session-seconds", "aes", "aes", "max_session_seconds at its upper bound (one day)", "",
			with(minimal("vec-aes-session-000001"), map[string]any{"max_session_seconds": 86400}), aes},
		{"ecc-valid-max-session-seconds", "ecc", "ecc_relay", "max_session_seconds at its lower bound", "",
			with(minimal("vec-ecc-session-000001"), map[string]any{"max_session_seconds": 1}), ecc},
		{"aes-max-session-seconds-zero", "aes", "aes", "max_session_seconds 0 (omit the claim for the relay's maximum)", "invalid_token",
			with(minimal("vec-aes-session-zero-01"), map[string]any{"max_session_seconds": 0}), aes},
		{"aes-max-session-seconds-too-large", "aes", "aes", "max_session_seconds 86401, over one day", "invalid_token",
			with(minimal("vec-aes-session-long-01"), map[string]any{"max_session_seconds": 86401}), aes},
		{"aes-max-session-seconds-string", "aes", "aes", "max_session_seconds as a string", "invalid_token",
			with(minimal("vec-aes-session-str-001"), map[string]any{"max_session_seconds": "600"}), aes},
	} {
		tok, err := c.mint(c.claims)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		v := vector{Name: c.name, Method: c.method, RelayKey: c.key, Note: c.note, Token: tok, Error: c.code}
		if c.code == "" {
			v.Claims, _ = json.Marshal(c.claims)
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func mustSecret(f *rai.File) []byte {
	secret := make([]byte, 32)
	if _, err := fmt.Sscanf(f.Crypto.AESKey, "%x", &secret); err != nil {
		panic(err)
	}
	return secret
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

func mustClaims(v any) *token.Claims {
	c, err := token.ParseClaims([]byte(mustJSON(v)))
	if err != nil {
		panic(err)
	}
	return c
}

func rawJWE(plaintext []byte, alg jose.KeyAlgorithm, enc jose.ContentEncryption, key any, kid string, opts *jose.EncrypterOptions) (string, error) {
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: key, KeyID: kid}, opts)
	if err != nil {
		return "", err
	}
	obj, err := e.Encrypt(plaintext)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func rawAES(claims any, kid string, secret []byte) (string, error) {
	return rawJWE([]byte(mustJSON(claims)), jose.DIRECT, jose.A256GCM, secret, kid, nil)
}

func signJWS(claims any, signer *ecdsa.PrivateKey, kid string) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: signer, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign([]byte(mustJSON(claims)))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func rawECC(claims any, signer *ecdsa.PrivateKey, signerKID string, relay *ecdsa.PublicKey, relayKID, cty string) (string, error) {
	inner, err := signJWS(claims, signer, signerKID)
	if err != nil {
		return "", err
	}
	opts := &jose.EncrypterOptions{}
	if cty != "" {
		opts = opts.WithContentType(jose.ContentType(cty))
	}
	return rawJWE([]byte(inner), jose.ECDH_ES, jose.A256GCM, relay, relayKID, opts)
}

func rawECCBadSig(claims any, k *keys) (string, error) {
	inner, err := signJWS(claims, k.eccSigner, k.eccSignerKID)
	if err != nil {
		return "", err
	}
	inner = tamperPart(inner, 2)
	return rawJWE([]byte(inner), jose.ECDH_ES, jose.A256GCM, k.eccRelayPub, k.eccRelayKID, (&jose.EncrypterOptions{}).WithContentType("JWT"))
}

// tamperPart flips one character in the middle of part i of a compact token,
// staying inside the base64url alphabet.
func tamperPart(tok string, i int) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[i])
	mid := len(p) / 2
	if p[mid] == 'A' {
		p[mid] = 'B'
	} else {
		p[mid] = 'A'
	}
	parts[i] = string(p)
	return strings.Join(parts, ".")
}

func replaceHeader(tok string, edit func(map[string]any)) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		panic(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		panic(err)
	}
	edit(h)
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(mustJSON(h)))
	return strings.Join(parts, ".")
}

func oversized(k *keys) string {
	c := minimal("vec-aes-oversize-0001")
	c["x_padding"] = strings.Repeat("p", 7000)
	tok, err := rawAES(c, k.aesMint.KeyID(), mustSecret(k.aes))
	if err != nil {
		panic(err)
	}
	if len(tok) <= token.MaxTokenSize {
		panic("oversized vector is not oversized")
	}
	return tok
}

func plainJWS(k *keys) string {
	tok, err := signJWS(minimal("vec-jws-plain-0000001"), k.eccSigner, k.eccSignerKID)
	if err != nil {
		panic(err)
	}
	return tok
}
