package cli

import "github.com/spf13/cobra"

// newEventCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newEventCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "event", Short: "Decode and inspect AWS security events", Hidden: true}
}
