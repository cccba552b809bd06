package cli

import "github.com/spf13/cobra"

// newLedgerCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newLedgerCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "ledger", Short: "Check the incident ledger", Hidden: true}
}
