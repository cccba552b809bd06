package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/demo"
)

func newDemoCmd(e *env) *cobra.Command {
	var (
		asJSON   bool
		scenario string
		seed     uint64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play an attack on a local AWS and watch Firebreak contain it",
		Long: strings.TrimSpace(`
Start a sandbox (a local AWS with a small company in it) and Firebreak
against it, with a temporary ledger; play an attack and publish the
event that reports it; and show the response live, then the incident
report and the email sent. Needs no AWS account and no network. Exits 1
when the threat was not contained.

Scenarios: exposed-key (a leaked access key used by an attacker, reported
by AWS Health) and ec2-bruteforce (an SSH brute force that gets in, then
the instance's role credentials used from outside, reported by
GuardDuty: the instance is isolated, its volumes snapshotted, its
credentials rotated and verified through SSM, the attacker blocked).`),
		Example: `  firebreak demo
  firebreak demo --scenario exposed-key
  firebreak demo --json | jq .attacker_blocked_ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The demo tells its own story on stdout; the engine's info
			// lines would interleave with it, so they show only on request.
			if f := cmd.Flag("log-level"); f != nil && !f.Changed {
				e.logLevel = "warn"
			}
			o := demo.Options{Scenario: scenario, Seed: seed, Logger: e.logger()}
			if !asJSON {
				o.Out = e.stdout
			}
			results, err := demo.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if !r.Contained {
					failed++
				}
				if asJSON {
					if err := json.NewEncoder(e.stdout).Encode(r); err != nil {
						return err
					}
					continue
				}
				if err := writeDemoResult(e.stdout, r); err != nil {
					return err
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("demo: %d of %d scenarios not contained", failed, len(results))}
			}
			return nil
		},
	}
	var names []string
	for _, s := range demo.Scenarios() {
		names = append(names, s.Name)
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per scenario instead of the live story")
	cmd.Flags().StringVar(&scenario, "scenario", "", "play only this scenario: "+strings.Join(names, ", "))
	cmd.Flags().Uint64Var(&seed, "seed", 0, "make the sandbox's ids deterministic (0: random)")
	return cmd
}

// writeDemoResult prints the incident report and the email of one
// scenario, after its live story.
func writeDemoResult(w io.Writer, r demo.Result) error {
	fmt.Fprintln(w)
	switch {
	case r.Contained:
		fmt.Fprintf(w, "Contained in %d ms; the attacker's first refused call came %d ms after the event.\n", r.ContainmentMS, r.AttackerBlockedMS)
	case r.EC2 != nil:
		fmt.Fprintf(w, "NOT CONTAINED: instance %s is not isolated.\n", r.EC2.InstanceID)
	default:
		fmt.Fprintln(w, "NOT CONTAINED: the key is still active.")
	}
	if x := r.EC2; x != nil {
		fmt.Fprintf(w, "Evidence: %d snapshot(s). Blocked: %s. Credentials rotated and verified through SSM: %s. Login from the attacker in the auth log: %s.\n",
			len(x.Snapshots), orNone(strings.Join(x.BlockedIPs, ", ")), yesNo(x.CredentialsRotatedVerified), yesNo(x.LoginSucceeded))
	}
	verdict := "no sign the attacker got anywhere"
	if r.AttackSucceeded {
		verdict = fmt.Sprintf("the attacker succeeded: %d persistence calls to undo", len(r.Persistence))
	}
	if r.EC2 != nil && r.EC2.LoginSucceeded {
		verdict = "the attacker logged in to the instance: treat it as compromised"
	}
	fmt.Fprintf(w, "Verdict: %s.\n\n", verdict)
	if r.IncidentID != "" {
		if err := writeReport(w, r.Report); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(r.Emails) == 0 {
		fmt.Fprintln(w, "Email: none sent (the sandbox's SES outbox is empty).")
		return nil
	}
	for _, m := range r.Emails {
		fmt.Fprintf(w, "Email %s\n  From: %s\n  To: %s\n  Subject: %s\n\n%s\n", m.MessageID, m.From, strings.Join(m.To, ", "), m.Subject, m.Text)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
