// Command loadgen drives the relay benchmarks. It prints one JSON object
// on stdout when done; progress and diagnostics go to stderr.
//
//	loadgen rate   [-rate 1000] [-duration 10s] [-warmup 1s] [-conns 64] [-timeout 30s] [common flags]
//	loadgen stream [-streams 200] [-conns-per-stream 1] [-expect-delay 0] [-duration 2m] [common flags]
//	loadgen realtime [-url ws://…/v1/realtime?model=M] [-sessions 50] [-interval 50ms] [-duration 10s]
//	                 [-warmup 1s] [-hold 0] [-event bench.ping] [-open-concurrency 64] [-timeout 10s] [-header …]
//
// Common flags: -url, -header "Name: value" (repeatable), -body or
// -body-file, -method. In stream mode the line "ALL_OPEN <n>" goes to
// stderr once every stream has its first event (or has failed); in
// realtime mode once every session has its session.created (or has
// failed). Realtime with -interval 0 sends no pings: it opens the
// sessions, holds them idle for -hold and closes them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/relayapi/relayapi/bench/internal/load"
	"github.com/relayapi/relayapi/bench/internal/rtload"
)

// Default bodies target the mock as a relay client would.
const (
	defaultURL         = "http://127.0.0.1:9100/v1/chat/completions"
	defaultBody        = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}`
	defaultRealtimeURL = "ws://127.0.0.1:9100/v1/realtime?model=gpt-realtime"
	defaultStreamBody  = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}],"stream":true,"stream_options":{"include_usage":true}}`
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: loadgen rate|stream|realtime [flags]  (loadgen rate -h for flags)")
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	var (
		result any
		err    error
	)
	switch args[0] {
	case "rate":
		result, err = runRate(ctx, args[1:], stderr)
	case "stream":
		result, err = runStream(ctx, args[1:], stderr)
	case "realtime":
		result, err = runRealtime(ctx, args[1:], stderr)
	case "-h", "-help", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(stderr, "loadgen: unknown mode %q\n", args[0])
		usage()
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(result); err != nil {
		fmt.Fprintln(stderr, "loadgen: write result:", err)
		return 1
	}
	return 0
}

// errUsage means the flag package already explained the problem.
var errUsage = errors.New("usage")

// common holds the flags both modes share.
type common struct {
	url, method, body, bodyFile string
	headers                     headerFlag
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", defaultURL, "target URL")
	fs.StringVar(&c.method, "method", http.MethodPost, "HTTP method")
	fs.StringVar(&c.body, "body", "", "request body (default: a small chat request)")
	fs.StringVar(&c.bodyFile, "body-file", "", "read the request body from this file")
	c.headers.h = http.Header{}
	fs.Var(&c.headers, "header", `request header "Name: value" (repeatable)`)
}

func (c *common) request(defBody string) (load.Request, error) {
	if c.headers.err != nil {
		return load.Request{}, c.headers.err
	}
	body := []byte(c.body)
	switch {
	case c.body != "" && c.bodyFile != "":
		return load.Request{}, errors.New("-body and -body-file are exclusive")
	case c.bodyFile != "":
		b, err := os.ReadFile(c.bodyFile)
		if err != nil {
			return load.Request{}, fmt.Errorf("read -body-file: %w", err)
		}
		body = b
	case c.body == "" && c.method != http.MethodGet && c.method != http.MethodHead:
		body = []byte(defBody)
	}
	h := c.headers.h
	if len(body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	r := load.Request{Method: c.method, URL: c.url, Header: h, Body: body}
	return r, r.Validate()
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func runRate(ctx context.Context, args []string, stderr io.Writer) (any, error) {
	fs := flag.NewFlagSet("loadgen rate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	o := load.RateOptions{Log: stderr}
	fs.Float64Var(&o.Rate, "rate", 1000, "requests per second (open loop)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured window, after the warm-up")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "sent at -rate before the measured window, not recorded")
	fs.IntVar(&o.Conns, "conns", 64, "maximum connections (and concurrent requests)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "per-request timeout (0: none)")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	var err error
	if o.Request, err = c.request(defaultBody); err != nil {
		return nil, err
	}
	return load.Rate(ctx, o)
}

func runStream(ctx context.Context, args []string, stderr io.Writer) (any, error) {
	fs := flag.NewFlagSet("loadgen stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	o := load.StreamOptions{Log: stderr}
	fs.IntVar(&o.Streams, "streams", 200, "concurrent streams, each on its own connection")
	connsPerStream := fs.Int("conns-per-stream", 1, "connections per stream (HTTP/1.1 carries one stream per connection: only 1)")
	fs.DurationVar(&o.ExpectDelay, "expect-delay", 0, "server pause between chunks, to check incremental delivery (0: only check for more than one read)")
	fs.DurationVar(&o.Timeout, "duration", 2*time.Minute, "give up on streams still open after this long")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if *connsPerStream != 1 {
		return nil, fmt.Errorf("-conns-per-stream %d: only 1 is supported", *connsPerStream)
	}
	var err error
	if o.Request, err = c.request(defaultStreamBody); err != nil {
		return nil, err
	}
	return load.Stream(ctx, o)
}

func runRealtime(ctx context.Context, args []string, stderr io.Writer) (any, error) {
	fs := flag.NewFlagSet("loadgen realtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := rtload.Options{Log: stderr}
	fs.StringVar(&o.URL, "url", defaultRealtimeURL, "Realtime WebSocket URL (ws, wss, http or https), with ?model=")
	var headers headerFlag
	headers.h = http.Header{}
	fs.Var(&headers, "header", `handshake header "Name: value" (repeatable)`)
	fs.IntVar(&o.Sessions, "sessions", 50, "concurrent sessions, each on its own connection")
	fs.DurationVar(&o.Interval, "interval", 50*time.Millisecond, "pause between two pings of a session (0: no pings, only -hold)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured window of pings, after the warm-up")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "pings sent before the measured window, not recorded")
	fs.DurationVar(&o.Hold, "hold", 0, "keep the sessions open and idle this long before closing them")
	fs.StringVar(&o.EventType, "event", "bench.ping", `type of the ping events (the mock also answers "response.create")`)
	fs.IntVar(&o.OpenConcurrency, "open-concurrency", 64, "handshakes in flight at once")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "per handshake, and for the last answers after the last ping")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if headers.err != nil {
		return nil, headers.err
	}
	o.Header = headers.h
	return rtload.Run(ctx, o)
}

// headerFlag collects repeated -header flags. Set never fails: the flag
// package would quote the whole value, token included, in its message, so
// a malformed header is reported later, by name only.
type headerFlag struct {
	h   http.Header
	err error
}

func (f *headerFlag) String() string {
	if f == nil || f.h == nil {
		return ""
	}
	// Names only: values may be tokens.
	names := make([]string, 0, len(f.h))
	for k := range f.h {
		names = append(names, k)
	}
	return strings.Join(names, ", ")
}

func (f *headerFlag) Set(s string) error {
	name, value, err := load.ParseHeader(s)
	if err != nil {
		if f.err == nil {
			f.err = fmt.Errorf("-header: %w", err)
		}
		return nil
	}
	f.h.Add(name, value)
	return nil
}
