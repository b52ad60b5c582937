// Package store defines the usage store: the relay's only state (call
// counters, rate windows, concurrency leases, token budgets, revocations
// and the request log). Every implementation makes Admit atomic, so a limit
// holds under any concurrency and across instances sharing the store.
package store

import (
	"context"
	"errors"
	"time"
)

// Admission asks to start one call of a token.
type Admission struct {
	TokenID string
	Subject string
	// Limits from the token; 0 means "no limit" (the call is still counted).
	MaxCalls    int64
	RPM         int64
	Concurrency int64
	TokenBudget int64
	// PromptEstimate is an over-estimate of the request's prompt tokens and
	// RequestedMaxTokens the completion cap the request asked for (0: none).
	// With a TokenBudget, the store reserves the prompt estimate plus a
	// completion cap that fits in what is left, and grants that cap.
	PromptEstimate     int64
	RequestedMaxTokens int64
	// SubjectLimit is the operator's per-end-user limit (config), applied
	// across every token with the same Subject.
	SubjectLimit SubjectLimit
	// ExpiresAt lets the store forget the token's state after expiry.
	ExpiresAt time.Time
	Now       time.Time
	// LeaseTTL bounds how long a concurrency lease lives without renewal,
	// so a relay killed mid-stream does not hold a slot forever.
	LeaseTTL time.Duration
}

// SubjectLimit caps the calls of one `sub` per fixed window.
type SubjectLimit struct {
	Calls  int64
	Window time.Duration
}

// Decision is the outcome of Admit.
type Decision int

const (
	Admitted Decision = iota
	Revoked
	CallLimitReached
	RateLimited
	ConcurrencyLimited
	BudgetExceeded
	SubjectLimitReached
)

// Grant is the answer to an Admission.
type Grant struct {
	Decision Decision
	// RetryAfter hints when a rate or concurrency refusal may succeed.
	RetryAfter time.Duration
	// LeaseID identifies the concurrency slot to renew and release.
	LeaseID string
	// Reserved budget tokens held for this call until Settle.
	Reserved int64
	// CompletionCap is the max_tokens the request must be clamped to so the
	// budget cannot be overshot (0 when the token has no budget).
	CompletionCap int64
	// Calls used including this one.
	Calls int64
	// RPMRemaining and RPMReset feed the x-ratelimit-* headers.
	RPMRemaining int64
	RPMReset     time.Duration
	// BudgetRemaining after this call's reservation (when budgeted).
	BudgetRemaining int64
	// BudgetHeld, on a BudgetExceeded refusal, is what calls in flight
	// hold of a budget that would otherwise fit the call: the refusal is
	// temporary. 0 when the budget is truly spent.
	BudgetHeld int64
}

// Settlement ends a call that was Admitted.
type Settlement struct {
	TokenID string
	LeaseID string
	// Reserved is the Grant's reservation, released now.
	Reserved int64
	// Tokens actually used (from the provider's usage, or an estimate).
	PromptTokens     int64
	CompletionTokens int64
	// Refund gives the call back (the upstream attempt failed before any
	// byte reached the client), if RefundLimit allows it.
	Refund bool
	// RefundLimit bounds the refunds of the token: a refund is honoured
	// only while the token's refunded calls so far are below it, so a
	// token whose provider keeps failing cannot reach it forever. Past it
	// the call stays spent. 0 means refunds are not bounded (the relay
	// passes max_calls, and a token without max_calls has no call limit
	// to protect).
	RefundLimit int64
	// LastError is the relay or upstream error code of the call, if any.
	LastError string
	Now       time.Time
}

// Hold re-sizes the reservation of a call in progress and charges what it
// has used so far, without ending it: a realtime session is one call with
// many responses, each reserved before it may start and charged when it
// is done.
type Hold struct {
	TokenID string
	LeaseID string
	// TokenBudget is the token's budget (the claim); 0 only charges.
	TokenBudget int64
	// Tokens used since the call's last Hold, charged now.
	PromptTokens     int64
	CompletionTokens int64
	// Want is the reservation the call needs from now on. The lease holds
	// Want, or all the budget has left for it when that is less.
	Want int64
	Now  time.Time
}

// Held is the answer to a Hold.
type Held struct {
	// Reserved is the lease's reservation now (≤ Want).
	Reserved int64
	// BudgetRemaining is what the budget has left for other calls.
	BudgetRemaining int64
	// Lapsed: the lease had expired (its reservation was charged in full),
	// so nothing was charged now and the call must end.
	Lapsed bool
}

// Rehold is the arithmetic of a Hold, shared by every backend: used and
// othersReserved are the token's counters after the charge, without this
// lease's own reservation.
func Rehold(h Hold, used, othersReserved int64) Held {
	if h.TokenBudget <= 0 {
		return Held{}
	}
	avail := max(h.TokenBudget-used-othersReserved, 0)
	r := min(max(h.Want, 0), avail)
	return Held{Reserved: r, BudgetRemaining: avail - r}
}

// Usage is what the store knows about one token.
type Usage struct {
	TokenID          string
	Subject          string
	Calls            int64
	MaxCalls         int64
	Refunds          int64 // calls given back (Settlement.Refund honoured)
	PromptTokens     int64
	CompletionTokens int64
	TokenBudget      int64
	Reserved         int64
	FirstSeen        time.Time
	LastSeen         time.Time
	ExpiresAt        time.Time
	Revoked          bool
	LastError        string
}

// TokensUsed is prompt + completion tokens.
func (u Usage) TokensUsed() int64 { return u.PromptTokens + u.CompletionTokens }

// TokenFilter selects tokens for listing; Cursor is opaque, from a previous page.
type TokenFilter struct {
	Subject string
	Limit   int
	Cursor  string
}

// Record is one line of the request log: never bodies, keys or tokens.
type Record struct {
	Time             time.Time
	RequestID        string
	TokenID          string
	Subject          string
	Provider         string
	Model            string
	Path             string
	Status           int
	Latency          time.Duration
	TTFB             time.Duration
	PromptTokens     int64
	CompletionTokens int64
	// Estimated marks token counts the relay estimated (client left
	// mid-stream, provider sent no usage).
	Estimated bool
	// UsageSource says where the token counts come from: "provider" (the
	// provider's reported usage), "estimate" (the stream broke off or the
	// client left: estimated), "reservation" (a 2xx whose usage could not
	// be read: charged the whole reservation, failing closed), "cut" (a
	// stream the relay stopped past its cap), "fixed" (an unmetered
	// endpoint at the operator's fixed price), "free" (an endpoint the
	// provider does not bill) or "" (nothing charged).
	UsageSource string
	BytesIn     int64
	BytesOut    int64
	ErrorCode   string
}

// RecordFilter selects request-log lines, newest first. Every field set
// narrows the selection (AND); the zero value selects every line.
type RecordFilter struct {
	TokenID  string
	Subject  string
	Provider string
	Model    string
	// Code is the relay error code; CodeNone selects lines without one.
	Code string
	// StatusMin and StatusMax bound Status, inclusive; 0 is unbounded.
	StatusMin, StatusMax int
	// Since (inclusive) and Until (exclusive) bound Time; zero is unbounded.
	Since, Until time.Time
	Limit        int
	Cursor       string
}

// CodeNone as RecordFilter.Code selects the lines with no error code.
const CodeNone = "none"

// Match reports whether r passes every condition of f but the page: what
// a backend that cannot filter in its query (Redis) filters with, so
// every backend selects the same lines.
func (f RecordFilter) Match(r Record) bool {
	return (f.TokenID == "" || r.TokenID == f.TokenID) &&
		(f.Subject == "" || r.Subject == f.Subject) &&
		(f.Provider == "" || r.Provider == f.Provider) &&
		(f.Model == "" || r.Model == f.Model) &&
		f.matchCode(r.ErrorCode) &&
		(f.StatusMin == 0 || r.Status >= f.StatusMin) &&
		(f.StatusMax == 0 || r.Status <= f.StatusMax) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || r.Time.Before(f.Until))
}

func (f RecordFilter) matchCode(code string) bool {
	switch f.Code {
	case "":
		return true
	case CodeNone:
		return code == ""
	}
	return code == f.Code
}

// MaxScan bounds the rows one ScanRecords call reads for the admin API's
// aggregates: enough for an hour at 50 requests a second, little enough
// to fold in memory in well under a second.
const MaxScan = 200_000

// ErrUnavailable wraps every failure to reach the store, so the relay can
// answer store_unavailable (and never forward unmetered).
var ErrUnavailable = errors.New("usage store unavailable")

// Store is implemented by every backend (SQLite, Redis, PostgreSQL).
type Store interface {
	// Admit atomically checks revocation and every limit and, if all
	// pass, spends one call, takes a concurrency lease and reserves budget.
	// What it grants is recorded durably before Admit returns.
	Admit(ctx context.Context, a Admission) (Grant, error)
	// Hold charges a call in progress what it used so far and re-sizes
	// its lease's reservation (Rehold), in one atomic step; a lease that
	// expired is left alone (Held.Lapsed).
	Hold(ctx context.Context, h Hold) (Held, error)
	// RenewLease extends a live concurrency lease (long streams).
	RenewLease(ctx context.Context, tokenID, leaseID string, ttl time.Duration, now time.Time) error
	// Settle releases the lease and reservation, records the tokens used,
	// and refunds the call when asked and the refund limit allows it
	// (RefundAllowed), all in one atomic step.
	Settle(ctx context.Context, s Settlement) error
	// Revoke makes every later Admit of tokenID return Revoked.
	Revoke(ctx context.Context, tokenID string, now time.Time) error
	// Usage reports a token's counters; ok is false for an unknown token.
	Usage(ctx context.Context, tokenID string) (u Usage, ok bool, err error)
	// Tokens lists tokens, optionally of one subject, in a stable order.
	Tokens(ctx context.Context, f TokenFilter) (page []Usage, next string, err error)
	// Log appends records to the request log (may be batched).
	Log(ctx context.Context, records []Record) error
	// Requests reads the request log, newest first. A page may hold fewer
	// than f.Limit lines while next is not "" (a backend that filters
	// while it scans stops after a bounded scan); next is "" on the last.
	Requests(ctx context.Context, f RecordFilter) (page []Record, next string, err error)
	// ScanRecords calls fn with the log lines of since <= Time < until,
	// newest first, at most limit of them (limit <= 0: none). truncated
	// says it stopped at limit with lines of the range left unread. An
	// error of fn ends the scan and is returned as is.
	ScanRecords(ctx context.Context, since, until time.Time, limit int, fn func(Record) error) (truncated bool, err error)
	// Prune deletes log records older than before and state of tokens
	// expired before it.
	Prune(ctx context.Context, before time.Time) error
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// ErrBadCursor is a pagination cursor the store did not issue.
var ErrBadCursor = errors.New("invalid cursor")
