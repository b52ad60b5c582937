package retry

import (
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func fixed(f float64) func() float64 { return func() float64 { return f } }

func TestBackoffDoublesPerAttemptUpToMaxDelay(t *testing.T) {
	p := Policy{MaxRetries: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxTotal: time.Hour}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for attempt, w := range want {
		// rnd just below 1 gives (almost) the full cap.
		d, ok := p.Delay(attempt, "", now, 0, fixed(0.999999))
		if !ok || d.Round(time.Millisecond) != w*time.Millisecond {
			t.Errorf("attempt %d: %s, %v; want %dms", attempt, d, ok, w)
		}
	}
}

func TestJitterScalesTheCapByTheRandomDraw(t *testing.T) {
	p := DefaultPolicy()
	d, _ := p.Delay(1, "", now, 0, fixed(0.5))
	if d != p.BaseDelay { // 0.5 × 2 × base
		t.Fatalf("delay %s, want %s", d, p.BaseDelay)
	}
	if d, _ := p.Delay(1, "", now, 0, fixed(0)); d != 0 {
		t.Fatalf("zero draw gave %s", d)
	}
}

func TestSeededSourceGivesReproducibleDelaysWithinTheCap(t *testing.T) {
	p := DefaultPolicy()
	a, b := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	for attempt := range p.MaxRetries {
		da, _ := p.Delay(attempt, "", now, 0, a.Float64)
		db, _ := p.Delay(attempt, "", now, 0, b.Float64)
		if da != db || da < 0 || da > p.backoffCap(attempt) {
			t.Fatalf("attempt %d: %s vs %s (cap %s)", attempt, da, db, p.backoffCap(attempt))
		}
	}
}

func TestNoRetryBeyondMaxRetries(t *testing.T) {
	p := DefaultPolicy()
	if _, ok := p.Delay(p.MaxRetries-1, "", now, 0, fixed(0)); !ok {
		t.Fatal("last allowed retry refused")
	}
	if _, ok := p.Delay(p.MaxRetries, "", now, 0, fixed(0)); ok {
		t.Fatal("retried past MaxRetries")
	}
	if _, ok := (Policy{}).Delay(0, "", now, 0, fixed(0)); ok {
		t.Fatal("zero policy retried")
	}
}

func TestNoRetryWhenTheWaitWouldPassTheTimeBudget(t *testing.T) {
	p := DefaultPolicy()
	if _, ok := p.Delay(0, "", now, p.MaxTotal, fixed(0)); ok {
		t.Fatal("retried with the budget spent")
	}
	if _, ok := p.Delay(0, "", now, p.MaxTotal-time.Millisecond, fixed(0.999)); ok {
		t.Fatal("retried although the backoff overruns the budget")
	}
}

func TestRetryAfterRaisesTheWait(t *testing.T) {
	p := DefaultPolicy()
	d, ok := p.Delay(0, "3", now, time.Second, fixed(0.1))
	if !ok || d != 3*time.Second {
		t.Fatalf("delay %s, %v; want 3s", d, ok)
	}
	d, ok = p.Delay(0, now.Add(2*time.Second).Format(http.TimeFormat), now, 0, fixed(0.1))
	if !ok || d != 2*time.Second {
		t.Fatalf("HTTP-date delay %s, %v; want 2s", d, ok)
	}
}

func TestRetryAfterBeyondTheBudgetMeansNoRetry(t *testing.T) {
	p := DefaultPolicy()
	if _, ok := p.Delay(0, "60", now, 0, fixed(0)); ok {
		t.Fatal("waited for a Retry-After past the budget")
	}
	if _, ok := p.Delay(0, "8", now, 3*time.Second, fixed(0)); ok {
		t.Fatal("8s wait after 3s exceeds a 10s budget")
	}
}

func TestMalformedRetryAfterFallsBackToBackoff(t *testing.T) {
	d, ok := DefaultPolicy().Delay(0, "soon", now, 0, fixed(0.5))
	if !ok || d != DefaultPolicy().BaseDelay/2 {
		t.Fatalf("delay %s, %v", d, ok)
	}
}

func TestBrokenRandomSourceCannotStretchTheWait(t *testing.T) {
	for _, f := range []float64{-1, 1, 7} {
		if d, _ := DefaultPolicy().Delay(0, "", now, 0, fixed(f)); d != 0 {
			t.Errorf("rnd %v gave %s", f, d)
		}
	}
}

func TestNilRandomSourceStaysWithinTheCap(t *testing.T) {
	p := DefaultPolicy()
	for range 100 {
		if d, ok := p.Delay(1, "", now, 0, nil); !ok || d > p.backoffCap(1) {
			t.Fatalf("delay %s, %v", d, ok)
		}
	}
}
