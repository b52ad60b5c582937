package rai

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"

	"github.com/relayapi/relayapi/sdk/go/token"
)

// FormatVersion is written into new files.
const FormatVersion = "1"

// GenerateAES returns a new `aes` file with a random key.
func GenerateAES(server Server) (*File, error) {
	secret := make([]byte, token.AESKeySize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("random key: %w", err)
	}
	return &File{
		Version: FormatVersion,
		Server:  server,
		Crypto:  Crypto{Method: token.MethodAES, AESKey: hex.EncodeToString(secret)},
	}, nil
}

// GenerateECC returns a new key pair set as two files: the backend's (signing
// private key + relay public key) and the relay's (relay private key + the
// backend's public key as its one trusted signer).
func GenerateECC(server Server) (backend, relay *File, err error) {
	signing, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: %w", err)
	}
	decrypting, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("relay key: %w", err)
	}
	signKID, err := token.DeriveKeyID(signing)
	if err != nil {
		return nil, nil, err
	}
	relayKID, err := token.DeriveKeyID(decrypting)
	if err != nil {
		return nil, nil, err
	}
	sig := func(key any) *jose.JSONWebKey {
		return &jose.JSONWebKey{Key: key, KeyID: signKID, Algorithm: string(jose.ES256), Use: "sig"}
	}
	enc := func(key any) *jose.JSONWebKey {
		return &jose.JSONWebKey{Key: key, KeyID: relayKID, Algorithm: string(jose.ECDH_ES), Use: "enc"}
	}
	backend = &File{Version: FormatVersion, Server: server, Crypto: Crypto{
		Method:         token.MethodECC,
		SigningKey:     sig(signing),
		RelayPublicKey: enc(&decrypting.PublicKey),
	}}
	relay = &File{Version: FormatVersion, Server: server, Crypto: Crypto{
		Method:          token.MethodECC,
		RelayPrivateKey: enc(decrypting),
		TrustedSigners:  []jose.JSONWebKey{*sig(&signing.PublicKey)},
	}}
	return backend, relay, nil
}

// Marshal returns the file as indented JSON.
func (f *File) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Write saves the file with owner-only permissions; it refuses to overwrite
// an existing file so a key is never lost by accident.
func (f *File) Write(path string) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
