package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/pattern"
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
  firebreak playbook test playbooks/exposed-key.yaml event.json
  firebreak playbook list --dir playbooks/`),
	}
	cmd.AddCommand(newPlaybookValidateCmd(e), newPlaybookListCmd(e), newPlaybookTestCmd(e))
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

func newPlaybookTestCmd(e *env) *cobra.Command {
	var inc playbook.Incident
	var dry dryRun
	cmd := &cobra.Command{
		Use:   "test PLAYBOOK EVENT-FILE | test --event FILE [PLAYBOOK...]",
		Short: "Show what a playbook would do for an event, without acting",
		Long: strings.TrimSpace(`
Compiles the playbook, decodes the event file (any shape serve accepts),
and for each event shows whether a trigger pattern matches, the when, the
dedup key, and for every step and for_each item whether it runs, whether
it needs approval, and its resolved parameters. No action runs, so a
parameter that refers to an earlier step's output shows that the step
did not run. Exits 1 when the playbook does not compile or the event does
not decode.

With --event, the event goes through the runner exactly as serve takes it,
with acting swapped for planning: every playbook (the built-in ones, those
given as arguments and --playbooks) is matched, and for each one that would
run the tree shows its steps with their resolved parameters, the guardrail's
verdict, the approvals it would wait for, and the exact AWS calls each
action would make, checked against a sandbox (in-process, seeded with the
default world, unless --endpoint names one; credentials then come from the
usual AWS environment), with the guardrails of --config (or only
Firebreak's own identity protected). Nothing is recorded: the ledger is a
temporary one.
See docs/runner.md.`),
		Example: strings.TrimSpace(`
  firebreak playbook test playbooks/exposed-key.yaml event.json
  firebreak playbook test --seen-before --count 3 x.yaml finding.json
  firebreak playbook test --event finding.json --playbooks playbooks/
  firebreak playbook test --event finding.json --endpoint http://127.0.0.1:4566 exposed-key.yaml`),
		Args: func(cmd *cobra.Command, args []string) error {
			if dry.event != "" {
				return nil
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if dry.event != "" {
				dry.paths = args
				return dry.run(cmd.Context(), e)
			}
			reg, err := catalog.Registry()
			if err != nil {
				return err
			}
			p, err := playbook.LoadFile(reg, args[0])
			if err != nil {
				var list playbook.ErrorList
				if errors.As(err, &list) {
					fmt.Fprintln(e.stdout, err)
					return &exitError{code: 1}
				}
				return err
			}
			data, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			events, err := event.Decode(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			m := pattern.NewMatcher()
			for i, t := range p.Triggers() {
				if err := m.Add(fmt.Sprintf("trigger[%d]", i), t); err != nil {
					return err
				}
			}
			if inc.ID == "" {
				inc.ID = "test"
			}
			for i := range events {
				if err := testEvent(cmd.Context(), e, p, m, &events[i], inc); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&inc.Count, "count", 1, "the incident's event count, incident.count")
	cmd.Flags().BoolVar(&inc.SeenBefore, "seen-before", false, "pretend an earlier incident had the same subjects, incident.seen_before")
	cmd.Flags().StringVar(&dry.event, "event", "", "run the event through the runner in plan mode (see above)")
	cmd.Flags().StringVar(&dry.playbooks, "playbooks", "", "with --event: a directory of playbooks that add to and override the built-in ones")
	cmd.Flags().StringVar(&dry.config, "config", "", "with --event: apply the guardrails of this firebreak.yaml")
	cmd.Flags().StringVar(&dry.endpoint, "endpoint", "", "with --event: plan against the AWS endpoint at this URL instead of an in-process sandbox")
	return cmd
}

// testEvent prints what the plan would do for one event.
func testEvent(ctx context.Context, e *env, p *playbook.Plan, m *pattern.Matcher, evt *event.Event, inc playbook.Incident) error {
	out := e.stdout
	fmt.Fprintf(out, "event %s (%s, %s)\n", evt.ID, evt.Source, evt.FindingType)
	matched, err := m.Match(evt.EventBridgeJSON(), nil)
	if err != nil {
		return err
	}
	if len(matched) == 0 {
		fmt.Fprintln(out, "  trigger: no pattern matches")
		return nil
	}
	fmt.Fprintf(out, "  trigger: %s matches\n", strings.Join(matched, ", "))
	in, err := playbook.NewInput(evt, inc)
	if err != nil {
		return err
	}
	ok, err := p.Matches(ctx, in)
	switch {
	case err != nil:
		fmt.Fprintf(out, "  when: %v\n", err)
		return nil
	case !ok:
		fmt.Fprintln(out, "  when: false")
		return nil
	}
	key, err := p.DedupKey(ctx, in)
	if err != nil {
		fmt.Fprintf(out, "  dedup: %v\n", err)
	} else {
		fmt.Fprintf(out, "  dedup: %s\n", key)
	}
	for _, s := range p.Steps() {
		items, err := s.Items(ctx, in)
		if err != nil {
			fmt.Fprintf(out, "  step %s: %v\n", s.ID(), err)
			continue
		}
		if len(items) == 0 {
			fmt.Fprintf(out, "  step %s: for_each is empty\n", s.ID())
		}
		for _, it := range items {
			name := s.ID()
			if k := it.Key(); k != "" {
				name += "[" + k + "] (" + it.String() + ")"
			}
			fmt.Fprintf(out, "  step %s: %s\n", name, describeItem(ctx, in, s, it))
		}
	}
	return nil
}

func describeItem(ctx context.Context, in *playbook.Input, s *playbook.Step, it playbook.Item) string {
	on, err := s.Enabled(ctx, in, it)
	switch {
	case err != nil:
		return err.Error()
	case !on:
		return "skipped (when is false)"
	}
	approval, err := s.NeedsApproval(ctx, in, it)
	if err != nil {
		return err.Error()
	}
	params, err := s.Resolve(ctx, in, it)
	if err != nil {
		return err.Error()
	}
	line := s.Action().Meta().ID + " " + params.String()
	if approval {
		line += " (needs approval)"
	}
	return line
}
