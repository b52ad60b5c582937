package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relayapi/relayapi/bench/internal/mock"
	"github.com/relayapi/relayapi/bench/internal/rtmock"
)

func mockURL(t *testing.T, cfg mock.Config) string {
	t.Helper()
	h, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/chat/completions"
}

// runJSON runs loadgen and decodes its stdout, checking it is exactly one
// JSON object with the given keys.
func runJSON(t *testing.T, args []string, keys ...string) (map[string]any, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if c := run(context.Background(), args, &stdout, &stderr); c != 0 {
		t.Fatalf("exit %d\n%s", c, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("stdout: %v", err)
	}
	if dec.More() {
		t.Error("more than one JSON value on stdout")
	}
	var got []string
	for k := range out {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("keys %v, want %v", got, keys)
	}
	return out, stderr.String()
}

func TestRate(t *testing.T) {
	url := mockURL(t, mock.Config{Chunks: 2})
	out, _ := runJSON(t, []string{"rate", "-url", url, "-rate", "500", "-duration", "200ms", "-warmup", "0s", "-conns", "4",
		"-header", "Authorization: Bearer sk-secret"},
		"mode", "rate", "duration_s", "sent", "ok", "errors", "non_2xx", "achieved_rps",
		"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")
	if out["mode"] != "rate" || out["sent"] != 100.0 || out["ok"] != 100.0 || out["duration_s"] != 0.2 {
		t.Errorf("%v", out)
	}
}

func TestStream(t *testing.T) {
	url := mockURL(t, mock.Config{Chunks: 3})
	body := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(body, []byte(`{"stream":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr := runJSON(t, []string{"stream", "-url", url, "-streams", "20", "-body-file", body},
		"mode", "streams", "ok", "errors", "non_2xx", "ttfb_p50_ms", "ttfb_p99_ms", "ttfb_max_ms",
		"total_p50_ms", "total_p99_ms", "events_min", "events_max", "incremental_fraction", "all_open_after_ms")
	if out["ok"] != 20.0 || out["events_min"] != 5.0 || out["events_max"] != 5.0 {
		t.Errorf("%v", out)
	}
	if !strings.Contains(stderr, "ALL_OPEN 20\n") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestRealtime(t *testing.T) {
	srv := httptest.NewServer(&rtmock.Handler{})
	t.Cleanup(srv.Close)
	url := srv.URL + rtmock.Path + "?model=gpt-realtime"
	out, stderr := runJSON(t, []string{"realtime", "-url", url, "-sessions", "4", "-interval", "20ms",
		"-duration", "100ms", "-warmup", "0s", "-header", "Authorization: Bearer sk-secret"},
		"mode", "sessions", "opened", "open_errors", "refused", "open_p50_ms", "open_p99_ms", "open_max_ms",
		"all_open_after_ms", "interval_ms", "duration_s", "hold_s", "sent", "received", "lost", "unexpected",
		"dropped", "achieved_mps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")
	if out["mode"] != "realtime" || out["opened"] != 4.0 || out["sent"] != 20.0 || out["received"] != 20.0 {
		t.Errorf("%v", out)
	}
	if !strings.Contains(stderr, "ALL_OPEN 4\n") || strings.Contains(stderr, "sk-secret") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestBadArgumentsKeepSecrets(t *testing.T) {
	for _, args := range [][]string{
		{"rate", "-header", "Authorization Bearer sk-secret"},
		{"stream", "-header", "sk-secret"},
		{"stream", "-conns-per-stream", "2"},
		{"rate", "-body", "x", "-body-file", "y"},
		{"rate", "-rate", "0"},
		{"rate", "-url", "localhost:1"},
		{"rate", "-nope"},
		{"realtime", "-header", "sk-secret"},
		{"realtime", "-sessions", "0", "-header", "Authorization: Bearer sk-secret"},
		{"realtime", "-url", "ftp://x/v1/realtime"},
		{"fast"},
		{},
	} {
		var stdout, stderr bytes.Buffer
		if c := run(context.Background(), args, &stdout, &stderr); c == 0 || stdout.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q", args, c, stdout.String())
		}
		if strings.Contains(stderr.String(), "sk-secret") {
			t.Errorf("%v: stderr leaks the header: %s", args, stderr.String())
		}
	}
}
