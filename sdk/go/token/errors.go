package token

import "errors"

// The three outcomes a relay reports for a token that did not pass. Every
// decode, decrypt, signature or claim-validation failure is ErrInvalid: one
// uniform answer, so the response carries no oracle.
var (
	ErrInvalid     = errors.New("invalid_token")
	ErrExpired     = errors.New("token_expired")
	ErrNotYetValid = errors.New("token_not_yet_valid")
)

// ErrTooLarge is what Encode returns for claims whose token would pass
// MaxTokenSize: the relay would refuse it.
var ErrTooLarge = errors.New("token too large")

// invalidError carries the internal reason a token was rejected. The reason
// is always a fixed string chosen here (never token bytes, claims or key
// material), so it is safe for a debug log; callers answer ErrInvalid.
type invalidError struct{ reason string }

func (e *invalidError) Error() string        { return "invalid_token: " + e.reason }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(reason string) error { return &invalidError{reason: reason} }

// Code maps a Decode error to its public error code (DESIGN.md §5).
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrExpired):
		return "token_expired"
	case errors.Is(err, ErrNotYetValid):
		return "token_not_yet_valid"
	default:
		return "invalid_token"
	}
}
