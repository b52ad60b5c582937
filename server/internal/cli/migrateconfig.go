package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/server/internal/config"
)

// maxConfigSize bounds what migrate-config reads: a config is a few KiB.
const maxConfigSize = 1 << 20

func newMigrateConfig() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate-config OLD NEW",
		Short: "Write a RelayAPI 1.x config.json in the current format",
		Long: `Read a RelayAPI 1.x config.json (server, log, rate_limit sections) and write
the same settings in the current format to NEW, with a fresh admin key. Each
key mapped or dropped is reported on stderr. NEW must not exist.

serve --config reads a 1.x file directly too (same mapping, admin API off);
migrate-config gives you a file to review and keep. See
docs/migrating-from-1.x.md.`,
		Args: exactArgs(2, "OLD and NEW config paths"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readBounded(args[0])
			if err != nil {
				return err
			}
			if !config.IsV1(data) {
				return fmt.Errorf("%s is not a RelayAPI 1.x config (no server or rate_limit section)", args[0])
			}
			cfg, warnings, err := config.FromV1(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if cfg.Admin.Key, err = config.NewAdminKey(); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			warnings = append(warnings, "1.x config: (no admin key in 1.x) → admin.key: a fresh one (keep the file private)")
			for _, w := range warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), w)
			}
			if err := config.Write(args[1], cfg); err != nil {
				return fmt.Errorf("write %s: %w", args[1], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", args[1])
			return nil
		},
	}
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}
