package token_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

// What a decoded-token cache miss costs: one token opened per request, as
// the relay does for a token it has not seen (or has evicted).
func BenchmarkOpen(b *testing.B) {
	for _, method := range []string{"aes", "ecc"} {
		b.Run(method, func(b *testing.B) {
			ring, mint := keys(b, method)
			raw, err := token.Encode(&token.Claims{
				ID: "session-0000000000000001-abcdef", ExpiresAt: time.Now().Add(time.Hour).Unix(),
				Provider: "openai", APIKey: "sk-proj-0123456789abcdefghijklmnopqrstuvwxyz", MaxCalls: 100,
				Models: []string{"gpt-4o-mini"}, Origins: []string{"https://app.example.com"},
			}, mint)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ring.Open(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func keys(b *testing.B, method string) (*token.Keyring, *token.MintKey) {
	ring := token.NewKeyring()
	if method == "aes" {
		k, err := rai.GenerateAES(rai.Server{})
		if err != nil {
			b.Fatal(err)
		}
		mint, _ := k.MintKey()
		if err := k.AddTo(ring); err != nil {
			b.Fatal(err)
		}
		return ring, mint
	}
	backend, relayFile, err := rai.GenerateECC(rai.Server{})
	if err != nil {
		b.Fatal(fmt.Errorf("ecc keys: %w", err))
	}
	mint, _ := backend.MintKey()
	if err := relayFile.AddTo(ring); err != nil {
		b.Fatal(err)
	}
	return ring, mint
}
