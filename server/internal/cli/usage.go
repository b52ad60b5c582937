package cli

import (
	"github.com/spf13/cobra"
)

func newUsage() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{
		Use:   "usage [--relay URL] [--admin-key K] JTI",
		Short: "Print a token's usage (calls, tokens, limits, times) from the relay's admin API",
		Args:  exactArgs(1, "exactly one JTI argument"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			body, err := c.usage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), body)
		},
	}
	f.register(cmd)
	return cmd
}
