// Package store defines the usage store: the relay's only state (call
// counters, revocations). Every implementation makes Admit atomic, so a
// limit holds under any concurrency and across instances sharing it.
package store

import (
	"context"
	"errors"
	"time"
)

// Admission asks to spend one call of a token.
type Admission struct {
	TokenID string
	// MaxCalls is the token's limit; 0 means unlimited (still counted).
	MaxCalls int64
	// ExpiresAt lets the store forget the token's state after expiry.
	ExpiresAt time.Time
	Now       time.Time
}

// Decision is the outcome of Admit.
type Decision int

const (
	Admitted Decision = iota
	Revoked
	CallLimitReached
)

// Usage is what the store knows about one token.
type Usage struct {
	TokenID   string
	Calls     int64
	MaxCalls  int64 // 0: unlimited or unknown
	FirstSeen time.Time
	LastSeen  time.Time
	Revoked   bool
}

// ErrUnavailable wraps every failure to reach the store, so the relay can
// answer store_unavailable (and never forward unmetered).
var ErrUnavailable = errors.New("usage store unavailable")

// Store is implemented by every backend (SQLite, Redis, PostgreSQL).
type Store interface {
	// Admit atomically checks revocation and spends one call if the limit
	// allows. A call is recorded durably before Admit returns Admitted.
	Admit(ctx context.Context, a Admission) (Decision, error)
	// Refund gives back one call whose upstream attempt failed before any
	// byte reached the client.
	Refund(ctx context.Context, tokenID string) error
	// Revoke makes every later Admit of tokenID return Revoked. A zero
	// expiresAt keeps the revocation until the token's recorded expiry (or
	// forever when the store never saw the token).
	Revoke(ctx context.Context, tokenID string, expiresAt time.Time) error
	// Usage reports a token's counters; ok is false for an unknown token.
	Usage(ctx context.Context, tokenID string) (u Usage, ok bool, err error)
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
