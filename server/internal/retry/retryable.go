package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Retryable reports whether an upstream attempt that ended with status (or
// err, which takes precedence) is worth another try.
//
// Statuses: 429 and the transient 5xx (500, 502, 503, 504, and Anthropic's
// 529 "overloaded"). 501 and other 5xx are permanent.
//
// Errors: connection-level failures (refused, reset, DNS, dial timeout,
// truncated response). Not context.Canceled (the client left: nobody to
// answer) nor context.DeadlineExceeded (the caller's own budget is spent),
// nor anything else, such as TLS certificate or malformed-request errors,
// that a second try cannot fix.
func Retryable(status int, err error) bool {
	if err != nil {
		return retryableErr(err)
	}
	switch status {
	case 429, 500, 502, 503, 504, 529:
		return true
	}
	return false
}

func retryableErr(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound // a name that does not exist stays so
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
