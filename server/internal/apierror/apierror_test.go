package apierror

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestPermanentRefusalsTellClientsNotToRetry(t *testing.T) {
	for code := range permanent {
		w := httptest.NewRecorder()
		Write(w, New(code, "x"))
		if w.Header().Get("X-Should-Retry") != "false" || w.Header().Get("Retry-After") != "" {
			t.Errorf("%s: %v", code, w.Header())
		}
		if w.Code < 400 || w.Code >= 500 {
			t.Errorf("%s: a permanent refusal is a 4xx, got %d", code, w.Code)
		}
	}
}

func TestTemporaryRefusalsSayWhenToRetry(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, New("call_limit_exceeded", "window").WithRetryAfter(1500*time.Millisecond))
	h := w.Header()
	if h.Get("Retry-After") != "2" || h.Get("Retry-After-Ms") != "1500" || h.Get("X-Should-Retry") != "true" {
		t.Errorf("%v", h)
	}
	w = httptest.NewRecorder()
	Write(w, StoreDown)
	if w.Header().Get("Retry-After") != "1" || w.Code != 503 {
		t.Errorf("store_unavailable: %d %v", w.Code, w.Header())
	}
}

func TestUpstreamFailuresLeaveRetriesToTheClient(t *testing.T) {
	for _, e := range []*Error{Unreachable, UpstreamTimout, Internal} {
		w := httptest.NewRecorder()
		Write(w, e)
		if w.Header().Get("X-Should-Retry") != "" {
			t.Errorf("%s: %v", e.Code, w.Header())
		}
	}
}
