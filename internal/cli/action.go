package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
)

func newActionCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "action",
		Short: "List response actions and the IAM policy they need",
		Example: strings.TrimSpace(`
  firebreak action list
  firebreak action policy > firebreak-policy.json`),
	}
	cmd.AddCommand(newActionListCmd(e), newActionPolicyCmd(e))
	return cmd
}

func newActionListCmd(e *env) *cobra.Command {
	var (
		asJSON  bool
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every action with its risk and summary",
		Example: strings.TrimSpace(`
  firebreak action list
  firebreak action list -v
  firebreak action list --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := catalog.Registry()
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(describeActions(reg))
			}
			if verbose {
				for _, a := range reg.All() {
					printAction(e.stdout, a)
				}
				return nil
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tRISK\tIDEMPOTENT\tSUMMARY")
			for _, a := range reg.All() {
				m := a.Meta()
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.ID, m.Risk, yesNo(m.Idempotency == action.Idempotent), m.Summary)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list parameters, outputs and IAM actions")
	return cmd
}

// printAction writes one action's full description.
func printAction(w io.Writer, a action.Action) {
	m := a.Meta()
	_, reverts := a.(action.Reverter)
	_, checks := a.(action.Checker)
	fmt.Fprintf(w, "%s: %s\n", m.ID, m.Summary)
	fmt.Fprintf(w, "  risk %s, %s, revert: %s, dry-run check: %s\n", m.Risk, m.Idempotency, yesNo(reverts), yesNo(checks))
	for _, p := range m.Params {
		req := "optional"
		if p.Required {
			req = "required"
		}
		if !p.Default.IsZero() {
			req += ", default " + p.Default.String()
		}
		fmt.Fprintf(w, "  param %s (%s, %s): %s\n", p.Name, p.Type, req, p.Doc)
	}
	for _, o := range m.Outputs {
		fmt.Fprintf(w, "  output %s (%s): %s\n", o.Name, o.Type, o.Doc)
	}
	if len(m.IAM) > 0 {
		fmt.Fprintf(w, "  iam: %s\n", strings.Join(m.IAM, ", "))
	}
	if len(m.RevertIAM) > 0 {
		fmt.Fprintf(w, "  revert iam: %s\n", strings.Join(m.RevertIAM, ", "))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// actionJSON is an action's metadata as `action list --json` prints it.
type actionJSON struct {
	ID         string      `json:"id"`
	Summary    string      `json:"summary"`
	Risk       string      `json:"risk"`
	Idempotent bool        `json:"idempotent"`
	Revertible bool        `json:"revertible"`
	Dryrun     bool        `json:"dry_run_check"`
	Params     []fieldJSON `json:"params"`
	Outputs    []fieldJSON `json:"outputs"`
	IAM        []string    `json:"iam"`
	RevertIAM  []string    `json:"revert_iam,omitempty"`
}

type fieldJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  string `json:"default,omitempty"`
	Doc      string `json:"doc"`
}

func describeActions(reg *action.Registry) []actionJSON {
	out := []actionJSON{}
	for _, a := range reg.All() {
		m := a.Meta()
		_, reverts := a.(action.Reverter)
		_, checks := a.(action.Checker)
		j := actionJSON{
			ID: m.ID, Summary: m.Summary, Risk: m.Risk.String(), Idempotent: m.Idempotency == action.Idempotent,
			Revertible: reverts, Dryrun: checks, Params: []fieldJSON{}, Outputs: []fieldJSON{},
			IAM: append([]string{}, m.IAM...), RevertIAM: m.RevertIAM,
		}
		for _, p := range m.Params {
			f := fieldJSON{Name: p.Name, Type: string(p.Type), Required: p.Required, Doc: p.Doc}
			if !p.Default.IsZero() {
				f.Default = p.Default.String()
			}
			j.Params = append(j.Params, f)
		}
		for _, o := range m.Outputs {
			j.Outputs = append(j.Outputs, fieldJSON{Name: o.Name, Type: string(o.Type), Doc: o.Doc})
		}
		out = append(out, j)
	}
	return out
}

func newActionPolicyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "policy [ACTION-ID...]",
		Short: "Print the least-privilege IAM policy for the given actions (default: all)",
		Long: strings.TrimSpace(`
Prints an IAM policy document allowing exactly the IAM actions that the
given response actions (all of them when none are given) call, their
reverts included, one statement per action. Attach it to the role Firebreak
assumes in each account.`),
		Example: strings.TrimSpace(`
  firebreak action policy
  firebreak action policy aws.iam.disable_access_key aws.iam.delete_access_key`),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := catalog.Registry()
			if err != nil {
				return err
			}
			doc, err := reg.Policy(args...)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(doc)
			return err
		},
	}
}
