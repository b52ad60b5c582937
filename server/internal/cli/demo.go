package cli

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/server/internal/demo"
)

func newDemo() *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo [--listen ADDR] [--page-listen ADDR] [--chunk-delay D]",
		Short: "Run a relay, a mock AI provider and a playground page: streaming in a browser, no API key",
		Long: `Run a self-contained demo: the relay (fresh random key, usage in a temporary
directory, removed on exit), a built-in mock provider that streams its answers
chunk by chunk, and the playground page on its own origin. Open the printed
URL: the page gets a token from its backend for each message and streams the
answer from the relay with it. Pick another token in the page to see how the
relay refuses an exhausted or expired token, a model it does not allow, or a
page outside the token's origins (the browser's CORS check).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ChunkDelay < 0 || o.ChunkDelay > 10*time.Second {
				return usagef("--chunk-delay must be between 0s and 10s")
			}
			if o.RelayListen == o.PageListen && !strings.HasSuffix(o.RelayListen, ":0") {
				return usagef("--listen and --page-listen must differ: the page needs an origin of its own")
			}
			o.Out = cmd.OutOrStdout()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return demo.Run(ctx, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.RelayListen, "listen", demo.DefaultRelayListen, "the relay's listen address")
	fl.StringVar(&o.PageListen, "page-listen", demo.DefaultPageListen, "the playground page's listen address (another origin than the relay's)")
	fl.DurationVar(&o.ChunkDelay, "chunk-delay", demo.DefaultChunkDelay, "the mock provider's pause before each streamed chunk")
	return cmd
}
