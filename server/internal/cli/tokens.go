package cli

import (
	"github.com/spf13/cobra"
)

func newTokens() *cobra.Command {
	var f adminFlags
	var q tokenQuery
	cmd := &cobra.Command{
		Use:   "tokens [--relay URL] [--admin-key K] [--sub S] [--limit N] [--cursor C]",
		Short: "List tokens the relay has seen (one page; pass next_cursor as --cursor for the next)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.limit < 0 || q.limit > 1000 || (q.limit == 0 && cmd.Flags().Changed("limit")) {
				return usagef("--limit must be from 1 to 1000")
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			body, err := c.tokens(cmd.Context(), q)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), body)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&q.sub, "sub", "", "only tokens of this end user (sub claim)")
	cmd.Flags().IntVar(&q.limit, "limit", 0, "tokens per page, 1-1000 (default 50)")
	cmd.Flags().StringVar(&q.cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}
