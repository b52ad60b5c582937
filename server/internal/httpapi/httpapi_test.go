package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
