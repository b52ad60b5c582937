// Command mockprovider serves the fake OpenAI/Anthropic/Gemini/Azure
// provider of server/internal/mockprovider for end-to-end tests.
//
//	mockprovider --listen 127.0.0.1:9000 [--chunks N] [--chunk-delay 20ms]
//	             [--deployment NAME=MODEL]… [--realtime-key KEY]…
//	             [--realtime-max-session 60m] [--realtime-ping 20s]
//
// --deployment maps an Azure OpenAI deployment to the model it serves
// (repeatable); without any, a deployment serves the model it is named
// after. --realtime-key (repeatable) limits the Realtime endpoint to those
// keys (any other is refused with invalid_api_key, close 3000); without
// any, it takes any key.
//
// It prints "listening on ADDR" (the bound address, so --listen
// 127.0.0.1:0 picks a free port) once it accepts connections, and exits on
// SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/relayapi/relayapi/server/internal/mockprovider"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("mockprovider", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on (port 0: any free port)")
	chunks := fs.Int("chunks", 0, "completion tokens / stream content chunks (0: natural length of the text)")
	chunkDelay := fs.Duration("chunk-delay", 0, "pause before each streamed content chunk")
	maxBody := fs.Int64("max-body", mockprovider.DefaultMaxBodyBytes, "request body limit in bytes")
	maxRecorded := fs.Int("max-recorded", mockprovider.DefaultMaxRecorded, "requests kept for /_mock/requests")
	deployments := deploymentFlag{}
	fs.Var(deployments, "deployment", "Azure deployment NAME=MODEL (repeatable)")
	var realtimeKeys keysFlag
	fs.Var(&realtimeKeys, "realtime-key", "API key the Realtime endpoint accepts (repeatable; none: any key)")
	realtimeMax := fs.Duration("realtime-max-session", mockprovider.DefaultRealtimeMaxSession, "longest Realtime session")
	realtimePing := fs.Duration("realtime-ping", mockprovider.DefaultRealtimePingInterval, "Realtime ping interval (negative: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mockprovider: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mockprovider:", err)
		return 1
	}
	p := mockprovider.New(mockprovider.Options{
		Chunks: *chunks, ChunkDelay: *chunkDelay, MaxBodyBytes: *maxBody, MaxRecorded: *maxRecorded,
		Deployments:  deployments,
		RealtimeKeys: realtimeKeys, RealtimeMaxSession: *realtimeMax, RealtimePingInterval: *realtimePing,
	})
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	// Hijacked WebSocket connections are not tracked by Shutdown.
	srv.RegisterOnShutdown(p.CloseRealtime)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening on %s\n", ln.Addr())

	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "mockprovider:", err)
		return 1
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		_ = srv.Close()
	}
	return 0
}

// deploymentFlag collects --deployment NAME=MODEL values.
type deploymentFlag map[string]string

func (d deploymentFlag) String() string {
	parts := make([]string, 0, len(d))
	for k, v := range d {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (d deploymentFlag) Set(v string) error {
	name, model, ok := strings.Cut(v, "=")
	if !ok || name == "" || model == "" {
		return fmt.Errorf("want NAME=MODEL, got %q", v)
	}
	d[name] = model
	return nil
}

// keysFlag collects repeated string values.
type keysFlag []string

func (k *keysFlag) String() string { return strings.Join(*k, ",") }

func (k *keysFlag) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty key")
	}
	*k = append(*k, v)
	return nil
}
