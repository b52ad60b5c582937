package token_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// FuzzDecode feeds arbitrary strings to the decoder of a relay holding both
// an aes and an ecc key: it must never panic, and anything it accepts must
// be a token whose claims pass validation.
func FuzzDecode(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(vectorsDir, "vectors.json"))
	if err != nil {
		f.Fatal(err)
	}
	var s vectorSuite
	if err := json.Unmarshal(data, &s); err != nil {
		f.Fatal(err)
	}
	for _, v := range s.Vectors {
		f.Add(v.Token)
	}
	keys := token.NewKeyring()
	for _, name := range []string{"aes.rai", "ecc-relay.rai"} {
		file, err := rai.Load(filepath.Join(vectorsDir, name))
		if err != nil {
			f.Fatal(err)
		}
		if err := file.AddTo(keys); err != nil {
			f.Fatal(err)
		}
	}
	now := time.Unix(s.Now, 0)
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := token.Decode(tok, keys, now)
		if err != nil {
			if !errors.Is(err, token.ErrInvalid) && !errors.Is(err, token.ErrExpired) && !errors.Is(err, token.ErrNotYetValid) {
				t.Fatalf("unexpected error class %v", err)
			}
			return
		}
		if err := claims.Validate(); err != nil {
			t.Fatalf("accepted claims fail validation: %v", err)
		}
	})
}
