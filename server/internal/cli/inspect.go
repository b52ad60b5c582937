package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
)

func newInspect() *cobra.Command {
	var raiPaths []string
	var at int64
	cmd := &cobra.Command{
		Use:   "inspect --rai FILE TOKEN",
		Short: "Decode a token with the relay's key and print its claims (api_key redacted)",
		Args:  exactArgs(1, "exactly one TOKEN argument"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(raiPaths) == 0 {
				return usagef("--rai is required")
			}
			keys, err := loadKeyring(raiPaths)
			if err != nil {
				return err
			}
			now := time.Now()
			if at != 0 {
				now = time.Unix(at, 0)
			}
			claims, err := token.Decode(args[0], keys, now)
			if err != nil {
				return fmt.Errorf("%s", token.Code(err))
			}
			claims.APIKey = RedactKey(claims.APIKey)
			out, err := json.MarshalIndent(claims, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	cmd.Flags().StringSliceVar(&raiPaths, "rai", nil, "relay key file(s): aes .rai or ecc relay file")
	cmd.Flags().Int64Var(&at, "at", 0, "check expiry at this Unix time instead of now")
	return cmd
}

func loadKeyring(paths []string) (*token.Keyring, error) {
	keys := token.NewKeyring()
	for _, p := range paths {
		f, err := rai.Load(p)
		if err != nil {
			return nil, err
		}
		if err := f.AddTo(keys); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return keys, nil
}

// RedactKey shows an API key as its first three and last four characters,
// enough to tell keys apart and never enough to use one.
func RedactKey(key string) string {
	if key == "" {
		return ""
	}
	if len(key) <= 12 {
		return "***"
	}
	return key[:3] + "…" + key[len(key)-4:]
}
