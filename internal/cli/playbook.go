package cli

import "github.com/spf13/cobra"

// newPlaybookCmd is a placeholder, hidden until its issue lands; the file is replaced
// by the real command group.
func newPlaybookCmd(_ *env) *cobra.Command {
	return &cobra.Command{Use: "playbook", Short: "Validate and test playbooks", Hidden: true}
}
