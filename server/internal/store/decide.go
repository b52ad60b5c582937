package store

import "time"

// State is what a store holds for one admission decision. Stores load it,
// call Decide, and write back what Decide granted, all in one atomic step
// (a transaction or a script), so every backend applies identical rules.
type State struct {
	Revoked      bool
	Calls        int64
	RPMTAT       int64 // GCRA theoretical arrival time, Unix ms
	ActiveLeases int64
	TokensUsed   int64
	Reserved     int64
	SubjectCalls int64 // calls of the subject in the current window
}

const minute = int64(time.Minute / time.Millisecond)

// Decide applies the limits in a fixed order: revocation, calls, the
// subject's window, rate, concurrency, budget. A refusal changes nothing.
// On admission the caller adds one call, one subject call and one lease,
// stores NewTAT, and adds Grant.Reserved to the reservation.
func Decide(s State, a Admission) (g Grant, newTAT int64) {
	now := a.Now.UnixMilli()
	switch {
	case s.Revoked:
		return Grant{Decision: Revoked}, s.RPMTAT
	case a.MaxCalls > 0 && s.Calls >= a.MaxCalls:
		return Grant{Decision: CallLimitReached, Calls: s.Calls}, s.RPMTAT
	case a.SubjectLimit.Calls > 0 && s.SubjectCalls >= a.SubjectLimit.Calls:
		end := WindowStart(a.Now, a.SubjectLimit.Window).Add(a.SubjectLimit.Window)
		return Grant{Decision: SubjectLimitReached, RetryAfter: end.Sub(a.Now)}, s.RPMTAT
	}
	g = Grant{Decision: Admitted, Calls: s.Calls + 1}
	newTAT = s.RPMTAT
	if a.RPM > 0 {
		interval := minute / a.RPM
		tat := max(s.RPMTAT, now)
		next := tat + interval
		if next-now > minute {
			wait := time.Duration(next-now-minute) * time.Millisecond
			return Grant{Decision: RateLimited, RetryAfter: wait, RPMReset: time.Duration(tat-now) * time.Millisecond}, s.RPMTAT
		}
		newTAT = next
		// Above 60,000 rpm the spacing rounds to 0 ms: no call is spaced
		// out at this resolution, which every backend applies alike.
		g.RPMRemaining = a.RPM
		if interval > 0 {
			g.RPMRemaining = (minute - (next - now)) / interval
		}
		g.RPMReset = time.Duration(next-now) * time.Millisecond
	}
	if a.Concurrency > 0 && s.ActiveLeases >= a.Concurrency {
		return Grant{Decision: ConcurrencyLimited, RetryAfter: time.Second}, s.RPMTAT
	}
	if a.TokenBudget > 0 {
		remaining := a.TokenBudget - s.TokensUsed - s.Reserved
		prompt := max(a.PromptEstimate, 1)
		if remaining <= prompt {
			g := Grant{Decision: BudgetExceeded, BudgetRemaining: max(remaining, 0)}
			if a.TokenBudget-s.TokensUsed > prompt {
				// Only calls in flight hold what is missing: once they
				// settle (usually below their reservation) it may fit.
				g.BudgetHeld = s.Reserved
			}
			return g, s.RPMTAT
		}
		completion := remaining - prompt
		if a.RequestedMaxTokens > 0 {
			completion = min(completion, a.RequestedMaxTokens)
		}
		g.CompletionCap = completion
		g.Reserved = prompt + completion
		g.BudgetRemaining = remaining - g.Reserved
	}
	return g, newTAT
}

// RefundAllowed tells whether a settlement gives its call back, given the
// token's calls and refunds so far: when asked, when there is a call to
// give back, and while the refunds are below RefundLimit (0: no limit).
// An honoured refund takes one call off and adds one refund; a refused
// one leaves the call spent. Every backend applies it in the same atomic
// step as the rest of the settlement, so concurrent settlements, from any
// number of relays, never honour more than RefundLimit refunds.
func RefundAllowed(s Settlement, calls, refunds int64) bool {
	return s.Refund && calls > 0 && (s.RefundLimit <= 0 || refunds < s.RefundLimit)
}

// WindowStart is the start of the fixed window containing t.
func WindowStart(t time.Time, window time.Duration) time.Time {
	if window <= 0 {
		return time.Unix(0, 0)
	}
	return t.Truncate(window)
}
