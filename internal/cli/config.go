package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/config"
)

func newConfigCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Validate firebreak.yaml",
		Example: "  firebreak config validate examples/firebreak.yaml",
	}
	cmd.AddCommand(newConfigValidateCmd(e))
	return cmd
}

func newConfigValidateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a configuration file and list every problem in it",
		Long: strings.TrimSpace(`
Decode FILE (default firebreak.yaml) strictly, apply the defaults and
validate it. Prints "FILE: ok", or every problem as
"FILE:LINE:COLUMN: field.path: message" and exits with status 1.
Secrets given as {env: NAME} are read, so the variables must be set.`),
		Example: strings.TrimSpace(`
  firebreak config validate
  firebreak config validate examples/firebreak.yaml`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "firebreak.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			_, err := config.Load(path)
			var errs config.Errors
			switch {
			case errors.As(err, &errs):
				fmt.Fprintln(e.stderr, errs.Error())
				return &exitError{code: 1, err: fmt.Errorf("%s: %d %s", path, len(errs), plural(len(errs), "problem", "problems"))}
			case err != nil:
				return &exitError{code: 1, err: err}
			}
			_, err = fmt.Fprintf(e.stdout, "%s: ok\n", path)
			return err
		},
	}
}
