package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/server/internal/ratelimit"
)

func TestRedactPathHidesThePathToken(t *testing.T) {
	for in, want := range map[string]string{
		"/t/abc.def/v1/chat/completions": "/t/***/v1/chat/completions",
		"/t/abc":                         "/t/***",
		"/v1/models":                     "/v1/models",
		"/relay/t/abc/v1":                "/relay/t/***/v1",
	} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRedactPath: whatever the path, the segment after the first "/t/"
// (where the relay looks for a path token) never reaches the log.
func FuzzRedactPath(f *testing.F) {
	f.Add("/t/eyJhbGciOiJkaXIifQ..AAAA.BBBB.CCCC/v1/chat/completions")
	f.Add("/t/")
	f.Add("/x/t/t/t/y")
	f.Add("/t/%2F..%2F/v1")
	f.Fuzz(func(t *testing.T, p string) {
		out := RedactPath(p)
		i := strings.Index(p, "/t/")
		if i < 0 {
			if out != p {
				t.Fatalf("a path without a token changed: %q → %q", p, out)
			}
			return
		}
		tok, _, _ := strings.Cut(p[i+3:], "/")
		if !strings.HasPrefix(out, p[:i]+"/t/***") {
			t.Fatalf("RedactPath(%q) = %q", p, out)
		}
		rest := strings.TrimPrefix(out, p[:i]+"/t/***")
		if len(tok) > 8 && strings.Contains(rest, tok) && !strings.Contains(p[i+3+len(tok):], tok) {
			t.Fatalf("the token segment %q survived in %q", tok, out)
		}
	})
}

func TestAbsoluteFormTargetsLoseTheirAuthority(t *testing.T) {
	r := httptest.NewRequest("GET", "http://user:pw@evil.example:8080/t/x/v1/models?a=1", nil)
	normalizeTarget(r)
	if r.URL.String() != "/t/x/v1/models?a=1" || r.URL.User != nil || r.URL.Host != "" {
		t.Fatalf("URL after normalisation: %q", r.URL.String())
	}
}

// statuses is a ResponseWriter that keeps every status written (the
// httptest recorder does not model 1xx answers).
type statuses struct {
	h     http.Header
	codes []int
}

func (s *statuses) Header() http.Header         { return s.h }
func (s *statuses) WriteHeader(code int)        { s.codes = append(s.codes, code) }
func (s *statuses) Write(b []byte) (int, error) { return len(b), nil }

func TestRecorderKeepsTheFinalStatusAfterEarlyHints(t *testing.T) {
	w := &statuses{h: http.Header{}}
	rec := &recorder{ResponseWriter: w}
	rec.WriteHeader(http.StatusEarlyHints)
	rec.WriteHeader(http.StatusCreated)
	_, _ = rec.Write([]byte("x"))
	if rec.status != http.StatusCreated || rec.bytes != 1 || len(w.codes) != 2 {
		t.Fatalf("recorded %d, %d bytes; wrote %v", rec.status, rec.bytes, w.codes)
	}
}

type countingPinger struct{ n int }

func (p *countingPinger) Ping(context.Context) error { p.n++; return nil }

func TestReadinessPingsTheStoreAtMostOnceASecond(t *testing.T) {
	p := &countingPinger{}
	h := New(Options{Store: p, Limiter: ratelimit.New(0, 0, 0, 0), ClientIP: func(*http.Request) netip.Addr { return netip.Addr{} },
		Logger: slog.New(slog.DiscardHandler)})
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/ready", nil))
		if w.Code != 200 {
			t.Fatalf("%d", w.Code)
		}
	}
	if p.n != 1 {
		t.Fatalf("100 probes pinged the store %d times", p.n)
	}
}

func TestTheRelaysLimitsComeBeforeEveryRoute(t *testing.T) {
	p := &countingPinger{}
	h := New(Options{Store: p, Limiter: ratelimit.New(0, 0, 1, 1), ClientIP: func(*http.Request) netip.Addr { return netip.MustParseAddr("192.0.2.1") },
		Logger: slog.New(slog.DiscardHandler)})
	for _, target := range []string{"/ready", "/health", "/ready"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	}
	if p.n != 1 {
		t.Fatalf("limited probes still pinged the store (%d pings)", p.n)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("OPTIONS", "/t/x/v1/chat/completions", nil)
	r.Header.Set("Access-Control-Request-Method", "POST")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("a preflight over the limit: %d", w.Code)
	}
}
