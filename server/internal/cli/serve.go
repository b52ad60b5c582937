package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/server/internal/config"
	"github.com/relayapi/relayapi/server/internal/rlimit"
	"github.com/relayapi/relayapi/server/internal/server"
)

func newServe() *cobra.Command {
	var configPath, dataDir, listen string
	var raiPaths, domains []string
	cmd := &cobra.Command{
		Use:   "serve [--config FILE] [--rai FILE|DIR]... [--data DIR] [--listen ADDR] [--domain NAME]...",
		Short: "Run the relay",
		Long: `Run the relay.

With no files present it writes a default config.json (with a fresh admin key)
and a fresh default.rai, keeps usage in SQLite under ./data and listens on
:8840. Precedence: flags, then RELAYAPI_* environment variables, then
config.json, then defaults. See docs/configuration.md.

--domain NAME serves HTTPS for NAME with a certificate from Let's Encrypt:
it sets tls.domains, listens on :443 unless told otherwise, and answers
HTTP on :80 (the ACME challenge, and redirects) unless tls.redirect_http
is set. The machine must be reachable as NAME on ports 80 and 443.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Taken first: SIGHUP's default action ends the process, and a
			// `systemctl reload` may come while the store is still opening.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			created := !cmd.Flags().Changed("config")
			cfg, wrote, err := config.Load(configPath, created, os.Environ())
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("data") {
				cfg.DataDir = dataDir
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			if cmd.Flags().Changed("rai") {
				cfg.KeyFiles = raiPaths
			}
			if len(domains) > 0 {
				applyDomains(&cfg, domains, cmd.Flags().Changed("listen"))
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
			for _, w := range cfg.Warnings {
				log.Warn(w, "file", configPath)
			}
			if wrote {
				log.Info("wrote a default config (it holds the admin key: keep it private)", "file", configPath)
			}
			// Each open request holds two sockets: run with the hard limit.
			if before, after, err := rlimit.RaiseNoFile(); err != nil {
				log.Warn("could not raise the file descriptor limit", "soft", before, "error", err)
			} else if after > 0 {
				log.Info("file descriptor limit", "soft", after)
			}
			keys, err := server.LoadKeys(cfg.KeyFiles, cfg.Listen, log)
			if err != nil {
				return err
			}
			if err := keys.ApplyBasePath(&cfg, log); err != nil {
				return err
			}
			relay, err := server.New(cfg, keys.Ring, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go reloadOnHangup(ctx, hup, relay)
			return relay.Run(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&configPath, "config", "config.json", "config file (written with defaults when absent and not given)")
	fl.StringArrayVar(&raiPaths, "rai", nil, "relay key file or directory of *.rai (repeatable)")
	fl.StringVar(&dataDir, "data", "", "data directory (SQLite store)")
	fl.StringVar(&listen, "listen", "", "listen address, e.g. :8840 or 127.0.0.1:8840")
	fl.StringArrayVar(&domains, "domain", nil, "serve HTTPS for this DNS name with an ACME certificate (repeatable; see above)")
	return cmd
}

// applyDomains is --domain: HTTPS on the standard ports with ACME, for a
// relay on its own machine.
func applyDomains(cfg *config.Config, domains []string, listenGiven bool) {
	cfg.TLS.Domains = domains
	if !listenGiven && cfg.Listen == config.Default().Listen {
		cfg.Listen = ":443"
	}
	if cfg.TLS.RedirectHTTP == "" {
		cfg.TLS.RedirectHTTP = ":80"
	}
}

// reloadOnHangup re-reads the certificate files on each SIGHUP, the
// signal certbot's and systemd's reload hooks send.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, relay *server.Relay) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			relay.ReloadCertificates()
		}
	}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
