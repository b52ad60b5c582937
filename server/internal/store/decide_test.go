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
