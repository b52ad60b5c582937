package token_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

const vectorsDir = "../../../testdata/vectors"

type vectorSuite struct {
	Now     int64             `json:"now"`
	Leeway  int               `json:"leeway"`
	Keys    map[string]string `json:"keys"`
	Vectors []struct {
		Name     string          `json:"name"`
		RelayKey string          `json:"relay_key"`
		Token    string          `json:"token"`
		Claims   json.RawMessage `json:"claims"`
		Error    string          `json:"error"`
	} `json:"vectors"`
}

func loadVectors(t *testing.T) vectorSuite {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorsDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s vectorSuite
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func keyringFor(t *testing.T, file string) *token.Keyring {
	t.Helper()
	f, err := rai.Load(filepath.Join(vectorsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeyring()
	if err := f.AddTo(keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestVectorsDecodeToTheirExpectedClaimsOrError(t *testing.T) {
	s := loadVectors(t)
	if len(s.Vectors) < 40 {
		t.Fatalf("only %d vectors", len(s.Vectors))
	}
	now := time.Unix(s.Now, 0)
	for _, v := range s.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			keys := keyringFor(t, s.Keys[v.RelayKey])
			claims, err := keys.Open(v.Token)
			if err == nil {
				err = claims.CheckTime(now, time.Duration(s.Leeway)*time.Second)
			}
			if v.Error != "" {
				if err == nil {
					t.Fatalf("decoded, want %s", v.Error)
				}
				if got := token.Code(err); got != v.Error {
					t.Fatalf("code %s (%v), want %s", got, err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, _ := json.Marshal(claims)
			assertSameJSON(t, got, v.Claims)
		})
	}
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("claims differ\n got %s\nwant %s", got, want)
	}
}

func TestEveryInvalidVectorIsOneUniformError(t *testing.T) {
	s := loadVectors(t)
	for _, v := range s.Vectors {
		if v.Error != "invalid_token" {
			continue
		}
		keys := keyringFor(t, s.Keys[v.RelayKey])
		_, err := keys.Open(v.Token)
		if !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: error %v does not match ErrInvalid", v.Name, err)
		}
	}
}

func TestSeedFormatLoadsWithAWarningAboutTheIVSeed(t *testing.T) {
	f, err := rai.Load(filepath.Join(vectorsDir, "aes.rai"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 {
		t.Fatalf("warnings %v, want one about aes_iv_seed", f.Warnings)
	}
}
