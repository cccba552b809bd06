package cli

import (
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
)

func newApproveCmd(e *env) *cobra.Command {
	return newDecideCmd(e, true)
}

func newDenyCmd(e *env) *cobra.Command {
	return newDecideCmd(e, false)
}

// newDecideCmd builds approve or deny: both record who decided, from
// where, when and why, and wake the run in the same transaction.
func newDecideCmd(e *env, approve bool) *cobra.Command {
	var lf ledgerFlags
	var reason, as string
	var item int
	verb, short, example := "approve", "Approve a step that waits for a person, and resume its run",
		`  firebreak approve 0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f disable --reason "confirmed leak, see ticket SEC-42"`
	if !approve {
		verb, short, example = "deny", "Deny a step that waits for a person; the run follows the step's on_error",
			`  firebreak deny 0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f disable --reason "CI key, rotating instead" --as alice`
	}
	cmd := &cobra.Command{
		Use:   verb + " INCIDENT STEP",
		Short: short,
		Long: strings.TrimSpace(`
Records the decision on the approval the step is waiting for: who (--as, or
the operating system user), when, from where (cli) and why (--reason), and
wakes the run so that it goes on at once. A step of a for_each is named by
--item. Exits 1 when the step has no approval waiting, or the approval has
expired or was already decided. See docs/runner.md.`),
		Example: example + "\n  firebreak " + verb + " INCIDENT sessions --item 2 --reason \"...\" --db firebreak.db",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--reason: required: say why, it is recorded with the decision")
			}
			by := as
			if by == "" {
				by = osUser()
			}
			if by == "" {
				return fmt.Errorf("--as: the operating system user is unknown; say who decides")
			}
			store, err := openForRunner(cmd, &lf)
			if err != nil {
				return err
			}
			defer func() { _ = store.Close() }()
			a, err := runner.Decide(cmd.Context(), store, runner.Decision{
				IncidentID: args[0], Step: args[1], Item: item, Approve: approve,
				By: by, Channel: ledger.ChannelCLI, Reason: reason,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: incident %s step %s[%d] by %s (%s) at %s: %s\n",
				a.Decision, a.IncidentID, a.Step.StepID, a.Step.Item, a.DecidedBy, a.Channel, a.Decided.Format("2006-01-02T15:04:05Z07:00"), a.Reason)
			return nil
		},
	}
	lf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why; recorded with the decision (required)")
	cmd.Flags().StringVar(&as, "as", "", "who decides; the operating system user by default")
	cmd.Flags().IntVar(&item, "item", 0, "the for_each item, for a step with for_each")
	return cmd
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// openForRunner opens an existing ledger with River's tables, which the
// runner's commands need.
func openForRunner(cmd *cobra.Command, f *ledgerFlags) (ledger.Store, error) {
	ctx := cmd.Context()
	opts := ledger.Options{MustExist: true, MigrateRiver: true}
	if f.config != "" && !cmd.Flags().Changed("db") {
		cfg, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		if cfg.Ledger.Driver == config.DefaultLedgerDriver {
			return ledger.OpenSQLite(ctx, cfg.Ledger.Path, opts)
		}
		return ledger.OpenPostgres(ctx, cfg.Ledger.DSN.Reveal(), opts)
	}
	return ledger.Open(ctx, ledger.Config{DSN: f.dsn, Options: opts})
}
