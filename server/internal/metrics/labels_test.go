package metrics

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestModelLabelsAreCappedAndTheRestBecomeOther(t *testing.T) {
	m := New()
	for i := range maxModels + 50 {
		m.ObserveRequest("openai", fmt.Sprintf("model-%d", i), "", 200, time.Millisecond, time.Millisecond)
	}
	m.ObserveRequest("openai", "model-0", "", 200, time.Millisecond, time.Millisecond)
	body := scrape(t, m)
	if got := strings.Count(body, "relayapi_requests_total{"); got != maxModels+1 {
		t.Fatalf("%d request series, want %d (cap + other)", got, maxModels+1)
	}
	mustContain(t, body,
		`relayapi_requests_total{code="none",model="other",provider="openai",status="200"} 50`,
		`relayapi_requests_total{code="none",model="model-0",provider="openai",status="200"} 2`,
	)
}

func TestLabelSetCapHoldsUnderConcurrency(t *testing.T) {
	s := newLabelSet(10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				s.value(fmt.Sprintf("v-%d-%d", g, i))
			}
		})
	}
	wg.Wait()
	if len(s.seen) != 10 {
		t.Fatalf("%d values remembered, want 10", len(s.seen))
	}
}

func TestSanitizeBoundsLengthAndReplacesUnprintable(t *testing.T) {
	cases := map[string]string{
		"":                      "none",
		"gpt-4o":                "gpt-4o",
		"a\nb\x00c":             "a_b_c",
		"bad\xffutf8":           "bad_utf8",
		strings.Repeat("x", 70): strings.Repeat("x", 64),
		strings.Repeat("é", 40): strings.Repeat("é", 32),
	}
	for in, want := range cases {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoLabelCarriesASecret(t *testing.T) {
	secrets := []string{
		"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
		"sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
		"AIzaSyA-abcdefghijklmnopqrstuvwxyz012",
		"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..abc.def.ghi",
	}
	m := New()
	for _, s := range secrets {
		m.ObserveRequest(s, s, s, 200, time.Millisecond, time.Millisecond)
		m.UpstreamError(s, s)
		m.Tokens(s, s, 1, 1, false)
		m.StoreLatency(s, time.Millisecond, nil)
	}
	body := scrape(t, m)
	for _, s := range secrets {
		// A truncated prefix would still be a leak, so look for a piece.
		if strings.Contains(body, s[:12]) {
			t.Errorf("scrape contains secret %q", s[:12])
		}
	}
	mustContain(t, body, `relayapi_requests_total{code="redacted",model="redacted",provider="redacted",status="200"} 4`)
}

func TestOutOfRangeStatusIsOther(t *testing.T) {
	for status, want := range map[int]string{0: "other", 99: "other", 200: "200", 599: "599", 600: "other"} {
		if got := statusLabel(status); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", status, got, want)
		}
	}
}
