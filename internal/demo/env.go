package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/sqs"
)

// Playbooks are the built-in playbooks the demo loads: the credential
// responses and the EC2 one. The example playbook is left out: it would
// answer the same Health event with a second, log-only incident.
var Playbooks = []string{"compromised-iam-credentials", "ec2-compromise", "exposed-access-key"}

// demoConfig is firebreak.yaml for the demo: act in the sandbox's region;
// never touch a principal tagged firebreak/exempt (the world's CI user).
// Reports are sent by Env.Notify.
const demoConfig = `
aws:
  region: us-east-1
guardrails:
  protected_tags:
    - key: firebreak/exempt
`

// EnvOptions configure Start.
type EnvOptions struct {
	// Seed makes the sandbox's ids deterministic; 0 is random.
	Seed uint64
	// World seeds the sandbox; nil is the built-in world.
	World *sandbox.World
	// Config is firebreak.yaml; "" is the demo's own.
	Config string
	// Logger receives Firebreak's and the sandbox's logs; nil discards.
	Logger *slog.Logger
}

// Env is a running demo: a sandbox, and Firebreak serving its event queue
// with a temporary ledger. Close stops both and removes the ledger.
type Env struct {
	Sandbox *sandbox.Sandbox
	Store   ledger.Store
	// Plans are the playbooks Firebreak runs, by name.
	Plans map[string]*playbook.Plan
	// Responder is the identity Firebreak acts as (the world's
	// administrator, who is also a guardrail-protected "self").
	Responder sandbox.Credentials

	dir    string
	srv    io.Closer
	mu     sync.Mutex
	other  map[string]bool // incidents of other events than the one followed
	cancel context.CancelFunc
	done   chan error
}

// Start boots the sandbox and the app, and returns once the app is
// consuming the sandbox's event queue.
func Start(ctx context.Context, o EnvOptions) (_ *Env, err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Env{Plans: map[string]*playbook.Plan{}}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	if e.Sandbox, err = sandbox.New(sandbox.Options{Seed: o.Seed, World: o.World, Logger: log.With("component", "sandbox")}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	srv, err := e.Sandbox.Listen("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: sandbox: %w", err)
	}
	e.srv = srv
	if e.Responder, err = e.Sandbox.Admin(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	awsCfg, err := e.Sandbox.AWSConfig(ctx, e.Responder, sandbox.WithMaxAttempts(3))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	text := o.Config
	if text == "" {
		text = demoConfig
	}
	cfg, err := config.Parse("demo.yaml", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if e.dir, err = os.MkdirTemp("", "firebreak-demo-"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if e.Store, err = ledger.OpenSQLite(ctx, filepath.Join(e.dir, "ledger.db"), ledger.Options{MigrateRiver: true}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	plans, err := builtinPlans()
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		e.Plans[p.Name()] = p
	}
	queue := e.Sandbox.EventsQueueURL()
	if queue == "" {
		return nil, errors.New("demo: the sandbox world has no events queue")
	}
	// The app is built in two steps: the SQS source needs the app's sink,
	// and the app takes its sources in Options. A source that waits for
	// the sink breaks the cycle.
	late := &lateSource{}
	a, err := app.New(ctx, app.Options{
		Config: cfg, AWS: awsCfg, Ledger: e.Store, Plans: plans, Sources: []app.Source{late},
		Logger: log, ShutdownTimeout: 5 * time.Second, Concurrency: 4,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	src, err := sqs.New(sqs.Options{
		Client: awssqs.NewFromConfig(awsCfg), QueueURL: queue, Sink: a.Sink(), Quarantine: source.Ledger{Store: e.Store},
		Receivers: 2, VisibilityTimeout: time.Minute, WaitTime: 20 * time.Second, DeletePoison: true,
		Metrics: a.Metrics(), Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	late.set(src)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- a.Run(runCtx) }()
	return e, nil
}

// builtinPlans compiles the built-in playbooks the demo runs.
func builtinPlans() ([]*playbook.Plan, error) {
	reg, err := catalog.Registry()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	all, err := playbook.Builtin(reg)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var out []*playbook.Plan
	for _, p := range all {
		if slices.Contains(Playbooks, p.Name()) {
			out = append(out, p)
		}
	}
	if len(out) != len(Playbooks) {
		return nil, fmt.Errorf("demo: built-in playbooks %v not all found", Playbooks)
	}
	return out, nil
}

// lateSource runs a source set after the app was built.
type lateSource struct {
	mu  sync.Mutex
	src app.Source
}

func (l *lateSource) set(s app.Source) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.src = s
}

func (l *lateSource) Run(ctx context.Context) error {
	l.mu.Lock()
	s := l.src
	l.mu.Unlock()
	if s == nil {
		return errors.New("demo: source not set")
	}
	return s.Run(ctx)
}

// Close stops Firebreak and the sandbox and removes the temporary ledger.
func (e *Env) Close() error {
	var errs []error
	if e.cancel != nil {
		e.cancel()
		if err := <-e.done; err != nil {
			errs = append(errs, err)
		}
	}
	if e.Store != nil {
		errs = append(errs, e.Store.Close())
	}
	if e.srv != nil {
		errs = append(errs, e.srv.Close())
	}
	if e.dir != "" {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	return errors.Join(errs...)
}

// AWSConfig returns an SDK config reaching the sandbox with creds.
func (e *Env) AWSConfig(ctx context.Context, creds sandbox.Credentials, opts ...sandbox.ClientOption) (aws.Config, error) {
	return e.Sandbox.AWSConfig(ctx, creds, opts...)
}

// Publish puts a finding on the sandbox's bus, which delivers it to the
// queue Firebreak reads, and returns it with the time it was published.
func (e *Env) Publish(ctx context.Context, f sandbox.Finding) (sandbox.BusEvent, time.Time, error) {
	ev, err := e.Sandbox.NewFinding(f)
	if err != nil {
		return ev, time.Time{}, fmt.Errorf("demo: %w", err)
	}
	at := time.Now()
	if err := e.Sandbox.Publish(ctx, ev); err != nil {
		return ev, at, fmt.Errorf("demo: publish %s: %w", f.Kind, err)
	}
	return ev, at, nil
}

// PublishEvent puts an event on the sandbox's bus as it is and returns
// the time it was published.
func (e *Env) PublishEvent(ctx context.Context, ev sandbox.BusEvent) (time.Time, error) {
	at := time.Now()
	if err := e.Sandbox.Publish(ctx, ev); err != nil {
		return at, fmt.Errorf("demo: publish %s: %w", ev.ID, err)
	}
	return at, nil
}

// incidentFor finds the incident an event opened or was counted on, ""
// while there is none.
func (e *Env) incidentFor(ctx context.Context, eventID string) (string, error) {
	incs, err := e.Store.ListIncidents(ctx, ledger.ListFilter{Limit: 1000})
	if err != nil {
		return "", err
	}
	for _, inc := range incs {
		if e.seen(inc.ID) {
			continue
		}
		rep, err := e.Store.Report(ctx, inc.ID) // the list leaves the events out
		if err != nil {
			return "", err
		}
		for _, raw := range []json.RawMessage{rep.Incident.FirstEvent, rep.Incident.LatestEvent} {
			var head struct {
				ID string `json:"id"`
			}
			if len(raw) > 0 && json.Unmarshal(raw, &head) == nil && head.ID == eventID {
				return inc.ID, nil
			}
		}
		e.markSeen(inc.ID)
	}
	return "", nil
}

// seen reports whether incidentFor already read an incident and found
// it was another event's.
func (e *Env) seen(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.other[id]
}

func (e *Env) markSeen(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.other == nil {
		e.other = map[string]bool{}
	}
	e.other[id] = true
}
