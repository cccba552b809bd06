package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/app"
)

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version of this binary",
		Example: "  firebreak version\n  firebreak version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi := app.ReadBuildInfo()
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				return enc.Encode(bi)
			}
			line := "firebreak " + bi.Version
			if bi.Commit != "" {
				line += " (" + bi.Commit
				if bi.Modified {
					line += ", modified"
				}
				line += ")"
			}
			if bi.GoVersion != "" {
				line += " " + bi.GoVersion
			}
			_, err := fmt.Fprintln(e.stdout, line)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
