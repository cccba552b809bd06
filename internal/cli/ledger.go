package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// defaultLedgerDSN is the ledger the commands open without --db.
const defaultLedgerDSN = "firebreak.db"

// ledgerFlags are how a command finds the ledger: --db, or the ledger
// section of --config.
type ledgerFlags struct {
	dsn    string
	config string
}

func (f *ledgerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dsn, "db", defaultLedgerDSN,
		"the ledger: a SQLite file (path or sqlite:///path) or a postgres:// DSN; overrides --config")
	cmd.Flags().StringVar(&f.config, "config", "", "read the ledger's location from this firebreak.yaml")
}

// open opens an existing ledger for reading; it never creates a SQLite
// file.
func (f *ledgerFlags) open(cmd *cobra.Command) (ledger.Store, error) {
	ctx := cmd.Context()
	opts := ledger.Options{MustExist: true}
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

func newLedgerCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Check the incident ledger",
		Long: strings.TrimSpace(`
The ledger records every incident, run, step, approval, guardrail decision
and piece of evidence, with an append-only audit log whose entries are
hash-chained. See docs/ledger.md.`),
		Example: "  firebreak ledger verify --db firebreak.db",
	}
	cmd.AddCommand(newLedgerVerifyCmd(e))
	return cmd
}

func newLedgerVerifyCmd(e *env) *cobra.Command {
	var lf ledgerFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit chain and report the first broken link",
		Long: strings.TrimSpace(`
Verify recomputes every audit entry's hash from the previous entry's hash
and the entry's content, in order, and checks the chain's head. It exits 0
when the chain is intact and 1 at the first broken link, naming the entry,
the field and the expected and found values.`),
		Example: "  firebreak ledger verify\n  firebreak ledger verify --config firebreak.yaml --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := lf.open(cmd)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			v, err := s.Verify(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(e.stdout).Encode(v); err != nil {
					return err
				}
			} else if v.Broken == nil {
				fmt.Fprintf(e.stdout, "ok: %d entries, chain intact\n", v.Entries)
			}
			if v.Broken != nil {
				b := v.Broken
				return &exitError{code: 1, err: fmt.Errorf("audit chain broken at entry %d (of %d): %s: expected %s, found %s",
					b.Seq, v.Entries, b.Field, b.Expected, b.Found)}
			}
			return nil
		},
	}
	lf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
