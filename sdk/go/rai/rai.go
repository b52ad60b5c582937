// Package rai reads and writes `.rai` key files (docs/token-format.md §3):
// the file a backend mints tokens with and the relay decodes them with.
package rai

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// maxFileSize bounds what Load reads: a key file is a few hundred bytes.
const maxFileSize = 1 << 20

// File is a parsed `.rai` file.
type File struct {
	Version string `json:"version"`
	Server  Server `json:"server"`
	Crypto  Crypto `json:"crypto"`

	// Warnings lists harmless problems found while loading (for example the
	// ignored seed field `aes_iv_seed`); callers log them.
	Warnings []string `json:"-"`
}

// Server says where the relay is reachable; SDKs build base URLs from it.
type Server struct {
	Scheme   string `json:"scheme,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	BasePath string `json:"base_path"`
}

// Crypto holds the key material of one method and role.
type Crypto struct {
	Method token.Method `json:"method"`
	KeyID  string       `json:"key_id,omitempty"`

	AESKey    string `json:"aes_key,omitempty"`
	AESIVSeed string `json:"aes_iv_seed,omitempty"`

	// ecc, backend role.
	SigningKey     *jose.JSONWebKey `json:"signing_key,omitempty"`
	RelayPublicKey *jose.JSONWebKey `json:"relay_public_key,omitempty"`

	// ecc, relay role.
	RelayPrivateKey *jose.JSONWebKey  `json:"relay_private_key,omitempty"`
	TrustedSigners  []jose.JSONWebKey `json:"trusted_signers,omitempty"`
}

// Role says which side of the token a file is for.
type Role string

const (
	RoleBoth    Role = "both" // aes: one shared key
	RoleBackend Role = "backend"
	RoleRelay   Role = "relay"
)

// Load reads and parses a `.rai` file.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	file, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

// Parse parses and checks the content of a `.rai` file.
func Parse(data []byte) (*File, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a valid .rai JSON file: %w", err)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

func (f *File) check() error {
	if f.Crypto.KeyID != "" && !token.ValidKeyID(f.Crypto.KeyID) {
		return fmt.Errorf("crypto.key_id %q is not a valid key id", f.Crypto.KeyID)
	}
	if err := f.Server.check(); err != nil {
		return err
	}
	switch f.Crypto.Method {
	case token.MethodAES:
		if _, err := f.aesSecret(); err != nil {
			return err
		}
		if f.Crypto.AESIVSeed != "" {
			f.Warnings = append(f.Warnings, "crypto.aes_iv_seed is ignored: every token gets a random nonce")
		}
		return nil
	case token.MethodECC:
		return f.checkECC()
	case "":
		return fmt.Errorf("crypto.method is required (aes or ecc)")
	default:
		return fmt.Errorf("crypto.method %q is not aes or ecc", f.Crypto.Method)
	}
}

// check validates the server section and rewrites the forms RelayAPI 1.x
// wrote into the current one: the scheme inside host ("http://localhost")
// and a base path with a trailing slash ("/relayapi/").
func (s *Server) check() error {
	if s.Port < 0 || s.Port > 65535 {
		return fmt.Errorf("server.port %d is out of range", s.Port)
	}
	if s.Scheme != "" && s.Scheme != "http" && s.Scheme != "https" {
		return fmt.Errorf("server.scheme must be http or https")
	}
	if err := s.splitHost(); err != nil {
		return err
	}
	bad := strings.Contains(s.BasePath, "//")
	s.BasePath = strings.TrimSuffix(s.BasePath, "/") // 1.x wrote "/relayapi/"; "/" is none
	if s.BasePath != "" && (bad || !strings.HasPrefix(s.BasePath, "/") || strings.ContainsAny(s.BasePath, "?# ")) {
		return fmt.Errorf("server.base_path must start with / (e.g. /relay)")
	}
	return nil
}

// splitHost moves a scheme (and port) written inside host, as 1.x did, to
// their own fields.
func (s *Server) splitHost() error {
	const bad = "server.host must be a host name or IP address, optionally after http:// or https://"
	scheme, rest, found := strings.Cut(s.Host, "://")
	if !found {
		if strings.ContainsAny(s.Host, "/?#@ ") {
			return errors.New(bad)
		}
		return nil
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return errors.New(bad)
	}
	if s.Scheme != "" && s.Scheme != scheme {
		return fmt.Errorf("server.host says %s:// but server.scheme says %s", scheme, s.Scheme)
	}
	u, err := url.Parse(scheme + "://" + rest)
	if err != nil || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Hostname() == "" {
		return errors.New(bad)
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 || (s.Port != 0 && s.Port != port) {
			return fmt.Errorf("server.host names port %s but server.port is %d", p, s.Port)
		}
		s.Port = port
	}
	s.Scheme, s.Host = scheme, u.Hostname()
	return nil
}

func (f *File) checkECC() error {
	switch f.Role() {
	case RoleBackend:
		if _, err := ecPrivate(f.Crypto.SigningKey, "crypto.signing_key"); err != nil {
			return err
		}
		_, err := ecPublic(f.Crypto.RelayPublicKey, "crypto.relay_public_key")
		return err
	case RoleRelay:
		if _, err := ecPrivate(f.Crypto.RelayPrivateKey, "crypto.relay_private_key"); err != nil {
			return err
		}
		_, err := f.trustedSigners()
		return err
	default:
		return fmt.Errorf("an ecc file needs signing_key + relay_public_key (backend) or relay_private_key + trusted_signers (relay)")
	}
}

// Role tells which side the file serves.
func (f *File) Role() Role {
	switch {
	case f.Crypto.Method == token.MethodAES:
		return RoleBoth
	case f.Crypto.SigningKey != nil && f.Crypto.RelayPrivateKey == nil:
		return RoleBackend
	case f.Crypto.RelayPrivateKey != nil && f.Crypto.SigningKey == nil:
		return RoleRelay
	}
	return ""
}

// MintKey returns the key a backend mints with. It fails on a relay file.
func (f *File) MintKey() (*token.MintKey, error) {
	switch f.Role() {
	case RoleBoth:
		secret, err := f.aesSecret()
		if err != nil {
			return nil, err
		}
		return token.NewAESMintKey(f.Crypto.KeyID, secret)
	case RoleBackend:
		signer, err := ecPrivate(f.Crypto.SigningKey, "crypto.signing_key")
		if err != nil {
			return nil, err
		}
		relay, err := ecPublic(f.Crypto.RelayPublicKey, "crypto.relay_public_key")
		if err != nil {
			return nil, err
		}
		relayKID := firstNonEmpty(f.Crypto.RelayPublicKey.KeyID, f.Crypto.KeyID)
		return token.NewECCMintKey(f.Crypto.SigningKey.KeyID, signer, relayKID, relay)
	default:
		return nil, fmt.Errorf("wrong role: this is a relay key file; mint with the backend .rai")
	}
}

// AddTo puts the file's decoding key into a relay keyring. It fails on a
// backend ecc file, which holds no decryption key.
func (f *File) AddTo(keys *token.Keyring) error {
	switch f.Role() {
	case RoleBoth:
		secret, err := f.aesSecret()
		if err != nil {
			return err
		}
		return keys.AddAES(f.Crypto.KeyID, secret)
	case RoleRelay:
		private, err := ecPrivate(f.Crypto.RelayPrivateKey, "crypto.relay_private_key")
		if err != nil {
			return err
		}
		signers, err := f.trustedSigners()
		if err != nil {
			return err
		}
		return keys.AddECC(firstNonEmpty(f.Crypto.RelayPrivateKey.KeyID, f.Crypto.KeyID), private, signers)
	default:
		return fmt.Errorf("wrong role: this is a backend ecc .rai; give the relay its relay key file (keygen --relay-out)")
	}
}

// BaseURL returns the relay's origin and base path, e.g. http://127.0.0.1:8840.
func (s Server) BaseURL() string {
	scheme := s.Scheme
	port := s.Port
	if port == 0 {
		port = 8840
	}
	if scheme == "" {
		scheme = "http"
		if port == 443 {
			scheme = "https"
		}
	}
	host := s.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
		host += ":" + strconv.Itoa(port)
	}
	u := url.URL{Scheme: scheme, Host: host}
	return u.String() + s.BasePath
}

// exampleAESKey is the key RelayAPI 1.x published in its README and wrote
// into every default.rai it created: anyone can mint tokens with it.
const exampleAESKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// ErrExampleKey is returned for a key file holding exampleAESKey.
var ErrExampleKey = errors.New("crypto.aes_key is the example key published with RelayAPI 1.x: anyone can mint tokens with it. Make a real key with: relayapi keygen --method aes --out default.rai")

func (f *File) aesSecret() ([]byte, error) {
	if strings.EqualFold(f.Crypto.AESKey, exampleAESKey) {
		return nil, ErrExampleKey
	}
	secret, err := hex.DecodeString(f.Crypto.AESKey)
	if err != nil || len(secret) != token.AESKeySize {
		return nil, fmt.Errorf("crypto.aes_key must be %d hex characters", 2*token.AESKeySize)
	}
	return secret, nil
}

func (f *File) trustedSigners() (map[string]*ecdsa.PublicKey, error) {
	if len(f.Crypto.TrustedSigners) == 0 {
		return nil, fmt.Errorf("crypto.trusted_signers must list at least one signer public key")
	}
	signers := map[string]*ecdsa.PublicKey{}
	for i := range f.Crypto.TrustedSigners {
		jwk := &f.Crypto.TrustedSigners[i]
		where := fmt.Sprintf("crypto.trusted_signers[%d]", i)
		pub, err := ecPublic(jwk, where)
		if err != nil {
			return nil, err
		}
		kid := jwk.KeyID
		if kid == "" {
			if kid, err = token.DeriveKeyID(pub); err != nil {
				return nil, err
			}
		}
		if _, dup := signers[kid]; dup {
			return nil, fmt.Errorf("%s: duplicate kid %q", where, kid)
		}
		signers[kid] = pub
	}
	return signers, nil
}

func ecPrivate(jwk *jose.JSONWebKey, where string) (*ecdsa.PrivateKey, error) {
	if jwk == nil {
		return nil, fmt.Errorf("%s is required", where)
	}
	key, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s must be a P-256 private JWK", where)
	}
	return key, nil
}

func ecPublic(jwk *jose.JSONWebKey, where string) (*ecdsa.PublicKey, error) {
	if jwk == nil {
		return nil, fmt.Errorf("%s is required", where)
	}
	switch key := jwk.Key.(type) {
	case *ecdsa.PublicKey:
		return key, nil
	case *ecdsa.PrivateKey:
		return nil, fmt.Errorf("%s must be a public key, but it holds a private key", where)
	}
	return nil, fmt.Errorf("%s must be a P-256 public JWK", where)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Flavors of base URL, one per vendor SDK convention (docs/token-format.md §7).
const (
	FlavorOpenAI    = "openai"
	FlavorAnthropic = "anthropic"
	FlavorGemini    = "gemini"
)

// TokenURL returns the base URL a vendor SDK of flavor uses to reach the
// relay with tok in the path.
func (s Server) TokenURL(tok, flavor string) (string, error) {
	base := s.BaseURL() + "/t/" + tok
	switch flavor {
	case FlavorOpenAI, "":
		return base + "/v1", nil
	case FlavorAnthropic, FlavorGemini:
		return base, nil
	}
	return "", fmt.Errorf("unknown flavor %q (openai, anthropic or gemini)", flavor)
}
