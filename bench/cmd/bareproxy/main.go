// Command bareproxy is the "naive Go relay" baseline: httputil.ReverseProxy
// with a tuned transport, replacing Authorization with the upstream key.
//
//	bareproxy [-addr 127.0.0.1:9200] [-upstream http://127.0.0.1:9100] [-key sk-bench-upstream]
//
// It prints "listening on ADDR" once it accepts connections and exits on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/relayapi/relayapi/bench/internal/bareproxy"
	"github.com/relayapi/relayapi/bench/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bareproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9200", "listen address (port 0: any free port)")
	upstream := fs.String("upstream", "http://127.0.0.1:9100", "upstream base URL")
	key := fs.String("key", "sk-bench-upstream", "upstream API key sent as Bearer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bareproxy: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	u, err := url.Parse(*upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "bareproxy: -upstream %q: want an http(s) URL\n", *upstream)
		return 2
	}
	if err := serve.Run(ctx, *addr, bareproxy.New(u, *key), stderr); err != nil {
		fmt.Fprintln(stderr, "bareproxy:", err)
		return 1
	}
	return 0
}
