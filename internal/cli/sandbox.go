package cli

import "github.com/spf13/cobra"

// newSandboxCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newSandboxCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "sandbox", Short: "Run a local AWS for tests, demos and game days", Hidden: true}
}
