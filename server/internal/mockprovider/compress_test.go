package mockprovider

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAcceptsGzipHonoursQValues(t *testing.T) {
	for header, want := range map[string]bool{
		"":                    false,
		"identity":            false,
		"gzip":                true,
		"GZip":                true,
		"x-gzip":              true,
		"gzip;q=0":            false,
		"gzip; q=0.001":       true,
		"br, gzip;q=0.5":      true,
		"deflate, br":         false,
		"*":                   true,
		"*;q=0":               false,
		"*, gzip;q=0":         false,
		"identity;q=1, *;q=0": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// Every API the mock speaks compresses its JSON when gzip is accepted and
// answers plain for identity or no Accept-Encoding.
func TestJSONGzippedWhenAcceptedOnEveryAPI(t *testing.T) {
	_, srv := newServer(t, Options{})
	for _, tc := range []struct {
		name, path, body string
		headers          []string
	}{
		{"openai", "/v1/chat/completions", chatBody(""), nil},
		{"anthropic", "/v1/messages", `{"model":"claude-x","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`,
			[]string{"anthropic-version", "2023-06-01"}},
		{"gemini", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			[]string{"x-goog-api-key", "k"}},
		{"azure", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", chatBody(""),
			[]string{"api-key", "k"}},
	} {
		for _, ae := range []string{"gzip", "gzip, deflate, br", "identity", ""} {
			h := append([]string{"Accept-Encoding", ae}, tc.headers...)
			resp, raw := send(t, rawClient, srv.URL+tc.path, tc.body, h...)
			gz := resp.Header.Get("Content-Encoding") == "gzip"
			if wantGz := strings.Contains(ae, "gzip"); gz != wantGz {
				t.Fatalf("%s, Accept-Encoding %q: Content-Encoding %q", tc.name, ae, resp.Header.Get("Content-Encoding"))
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: no Vary: Accept-Encoding", tc.name)
			}
			if gz {
				// The handler's plain Content-Length is dropped; net/http may
				// set the compressed one for a small body.
				if resp.ContentLength != -1 && resp.ContentLength != int64(len(raw)) {
					t.Errorf("%s: Content-Length %d for %d gzip bytes", tc.name, resp.ContentLength, len(raw))
				}
				raw = gunzip(t, raw)
			}
			if resp.StatusCode != 200 || !json.Valid(raw) {
				t.Fatalf("%s %q: %d %q", tc.name, ae, resp.StatusCode, raw)
			}
		}
	}
}

// A gzip-compressed SSE stream still delivers each event when it is sent:
// the mock flushes the compressor after every event.
func TestSSEGzippedEventsStillFlowOneByOne(t *testing.T) {
	_, srv := newServer(t, Options{})
	const delay = 150 * time.Millisecond
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody(`,"stream":true`)))
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("x-mock-chunks", "3")
	req.Header.Set("x-mock-chunk-delay-ms", fmt.Sprint(delay.Milliseconds()))
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("stream not compressed: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := readSSE(t, zr)
	if err != nil {
		t.Fatal(err)
	}
	// role, 3 content, finish, [DONE]
	if len(evs) != 6 || evs[5].data != "[DONE]" {
		t.Fatalf("got %d events: %+v", len(evs), evs)
	}
	for i := 2; i <= 3; i++ {
		if gap := evs[i].at.Sub(evs[i-1].at); gap < delay/2 {
			t.Errorf("content chunk %d arrived %v after the previous one; want ≈%v (gzip buffered?)", i, gap, delay)
		}
	}
}

// Answers over 8 MiB are compressed on the fly, and their usage matches
// the bytes (completion = ceil(bytes/4)).
func TestHugeBytesCompressedOnTheFly(t *testing.T) {
	const size = 9<<20 + 3
	_, srv := newServer(t, Options{})
	for _, stream := range []bool{false, true} {
		body := chatBody("")
		if stream {
			body = chatBody(`,"stream":true,"stream_options":{"include_usage":true}`)
		}
		resp, raw := send(t, rawClient, srv.URL+"/v1/chat/completions", body,
			"x-mock-huge-bytes", strconv.Itoa(size), "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || len(raw) > size/10 {
			t.Fatalf("stream=%v: %q, %d bytes on the wire", stream, resp.Header.Get("Content-Encoding"), len(raw))
		}
		plain := string(gunzip(t, raw))
		if got := strings.Count(plain, "x"); got < size {
			t.Errorf("stream=%v: %d content bytes, want %d", stream, got, size)
		}
		if want := fmt.Sprintf(`"completion_tokens":%d`, (size+3)/4); !strings.Contains(plain, want) {
			t.Errorf("stream=%v: no %s in the usage", stream, want)
		}
	}
}
