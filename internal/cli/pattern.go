package cli

import "github.com/spf13/cobra"

// newPatternCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newPatternCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "pattern", Short: "Test EventBridge event patterns against events", Hidden: true}
}
