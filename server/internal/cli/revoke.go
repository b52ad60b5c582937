package cli

import (
	"github.com/spf13/cobra"
)

func newRevoke() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{
		Use:   "revoke [--relay URL] [--admin-key K] JTI",
		Short: "Revoke a token through the relay's admin API (effective on its next request)",
		Args:  exactArgs(1, "exactly one JTI argument"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			body, err := c.revoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), body)
		},
	}
	f.register(cmd)
	return cmd
}
