package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

func newPlaybookCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "playbook",
		Short: "Validate and inspect response playbooks",
		Long: strings.TrimSpace(`
Playbooks are YAML files that say which events to respond to and which
actions to take. See docs/playbooks.md for the language.`),
		Example: strings.TrimSpace(`
  firebreak playbook validate playbooks/
  firebreak playbook list --dir playbooks/`),
	}
	cmd.AddCommand(newPlaybookValidateCmd(e), newPlaybookListCmd(e))
	return cmd
}

func newPlaybookValidateCmd(e *env) *cobra.Command {
	var showPlan bool
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check playbook files and directories, reporting every error",
		Long: strings.TrimSpace(`
Compiles each file, and each *.yaml and *.yml file directly inside each
directory, exactly as serve does. Prints "FILE: ok (N steps)" for every
playbook that compiles and every error as FILE:LINE:COL: PATH: MESSAGE.
Exits 1 when there is any error.`),
		Example: strings.TrimSpace(`
  firebreak playbook validate playbooks/
  firebreak playbook validate exposed-key.yaml ec2-brute-force.yaml
  firebreak playbook validate --plan exposed-key.yaml`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := catalog.Registry()
			if err != nil {
				return err
			}
			plans, err := playbook.LoadPaths(reg, args...)
			for _, p := range plans {
				fmt.Fprintf(e.stdout, "%s: ok (%d steps)\n", p.File(), len(p.Steps()))
				if showPlan {
					fmt.Fprint(e.stdout, p)
				}
			}
			if err == nil {
				return nil
			}
			var list playbook.ErrorList
			if errors.As(err, &list) && list.Error() == err.Error() {
				fmt.Fprintln(e.stdout, err)
				return &exitError{code: 1}
			}
			return &exitError{code: 1, err: err}
		},
	}
	cmd.Flags().BoolVar(&showPlan, "plan", false, "also print the compiled plan of each playbook")
	return cmd
}

func newPlaybookListCmd(e *env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in playbooks, and a directory's, as serve would load them",
		Long: strings.TrimSpace(`
Lists the playbooks built into the binary and, with --dir, those of a
directory: a playbook in the directory replaces the built-in one with the
same name.`),
		Example: strings.TrimSpace(`
  firebreak playbook list
  firebreak playbook list --dir playbooks/`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := catalog.Registry()
			if err != nil {
				return err
			}
			builtin, err := playbook.Builtin(reg)
			if err != nil {
				return err
			}
			var over []*playbook.Plan
			if dir != "" {
				if over, err = playbook.LoadPaths(reg, dir); err != nil {
					fmt.Fprintln(e.stdout, err)
					return &exitError{code: 1}
				}
			}
			for _, p := range playbook.Overlay(builtin, over) {
				desc := p.Description()
				if desc == "" {
					desc = "-"
				}
				fmt.Fprintf(e.stdout, "%s\t%s\t%d steps\t%s\n", p.Name(), p.File(), len(p.Steps()), strings.Join(strings.Fields(desc), " "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "a directory of playbooks that add to and override the built-in ones")
	return cmd
}
