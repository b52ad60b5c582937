package token_test

import (
	"sort"
	"testing"
	"time"
)

// TestUntrustedSignerCostsTheSameAsABadSignature pins the decoy
// verification: without it an untrusted signer kid was rejected in about
// half the time, revealing which signer ids a relay trusts. Medians of
// interleaved runs, compared with a generous factor for shared machines.
func TestUntrustedSignerCostsTheSameAsABadSignature(t *testing.T) {
	s := loadVectors(t)
	tokens := map[string]string{}
	for _, v := range s.Vectors {
		if v.Name == "ecc-untrusted-signer" || v.Name == "ecc-bad-signature" {
			tokens[v.Name] = v.Token
		}
	}
	keys := keyringFor(t, s.Keys["ecc_relay"])
	samples := map[string][]time.Duration{}
	for i := 0; i < 150; i++ {
		for name, tok := range tokens {
			start := time.Now()
			if _, err := keys.Open(tok); err == nil {
				t.Fatalf("%s decoded", name)
			}
			samples[name] = append(samples[name], time.Since(start))
		}
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	untrusted, badSig := median(samples["ecc-untrusted-signer"]), median(samples["ecc-bad-signature"])
	ratio := float64(badSig) / float64(untrusted)
	if ratio > 1.6 || ratio < 1/1.6 {
		t.Fatalf("untrusted signer %v vs bad signature %v (ratio %.2f): a timing oracle", untrusted, badSig, ratio)
	}
}
