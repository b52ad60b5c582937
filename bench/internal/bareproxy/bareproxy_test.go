package bareproxy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relayapi/relayapi/bench/internal/mock"
)

func newProxy(t *testing.T, upstream string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := httptest.NewServer(New(u, "sk-up"))
	t.Cleanup(p.Close)
	return p
}

func TestReplacesAuthorization(t *testing.T) {
	type seen struct{ auth, host, uri, body string }
	got := make(chan seen, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Get("Authorization"), r.Host, r.RequestURI, string(b)}
		_, _ = io.WriteString(w, "fine")
	}))
	defer up.Close()
	p := newProxy(t, up.URL)

	req, _ := http.NewRequest(http.MethodPost, p.URL+"/v1/chat/completions?x=1", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer client-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "fine" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	s := <-got
	want := seen{"Bearer sk-up", strings.TrimPrefix(up.URL, "http://"), "/v1/chat/completions?x=1", `{"a":1}`}
	if s != want {
		t.Errorf("upstream saw %+v, want %+v", s, want)
	}
}

// TestStreams proves SSE passes through unbuffered: with an hour between
// chunks, the first arrives only if the proxy flushed it alone.
func TestStreams(t *testing.T) {
	h, err := mock.New(mock.Config{Chunks: 3, Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(h)
	defer up.Close()
	p := newProxy(t, up.URL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first line %q, %v", line, err)
	}

	// Without delay, the whole stream arrives intact.
	req, _ = http.NewRequest(http.MethodPost, p.URL+"/v1/chat/completions", strings.NewReader(`{"stream":true}`))
	req.Header.Set(mock.HeaderDelayMs, "0")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "data: "); n != 3+2 || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Errorf("%d data lines:\n%s", n, b)
	}
}

func TestUpstreamDown(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	addr := up.URL
	up.Close()
	p := newProxy(t, addr)
	resp, err := http.Post(p.URL+"/v1/chat/completions", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
}

// TestFullDuplex streams the answer while the request body is still
// arriving. Without full duplex, net/http drains and closes the inbound
// body when the proxy writes the response header, which here stalls the
// first event, and with ordinary clients races the transport's final body
// read and cuts the upstream connection mid-stream (golang/go#40747).
func TestFullDuplex(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The upstream answers before reading the whole body too.
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		first := make([]byte, 1)
		if _, err := io.ReadFull(r.Body, first); err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		rest, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("upstream read rest: %v", err)
		}
		_, _ = io.WriteString(w, "data: "+string(first)+string(rest)+"\n\n")
	}))
	defer up.Close()
	p := newProxy(t, up.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	// On failure every party would wait forever for the rest of the body.
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v1/chat/completions", pr)
	req.ContentLength = 10
	go func() { _, _ = io.WriteString(pw, "01234") }()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	_, _ = io.WriteString(pw, "56789")
	pw.Close()
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: 0123456789\n\n" {
		t.Errorf("rest %q, %v", rest, err)
	}
}
