package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// dryRun is `playbook test --event`: the event goes through the runner
// exactly as serve would take it, with acting swapped for planning, on a
// throwaway ledger, against a sandbox (in-process by default) or the
// endpoint given.
type dryRun struct {
	event     string
	playbooks string
	endpoint  string
	config    string   // firebreak.yaml whose guardrails apply
	paths     []string // playbook files or directories given as arguments
}

func (d dryRun) run(ctx context.Context, e *env) error {
	reg, err := catalog.Registry()
	if err != nil {
		return err
	}
	builtin, err := playbook.Builtin(reg)
	if err != nil {
		return err
	}
	var over []*playbook.Plan
	if paths := d.allPaths(); len(paths) > 0 {
		if over, err = playbook.LoadPaths(reg, paths...); err != nil {
			fmt.Fprintln(e.stdout, err)
			return &exitError{code: 1}
		}
	}
	plans := playbook.Overlay(builtin, over)
	data, err := os.ReadFile(d.event)
	if err != nil {
		return err
	}

	clients, closeAWS, err := d.clients(ctx)
	if err != nil {
		return err
	}
	defer closeAWS()
	cfg, err := clients.Config(ctx, action.Target{})
	if err != nil {
		return err
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "firebreak-playbook-test-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	store, err := ledger.OpenSQLite(ctx, filepath.Join(dir, "ledger.db"), ledger.Options{MigrateRiver: true})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	gc := guardrail.Config{}
	if d.config != "" {
		cfg, err := config.Load(d.config)
		if err != nil {
			return err
		}
		if gc, err = guardrail.FromConfig(cfg); err != nil {
			return fmt.Errorf("%s: guardrails: %w", d.config, err)
		}
	}
	guard, err := guardrail.New(gc, guardrail.Options{Self: []guardrail.Identity{self}, Clients: clients, Ledger: store})
	if err != nil {
		return err
	}
	r, err := runner.New(runner.Options{
		Ledger: store, Plans: plans, Guard: guard, Clients: clients, Check: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	results, err := r.Ingest(ctx, data)
	if err != nil {
		return fmt.Errorf("%s: %w", d.event, err)
	}
	var events []*node
	byEvent := map[string]*node{}
	for _, res := range results {
		ev, ok := byEvent[res.EventID]
		if !ok {
			ev = &node{text: "event " + res.EventID}
			byEvent[res.EventID] = ev
			events = append(events, ev)
		}
		switch res.Outcome {
		case runner.NoMatch:
			ev.add("no playbook's trigger matches")
			continue
		case runner.Filtered:
			ev.add("playbook %s: a trigger matches, its when is false", res.Playbook)
			continue
		case runner.Unevaluable:
			ev.add("playbook %s: a trigger matches, but %v", res.Playbook, res.Err)
			continue
		case runner.Duplicate:
			ev.add("playbook %s: a repeat of incident %s", res.Playbook, res.IncidentID)
			continue
		}
		pb := ev.add("playbook %s: would open an incident and run", res.Playbook)
		pass, err := r.Pass(ctx, res.RunID, res.IncidentID)
		if err != nil {
			return err
		}
		for _, w := range pass.Work {
			describeWork(pb, w)
		}
	}
	for _, ev := range events {
		ev.print(e.stdout, "", "")
	}
	return nil
}

func (d dryRun) allPaths() []string {
	paths := append([]string{}, d.paths...)
	if d.playbooks != "" {
		paths = append(paths, d.playbooks)
	}
	return paths
}

// clients reach the endpoint given, with the usual AWS credentials, or an
// in-process sandbox seeded with the default world.
func (d dryRun) clients(ctx context.Context) (action.Clients, func(), error) {
	if d.endpoint != "" {
		return endpointClients{endpoint: d.endpoint}, func() {}, nil
	}
	sb, err := sandbox.New(sandbox.Options{Seed: 1}) // the same keys every time: plans can be compared
	if err != nil {
		return nil, nil, err
	}
	srv, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	creds, err := sb.Admin()
	if err != nil {
		_ = srv.Close()
		return nil, nil, err
	}
	return sandboxClients{sb: sb, creds: creds}, func() { _ = srv.Close() }, nil
}

type sandboxClients struct {
	sb    *sandbox.Sandbox
	creds sandbox.Credentials
}

func (c sandboxClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	region := t.Region
	if region == "" {
		region = c.sb.DefaultRegion()
	}
	return c.sb.AWSConfig(ctx, c.creds, sandbox.WithRegion(region))
}

type endpointClients struct{ endpoint string }

func (c endpointClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if t.Region != "" {
		opts = append(opts, awsconfig.WithRegion(t.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.BaseEndpoint = aws.String(c.endpoint)
	return cfg, nil
}

func describeWork(parent *node, w *runner.Work) {
	name := "step " + w.Step
	if w.ItemName != "" {
		name = fmt.Sprintf("step %s[%d] (%s)", w.Step, w.Item, w.ItemName)
	}
	line := fmt.Sprintf("%s: %s", name, w.Action.ID)
	if len(w.Params) > 0 {
		line += " " + w.Params.String()
	}
	n := parent.add("%s", line)
	for _, note := range w.Notes {
		n.add("%s", note)
	}
	for _, c := range w.Planned {
		text := "would call " + c.Operation + " " + c.Resource
		if c.Detail != "" {
			text += " " + c.Detail
		}
		n.add("%s", text)
	}
	switch {
	case w.Err != nil:
		n.add("result: %s: %v", w.Status, w.Err)
	case w.Status == ledger.StepSucceeded && w.Planned == nil:
		n.add("result: would run (no AWS call to plan)")
	case w.Status != ledger.StepSucceeded:
		n.add("result: %s", w.Status)
	}
}

// node is a line of the printed tree.
type node struct {
	text     string
	children []*node
}

func (n *node) add(format string, args ...any) *node {
	c := &node{text: fmt.Sprintf(format, args...)}
	n.children = append(n.children, c)
	return c
}

func (n *node) print(w io.Writer, first, rest string) {
	fmt.Fprintf(w, "%s%s\n", first, n.text)
	for i, c := range n.children {
		if i == len(n.children)-1 {
			c.print(w, rest+"└─ ", rest+"   ")
		} else {
			c.print(w, rest+"├─ ", rest+"│  ")
		}
	}
}
