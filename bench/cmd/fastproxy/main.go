// Command fastproxy is the "different server core" ceiling: a bare proxy on
// fasthttp (its server and its HostClient, no net/http anywhere), replacing
// Authorization with the upstream key and doing nothing else. It answers
// the question issue 22 leaves open — how fast could the relay be if it
// left net/http — by measuring the whole of such a proxy's cost per request
// beside bareproxy and nginx in the same run.
//
//	fastproxy [-addr 127.0.0.1:9300] [-upstream http://127.0.0.1:9100] [-key sk-bench-upstream]
//
// Answers are buffered whole (fasthttp's client reads the body before it
// returns), so it takes part in the saturation and latency scenarios only:
// it is not a streaming relay. It prints "listening on ADDR" once it
// accepts connections and exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fastproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9300", "listen address (port 0: any free port)")
	upstream := fs.String("upstream", "http://127.0.0.1:9100", "upstream base URL (http only)")
	key := fs.String("key", "sk-bench-upstream", "upstream API key sent as Bearer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme != "http" || u.Host == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fastproxy: -upstream %q: want an http URL, and no arguments\n", *upstream)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "fastproxy:", err)
		return 1
	}
	srv := &fasthttp.Server{
		Handler:               proxy(u.Host, *key),
		ReadTimeout:           time.Minute,
		IdleTimeout:           2 * time.Minute,
		NoDefaultDate:         true,
		NoDefaultServerHeader: true,
	}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "fastproxy:", err)
		return 1
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil {
		fmt.Fprintln(stderr, "fastproxy:", err)
		return 1
	}
	return 0
}

// proxy forwards every request to host with the upstream key, as bareproxy
// does: the answer (status, headers, body) goes back as the upstream sent it.
func proxy(host, key string) fasthttp.RequestHandler {
	client := &fasthttp.HostClient{Addr: host, MaxConns: 4096, MaxIdleConnDuration: 2 * time.Minute}
	auth := []byte("Bearer " + key)
	return func(ctx *fasthttp.RequestCtx) {
		req := &ctx.Request
		req.Header.SetBytesV(fasthttp.HeaderAuthorization, auth)
		if err := client.Do(req, &ctx.Response); err != nil {
			ctx.Error("bad gateway", fasthttp.StatusBadGateway)
		}
	}
}
