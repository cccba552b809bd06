package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/source/replay"
)

func newReplayCmd(e *env) *cobra.Command {
	var (
		flags  appFlags
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "replay FILE|DIR|-...",
		Short: "Feed recorded events through the pipeline into the ledger",
		Long: strings.TrimSpace(`
Reads each FILE, every file under each DIR (in name order) or standard
input ("-"), in any shape event inspect accepts (CloudTrail log files,
gzipped or not, included), and ingests it exactly as serve would: match,
dedup, incident, and the run's first job, which a running serve executes.
With --dry-run the events go into a throwaway ledger instead, so nothing
is recorded and no playbook runs; the output shows what would have
happened (a repeat of an incident already in the real ledger then shows
as new). Prints one line per input; exits 1 when any input failed.`),
		Example: strings.TrimSpace(`
  firebreak replay --config firebreak.yaml --dry-run internal/samples/data/guardduty/
  firebreak replay --config firebreak.yaml AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/22/
  aws s3 cp s3://trail/log.json.gz - | firebreak replay --config firebreak.yaml -`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			inputs, err := replay.Inputs(args)
			if err != nil {
				return err
			}
			cfg, err := config.Load(flags.config)
			if err != nil {
				return err
			}
			if dryRun {
				dir, err := os.MkdirTemp("", "firebreak-replay-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				cfg.Ledger = config.Ledger{Driver: "sqlite", Path: filepath.Join(dir, "dry-run.db")}
			}
			a, err := app.New(ctx, app.Options{Config: cfg, Logger: e.logger(), IngestOnly: true})
			if err != nil {
				return err
			}
			defer a.Close()
			results := replay.Run(ctx, a.Sink(), inputs, e.stdin)
			for _, r := range results {
				if r.Err != nil {
					fmt.Fprintf(e.stdout, "%s: error: %v\n", r.Input, r.Err)
					continue
				}
				fmt.Fprintf(e.stdout, "%s: %s\n", r.Input, r.Outcome)
			}
			if n := replay.Failed(results); n > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d inputs failed", n, len(results))}
			}
			return nil
		},
	}
	flags.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "ingest into a throwaway ledger: record nothing, run nothing")
	return cmd
}
