package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestRunServesUntilCancelled starts the command on a free port, asks for
// a streamed answer and stops it.
func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-addr", "127.0.0.1:0", "-chunks", "2", "-delay", "0s"}, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output: %v", lines.Err())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		t.Fatalf("first line %q", lines.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(b), "data: "); n != 2+2 {
		t.Errorf("%d events:\n%s", n, b)
	}

	// The Realtime WebSocket on the same listener.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	c, _, err := websocket.Dial(wctx, "ws://"+addr+"/v1/realtime?model=gpt-realtime", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(wctx); err != nil || !strings.Contains(string(b), `"session.created"`) {
		t.Fatalf("first event %s, %v", b, err)
	}
	if err := c.Write(wctx, websocket.MessageText, []byte(`{"type":"bench.ping","event_id":"e1"}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.Read(wctx); err != nil || !strings.Contains(string(b), `"event_id":"e1"`) {
		t.Fatalf("answer %s, %v", b, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running after cancel")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-chunks", "-1"}, {"-nope"}, {"extra"}} {
		if c := run(context.Background(), args, io.Discard); c != 2 {
			t.Errorf("%v: exit code %d, want 2", args, c)
		}
	}
}
