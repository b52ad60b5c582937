package store

import (
	"testing"
	"time"
)

func TestDecideSurvivesRPMBeyondMillisecondResolution(t *testing.T) {
	a := Admission{TokenID: "x", RPM: 1_000_000, Now: time.Unix(1_800_000_000, 0)}
	g, _ := Decide(State{}, a)
	if g.Decision != Admitted || g.RPMRemaining != 1_000_000 {
		t.Fatalf("%+v", g)
	}
}

func TestRefundAllowedStopsAtTheLimit(t *testing.T) {
	for _, c := range []struct {
		s              Settlement
		calls, refunds int64
		want           bool
	}{
		{Settlement{Refund: false}, 1, 0, false},
		{Settlement{Refund: true}, 1, 1_000_000, true}, // no limit
		{Settlement{Refund: true, RefundLimit: 2}, 1, 0, true},
		{Settlement{Refund: true, RefundLimit: 2}, 1, 1, true},
		{Settlement{Refund: true, RefundLimit: 2}, 1, 2, false},
		{Settlement{Refund: true, RefundLimit: 2}, 1, 3, false},
		{Settlement{Refund: true, RefundLimit: 2}, 0, 0, false}, // nothing to give back
		{Settlement{Refund: true}, 0, 0, false},
	} {
		if got := RefundAllowed(c.s, c.calls, c.refunds); got != c.want {
			t.Errorf("%+v calls %d refunds %d: %v, want %v", c.s, c.calls, c.refunds, got, c.want)
		}
	}
}
