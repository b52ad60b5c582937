package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/relayapi/relayapi/server/internal/credentials"
	"github.com/relayapi/relayapi/server/internal/retry"
)

// roundTrip sends a call upstream, retrying connect errors, 429 and 5xx
// with backoff and jitter. It runs before anything was written to the
// client, so a retry is never visible as a broken answer. With relay-held
// keys each attempt takes the next key of the pool, and a key answered
// 401/429 is benched.
func (h *Handler) roundTrip(c *call, req *http.Request) (*http.Response, error) {
	t := retrier{h: h, base: h.opts.Transport}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		out, err := t.attemptRequest(req, c, attempt)
		if err != nil {
			return nil, err
		}
		key := t.setPoolKey(out, c)
		c.connected.Store(false) // the request's trace sets it (upstreamRequest)
		resp, err := t.base.RoundTrip(out)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		reportKey(req.Context(), c.pool, key, status, err)
		benched := t.benchKey(c, key, resp)
		// A relay-held key refused with 401 is worth another try with the
		// next key, though a 401 is not retryable in general.
		if !retry.Retryable(status, err) && !(benched && c.pool.Len() > 1) {
			return resp, err
		}
		t.h.opts.Metrics.UpstreamError(c.provider.Name, errorKind(status, err))
		retryAfter := ""
		if resp != nil && c.pool == nil {
			retryAfter = resp.Header.Get("Retry-After")
		}
		wait, ok := t.h.opts.Retry.Delay(attempt, retryAfter, time.Now(), time.Since(start), nil)
		if !ok {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// attemptRequest returns the request for one attempt: the original the
// first time, a clone with a fresh body afterwards.
// retrier holds what one call's attempts share.
type retrier struct {
	h    *Handler
	base http.RoundTripper
}

func (t *retrier) attemptRequest(req *http.Request, c *call, attempt int) (*http.Request, error) {
	if attempt == 0 {
		return req, nil
	}
	out := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	return out, nil
}

func (t *retrier) setPoolKey(out *http.Request, c *call) credentials.Key {
	if c.pool == nil {
		return credentials.Key{}
	}
	key, ok := c.pool.Next(time.Now())
	if ok {
		c.provider.SetAuth(out.Header, key.Value())
		c.upstreamKey = key.Value()
	}
	return key
}

func (t *retrier) benchKey(c *call, key credentials.Key, resp *http.Response) bool {
	if c.pool == nil || resp == nil {
		return false
	}
	after, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if d, ok := credentials.BenchFor(resp.StatusCode, after); ok {
		c.pool.Bench(key, time.Now().Add(d), http.StatusText(resp.StatusCode))
		t.h.log.Warn("provider key benched", "provider", c.provider.Name, "key", key.ID(), "status", resp.StatusCode, "for", d.String())
		return true
	}
	return false
}

// reportKey records on the pool a failure the relay-held key may be
// behind, for the operator (GET /admin/providers): a refusal of the key
// (401, 403, 429), a provider error (5xx) or a transport failure. A
// request the client gave up on, or one the provider refused for what it
// asked (another 4xx), says nothing about the key.
func reportKey(ctx context.Context, pool *credentials.Pool, key credentials.Key, status int, err error) {
	if pool == nil || ctx.Err() != nil {
		return
	}
	switch {
	case err != nil && status == 0:
		pool.Failed(key, time.Now(), errorKind(0, err))
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusTooManyRequests, status >= 500:
		pool.Failed(key, time.Now(), strconv.Itoa(status)+" "+http.StatusText(status))
	}
}

func errorKind(status int, err error) string {
	var netErr net.Error
	switch {
	case status == http.StatusTooManyRequests:
		return "status_429"
	case status >= 500:
		return "status_5xx"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "connect"
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
