package retry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
)

func TestRetryableStatuses(t *testing.T) {
	yes := []int{429, 500, 502, 503, 504, 529}
	no := []int{200, 400, 401, 403, 404, 408, 413, 501, 505}
	for _, s := range yes {
		if !Retryable(s, nil) {
			t.Errorf("%d not retryable", s)
		}
	}
	for _, s := range no {
		if Retryable(s, nil) {
			t.Errorf("%d retryable", s)
		}
	}
}

func TestConnectionRefusedFromARealDialIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = http.Get("http://" + addr + "/")
	if err == nil {
		t.Skip("port was reused")
	}
	if !Retryable(0, err) {
		t.Fatalf("refused connection not retryable: %v", err)
	}
}

func TestRetryableErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("upstream: %w", err) }
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"reset", wrap(syscall.ECONNRESET), true},
		{"truncated", wrap(io.ErrUnexpectedEOF), true},
		{"dial timeout", &net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, true},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true},
		{"dns not found", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, false},
		{"client left", wrap(context.Canceled), false},
		{"dial cancelled", &net.OpError{Op: "dial", Err: context.Canceled}, false},
		{"deadline", wrap(context.DeadlineExceeded), false},
		{"bad certificate", wrap(x509.UnknownAuthorityError{}), false},
		{"other", errors.New("unsupported protocol scheme"), false},
	}
	for _, c := range cases {
		if got := Retryable(502, c.err); got != c.want {
			t.Errorf("%s: Retryable = %v, want %v", c.name, got, c.want)
		}
	}
}
