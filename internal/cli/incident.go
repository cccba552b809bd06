package cli

import "github.com/spf13/cobra"

// newIncidentCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newIncidentCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "incident", Short: "List and show incidents", Hidden: true}
}
