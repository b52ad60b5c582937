package mockprovider

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawClient does not decompress: tests see the bytes on the wire.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// send posts body with headers through client and returns the response
// and its raw (still encoded) body.
func send(t *testing.T, client *http.Client, url, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// gunzip decodes a gzip body.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// postJSON posts body and decodes the JSON answer into a map.
func postJSON(t *testing.T, url, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	resp, raw := send(t, http.DefaultClient, url, body, headers...)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v in %q", url, err, raw)
	}
	return resp.StatusCode, m
}

// getJSON fetches url and decodes the JSON answer into a map.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	decodeJSON(t, resp.Body, &m)
	return resp.StatusCode, m
}

// num reads a JSON number at a path of object keys / array indexes.
func num(t *testing.T, v any, path ...any) int {
	t.Helper()
	f, ok := at(t, v, path...).(float64)
	if !ok {
		t.Fatalf("%v is not a number in %v", path, v)
	}
	return int(f)
}

// str reads a JSON string at a path.
func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := at(t, v, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string in %v", path, v)
	}
	return s
}

// at walks a decoded JSON value; a missing step fails the test.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", path, k)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: no %q in %v", path, k, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no index %d in %v", path, k, v)
			}
			v = a[k]
		}
	}
	return v
}

// lastRequest is the newest recorded request.
func lastRequest(t *testing.T, p *Provider) Request {
	t.Helper()
	reqs := p.Requests()
	if len(reqs) == 0 {
		t.Fatal("no recorded request")
	}
	return reqs[len(reqs)-1]
}

// dataEvents parses the data of an SSE body (LF framing) into objects,
// skipping [DONE].
func dataEvents(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(body, "\n") {
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatalf("%v in %q", err, d)
		}
		out = append(out, m)
	}
	return out
}
