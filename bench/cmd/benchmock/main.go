// Command benchmock is the ceiling baseline of the relay benchmarks: an
// OpenAI chat/completions mock whose answers are all rendered at start-up.
//
//	benchmock [-addr 127.0.0.1:9100] [-chunks 20] [-delay 5ms] [-size 600]
//
// POST .../chat/completions answers JSON, or SSE when the body holds
// "stream":true; the X-Bench-Chunks and X-Bench-Delay-Ms request headers
// override -chunks and -delay. GET /v1/realtime?model=M is a Realtime
// WebSocket (package rtmock: session.created, then an answer to every
// bench.ping or response.create event). GET /healthz answers "ok". It prints
// "listening on ADDR" once it accepts connections and exits on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/relayapi/relayapi/bench/internal/mock"
	"github.com/relayapi/relayapi/bench/internal/rtmock"
	"github.com/relayapi/relayapi/bench/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchmock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9100", "listen address (port 0: any free port)")
	chunks := fs.Int("chunks", 20, "content chunks per streamed answer")
	delay := fs.Duration("delay", 5*time.Millisecond, "pause between streamed chunks")
	size := fs.Int("size", 600, "approximate bytes of a JSON answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "benchmock: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	h, err := mock.New(mock.Config{Chunks: *chunks, Delay: *delay, Size: *size})
	if err != nil {
		fmt.Fprintln(stderr, "benchmock:", err)
		return 2
	}
	if err := serve.Run(ctx, *addr, withRealtime(h), stderr); err != nil {
		fmt.Fprintln(stderr, "benchmock:", err)
		return 1
	}
	return 0
}

// withRealtime routes rtmock.Path to the Realtime mock, the rest to h (one
// string comparison: the chat path pays nothing for it).
func withRealtime(h http.Handler) http.Handler {
	rt := &rtmock.Handler{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == rtmock.Path {
			rt.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
