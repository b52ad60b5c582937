// Package demo runs `relayapi demo`: a real relay in front of a built-in mock
// provider, and the playground page on an origin of its own, so a newcomer
// sees a chat stream through the relay from a browser without any API key.
//
// Three listeners, all in this process:
//
//   - the relay (internal/server, as `relayapi serve` runs it) with a fresh
//     random aes key, usage in SQLite under a temporary directory, and one
//     provider, "demo", pointing at
//   - the mock provider (internal/mockprovider) on a free loopback port, which
//     streams its answer chunk by chunk with a small delay;
//   - the page server: the playground (the page of examples/web, embedded)
//     and GET /api/session, which mints a token with the relay's key for the
//     chosen scenario, the way an app's backend would.
package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/mockprovider"
	"github.com/relayapi/relayapi/server/internal/server"
)

// Defaults of [Options].
const (
	DefaultRelayListen = "127.0.0.1:8840"
	DefaultPageListen  = "127.0.0.1:8841"
	DefaultChunkDelay  = 80 * time.Millisecond
)

// Provider is the name of the mock provider in the relay's configuration.
const Provider = "demo"

//go:embed page
var pageFiles embed.FS

// Options configure [Run]. The zero value is usable.
type Options struct {
	// RelayListen and PageListen are the two listen addresses (port 0: any
	// free port). They must differ: the page needs an origin of its own.
	RelayListen string
	PageListen  string
	// ChunkDelay is the mock provider's pause before each streamed chunk
	// (0: none; the command's default is DefaultChunkDelay).
	ChunkDelay time.Duration
	// Log receives the relay's log; nil keeps warnings and errors on Out.
	Log *slog.Logger
	// Out receives the banner with the address to open (nil: discarded).
	Out io.Writer
	// Ready, if set, is called with the page and relay URLs once both listen.
	Ready func(pageURL, relayURL string)
}

// Run starts the mock provider, the relay and the page server, and serves
// until ctx ends; then it stops all three (letting streams in flight end
// within a few seconds) and removes its temporary directory.
func Run(ctx context.Context, o Options) (err error) {
	o = o.withDefaults()
	dir, err := os.MkdirTemp("", "relayapi-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// A fresh random key, written where the relay loads it from, as serve does.
	keyFile := filepath.Join(dir, "demo.rai")
	rf, err := rai.GenerateAES(rai.Server{})
	if err != nil {
		return err
	}
	if err := rf.Write(keyFile); err != nil {
		return err
	}
	mint, err := rf.MintKey()
	if err != nil {
		return err
	}

	mockLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("mock provider: %w", err)
	}
	mock := &http.Server{
		Handler:           mockprovider.New(mockprovider.Options{ChunkDelay: o.ChunkDelay}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = mock.Serve(mockLn) }()
	defer mock.Close()
	mockURL := "http://" + mockLn.Addr().String()

	pageLn, err := net.Listen("tcp", o.PageListen)
	if err != nil {
		return fmt.Errorf("page: listen %s: %w", o.PageListen, err)
	}
	defer pageLn.Close()

	cfg := config.Default()
	cfg.Listen = o.RelayListen
	cfg.DataDir = dir
	cfg.KeyFiles = []string{keyFile}
	cfg.Providers = map[string]config.Provider{Provider: {BaseURL: mockURL, Auth: "bearer"}}
	cfg.Admin.Key = "" // no admin API
	cfg.Timeouts.Shutdown = config.Duration(3 * time.Second)
	if err := cfg.Validate(); err != nil {
		return err
	}
	keys, err := server.LoadKeys(cfg.KeyFiles, cfg.Listen, o.Log)
	if err != nil {
		return err
	}
	if err := keys.ApplyBasePath(&cfg, o.Log); err != nil {
		return err
	}
	relay, err := server.New(cfg, keys.Ring, o.Log)
	if err != nil {
		return err
	}
	relayAddr := make(chan net.Addr, 1)
	relay.Ready = func(a net.Addr) { relayAddr <- a }
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	relayDone := make(chan error, 1)
	go func() { relayDone <- relay.Run(relayCtx) }()
	var bound net.Addr
	select {
	case bound = <-relayAddr:
	case err := <-relayDone:
		return err
	}

	sessions := &sessions{key: mint, relay: bound.(*net.TCPAddr), client: &http.Client{Timeout: 10 * time.Second}}
	page := &http.Server{
		Handler:           newPageHandler(sessions),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	pageDone := make(chan error, 1)
	go func() { pageDone <- page.Serve(pageLn) }()

	pageURL := "http://" + displayAddr(pageLn.Addr().(*net.TCPAddr)) + "/"
	relayURL := "http://" + displayAddr(bound.(*net.TCPAddr))
	fmt.Fprintf(o.Out, `RelayAPI demo: a relay, a built-in mock AI provider and a playground page. No API key needed.

  Open    %s   in your browser
  Relay   %s   (provider %q → mock provider at %s)

The page's backend mints a token per message; the browser streams the answer
straight from the relay with it. Press Ctrl-C to stop.
`, pageURL, relayURL, Provider, mockURL)
	if o.Ready != nil {
		o.Ready(pageURL, relayURL)
	}

	var relayErr error
	relayStopped := false
	select {
	case <-ctx.Done():
	case err = <-pageDone:
		err = fmt.Errorf("page: %w", err)
	case relayErr = <-relayDone:
		relayStopped = true
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = page.Shutdown(sctx)
	stopRelay()
	if !relayStopped {
		relayErr = <-relayDone
	}
	return errors.Join(err, relayErr)
}

func (o Options) withDefaults() Options {
	if o.RelayListen == "" {
		o.RelayListen = DefaultRelayListen
	}
	if o.PageListen == "" {
		o.PageListen = DefaultPageListen
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(o.Out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return o
}

// displayAddr is addr as a browser on this machine reaches it: an
// unspecified host (0.0.0.0, ::) becomes 127.0.0.1.
func displayAddr(addr *net.TCPAddr) string {
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

func newPageHandler(s *sessions) http.Handler {
	files, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	static := http.FileServerFS(files)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/session", s.serve)
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != "/" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		static.ServeHTTP(w, r)
	}))
	return mux
}

// errBadScenario is a request for a scenario the page does not offer.
var errBadScenario = errors.New("scenario must be one of ok, exhausted, model, wrong-origin, expired, realtime")
