package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/metrics"
	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/slack"
	"github.com/firebreak-sec/firebreak/internal/source"
	"github.com/firebreak-sec/firebreak/internal/source/sqs"
	"github.com/firebreak-sec/firebreak/internal/source/webhook"
	"github.com/firebreak-sec/firebreak/internal/sweep"
)

// Source is anything that runs until its context is done and hands
// messages to the app's Sink.
type Source interface {
	Run(ctx context.Context) error
}

// Options configures an App. Zero values are usable: a nil Logger discards.
type Options struct {
	Logger *slog.Logger

	// Config is firebreak.yaml, loaded; required by New.
	Config *config.Config
	// AWS is Firebreak's own AWS configuration: the sources' SQS client,
	// STS for its identity and the roles it assumes. Required unless
	// IngestOnly.
	AWS aws.Config
	// Ledger, when set, is used instead of opening Config.Ledger; the App
	// does not close it. It must have River's tables (MigrateRiver).
	Ledger ledger.Store
	// Plans, when set, replace the built-in playbooks and playbooks.dir.
	Plans []*playbook.Plan
	// Metrics, when nil, is a new registry.
	Metrics *metrics.Metrics
	// Sources, when not nil, replace those of Config.Sources.
	Sources []Source
	// Listen is the address of /healthz, /readyz and /metrics (and of the
	// webhook, which has its own listener when configured); "" serves no
	// HTTP.
	Listen string
	// ShutdownTimeout bounds a graceful stop: sources stop receiving, the
	// runner finishes or parks its steps. 30s when 0.
	ShutdownTimeout time.Duration
	// Concurrency is how many runs execute at once; 4 when 0.
	Concurrency int
	// WebhookCertHosts are host:port values trusted to serve SNS signing
	// certificates and subscribe URLs besides sns.<region>.amazonaws.com
	// (the sandbox's); WebhookHTTPClient fetches them.
	WebhookCertHosts  []string
	WebhookHTTPClient *http.Client
	// IngestOnly makes an App that records incidents and enqueues their
	// runs but never executes them (replay, the Lambda entry): a serve
	// process executes them. It needs no AWS identity.
	IngestOnly bool
}

// App is one Firebreak process.
type App struct {
	log     *slog.Logger
	opts    Options
	cfg     *config.Config
	store   ledger.Store
	ownsDB  bool
	runner  *runner.Runner
	metrics *metrics.Metrics
	sources []Source
	clients *Clients
	webhook *webhook.Handler

	started atomic.Bool
}

// New opens the ledger, compiles the playbooks, identifies Firebreak in
// AWS, and builds the guardrail, the runner and the sources. Nothing runs
// until Run.
func New(ctx context.Context, o Options) (a *App, err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Config == nil {
		return nil, errors.New("app: no config")
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.IngestOnly {
		o.Concurrency = 0
	}
	a = &App{log: log, opts: o, cfg: o.Config, store: o.Ledger, metrics: o.Metrics}
	if a.metrics == nil {
		a.metrics = metrics.New()
	}
	if a.store == nil {
		if a.store, err = openLedger(ctx, o.Config.Ledger); err != nil {
			return nil, err
		}
		a.ownsDB = true
		defer func() {
			if err != nil {
				_ = a.store.Close()
			}
		}()
	}
	plans := o.Plans
	if plans == nil {
		if plans, err = loadPlans(o.Config.Playbooks.Dir); err != nil {
			return nil, err
		}
	}
	self := guardrail.Identity{Account: "000000000000", ARN: "arn:aws:iam::000000000000:user/firebreak-ingest-only"}
	if !o.IngestOnly {
		if self, err = guardrail.Identify(ctx, o.AWS); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	a.clients = NewClients(o.AWS, self.Account, o.Config.AWS.Accounts, a.metrics)
	gc, err := guardrail.FromConfig(o.Config)
	if err != nil {
		return nil, fmt.Errorf("app: guardrails: %w", err)
	}
	guard, err := guardrail.New(gc, guardrail.Options{Self: []guardrail.Identity{self}, Clients: a.clients, Ledger: a.store})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	obs := &observe{m: a.metrics, store: a.store, seen: map[string]bool{}}
	report, err := a.reporter(o, log)
	if err != nil {
		return nil, err
	}
	ann, announceSteps, err := announcer(o, a.store)
	if err != nil {
		return nil, err
	}
	a.runner, err = runner.New(runner.Options{
		Ledger: a.store, Plans: plans, Guard: guard, Clients: a.clients, Logger: log,
		Concurrency: o.Concurrency, Notify: obs, Observer: obs,
		Report: report, Announcer: ann, AnnounceSteps: announceSteps,
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if o.Sources != nil {
		a.sources = o.Sources
	} else {
		if a.sources, err = a.configuredSources(); err != nil {
			return nil, err
		}
		if w := o.Config.Sources.Webhook; w != nil {
			if a.webhook, err = webhook.New(webhook.Options{
				Sink: a.Sink(), Quarantine: source.Ledger{Store: a.store},
				HMACSecret: w.HMACSecret, BearerToken: w.BearerToken, SNSTopics: w.SNS.TopicARNs,
				SNSCertHosts: o.WebhookCertHosts, HTTPClient: o.WebhookHTTPClient, Metrics: a.metrics, Logger: log,
			}); err != nil {
				return nil, fmt.Errorf("app: sources.webhook: %w", err)
			}
		}
	}
	return a, nil
}

func openLedger(ctx context.Context, l config.Ledger) (ledger.Store, error) {
	opts := ledger.Options{MigrateRiver: true}
	if l.Driver == "postgres" {
		return ledger.OpenPostgres(ctx, l.DSN.Reveal(), opts)
	}
	return ledger.OpenSQLite(ctx, l.Path, opts)
}

// loadPlans compiles the built-in playbooks and dir's, which override
// them by name; a missing dir is no error (only the built-ins run).
func loadPlans(dir string) ([]*playbook.Plan, error) {
	reg, err := catalog.Registry()
	if err != nil {
		return nil, err
	}
	builtin, err := playbook.Builtin(reg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return builtin, nil
	}
	over, err := playbook.LoadPaths(reg, dir)
	if err != nil {
		return nil, err
	}
	return playbook.Overlay(builtin, over), nil
}

// configuredSources builds the SQS sources of the config. The webhook is
// added by Run, which owns its listener.
func (a *App) configuredSources() ([]Source, error) {
	var out []Source
	for i, q := range a.cfg.Sources.SQS {
		cfg := a.opts.AWS.Copy()
		if r := queueRegion(q.QueueURL); r != "" {
			cfg.Region = r
		}
		src, err := sqs.New(sqs.Options{
			Client: awssqs.NewFromConfig(cfg), QueueURL: q.QueueURL, Sink: a.Sink(), Quarantine: source.Ledger{Store: a.store},
			Receivers: q.Receivers, VisibilityTimeout: q.VisibilityTimeout.Std(), MaxMessageBytes: q.MaxMessageBytes,
			MaxReceives: q.DLQ.MaxReceives, DLQ: q.DLQ.QueueURL, Metrics: a.metrics, Logger: a.log,
		})
		if err != nil {
			return nil, fmt.Errorf("app: sources.sqs[%d]: %w", i, err)
		}
		out = append(out, src)
	}
	return out, nil
}

// queueRegion reads the region from an SQS queue URL's host
// (sqs.<region>.amazonaws.com), "" when it has none.
func queueRegion(url string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	parts := strings.Split(host, ".")
	if len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
		return parts[1]
	}
	return ""
}

// Logger returns the App's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Store returns the ledger.
func (a *App) Store() ledger.Store { return a.store }

// Metrics returns the metrics.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Runner returns the runner.
func (a *App) Runner() *runner.Runner { return a.runner }

// Clients returns the AWS clients provider actions use.
func (a *App) Clients() action.Clients { return a.clients }

// Sink returns the pipeline as sources see it: the runner's Ingest, with
// decoding errors marked as poison, and metrics.
func (a *App) Sink() source.Sink { return sink{a} }

type sink struct{ a *App }

func (s sink) Ingest(ctx context.Context, raw []byte, meta source.Meta) (source.Outcome, error) {
	m := s.a.metrics
	res, err := s.a.runner.Ingest(ctx, raw)
	if err != nil {
		var de *event.Error
		if len(res) == 0 && (errors.As(err, &de) || errors.Is(err, event.ErrTooLarge)) {
			return "", source.Poison(err)
		}
		m.Failed(meta.Source)
		return "", err
	}
	m.Decoded(meta.Source)
	out := source.NoMatch
	for _, r := range res {
		switch r.Outcome {
		case runner.NewIncident:
			m.IncidentOpened(r.Playbook)
			out = source.Committed
		case runner.Duplicate:
			if out == source.NoMatch {
				out = source.Duplicate
			}
		}
	}
	if out != source.NoMatch {
		m.Matched(meta.Source)
	}
	return out, nil
}

// Handler serves /healthz (the process is up), /readyz (the ledger
// answers and the runner started) and /metrics.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !a.started.Load() {
			http.Error(w, "runner not started", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := a.store.ListIncidents(ctx, ledger.ListFilter{Limit: 1}); err != nil {
			a.log.Warn("readiness: ledger unreachable", "err", err)
			http.Error(w, "ledger unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", a.metrics.Handler())
	// Slack's interactivity requests: Approve/Deny buttons. Mounted only
	// when approvers are configured; every request is signature-checked.
	if s := a.cfg.Notify.Slack; s != nil && len(s.Approvers) > 0 {
		mux.Handle(SlackInteractivityPath, slack.New(*s, a.store, a.log))
	}
	return mux
}

// SlackInteractivityPath is where Slack's interactivity requests are
// served (see docs/slack.md).
const SlackInteractivityPath = "/slack/interactivity"

// Run starts the runner, the HTTP server and the sources, and runs until
// ctx is done or one of them fails. Then it stops gracefully within
// ShutdownTimeout: sources stop receiving and finish the messages in hand,
// the runner finishes or parks its steps, the ledger is closed.
func (a *App) Run(ctx context.Context) error {
	executes := a.opts.Concurrency > 0 // an ingest-only runner has no workers to start
	if executes {
		if err := a.runner.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("app: start runner: %w", err)
		}
	}
	a.started.Store(true)
	a.log.Info("runner started", "concurrency", a.opts.Concurrency, "sources", len(a.sources))

	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	srcCtx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	for _, s := range a.sources {
		wg.Go(func() {
			if err := s.Run(srcCtx); err != nil {
				cancel(fmt.Errorf("source: %w", err))
			}
		})
	}
	if executes && !a.opts.IngestOnly && !a.cfg.Sweep.Disabled {
		sw := sweep.New(sweep.Options{
			Ledger: a.store, Clients: a.clients, Logger: a.log.With("component", "sweep"),
			Registerer: a.metrics.Registry(), Interval: a.cfg.Sweep.Interval.Std(), Lookback: a.cfg.Sweep.Lookback.Std(),
			DryRun: a.cfg.Playbooks.DryRun,
		})
		wg.Go(func() {
			if err := sw.Run(srcCtx); err != nil {
				cancel(fmt.Errorf("sweep: %w", err))
			}
		})
	}
	var servers []*http.Server
	serve := func(what, addr string, h http.Handler, tls *config.TLS) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			cancel(fmt.Errorf("%s: listen %s: %w", what, addr, err))
			return
		}
		a.log.Info("serving "+what, "addr", ln.Addr().String(), "tls", tls != nil)
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		wg.Go(func() {
			var err error
			if tls != nil {
				err = srv.ServeTLS(ln, tls.CertFile, tls.KeyFile)
			} else {
				err = srv.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				cancel(fmt.Errorf("%s: %w", what, err))
			}
		})
	}
	if a.opts.Listen != "" {
		serve("health and metrics", a.opts.Listen, a.Handler(), nil)
	}
	if a.webhook != nil {
		w := a.cfg.Sources.Webhook
		path, listen := cmp.Or(w.Path, config.DefaultWebhookPath), cmp.Or(w.Listen, config.DefaultWebhookListen)
		mux := http.NewServeMux()
		mux.Handle(path, a.webhook)
		serve("webhook", listen, mux, w.TLS)
	}
	<-ctx.Done()
	var cause error
	if parent.Err() == nil {
		cause = context.Cause(ctx) // a source or server failed
	}
	a.log.Info("shutting down", "timeout", a.opts.ShutdownTimeout)
	stopCtx, stopCancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer stopCancel()
	stopSources()
	for _, srv := range servers {
		_ = srv.Shutdown(stopCtx)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-stopCtx.Done():
		a.log.Warn("sources did not stop in time; their messages will be delivered again")
	}
	if executes {
		if err := a.runner.Stop(stopCtx); err != nil {
			a.log.Warn("runner did not stop cleanly; unfinished steps resume at the next start", "err", err)
		}
	}
	a.started.Store(false)
	return cause
}

// Close closes the ledger when the App opened it.
func (a *App) Close() error {
	if a.ownsDB {
		return a.store.Close()
	}
	return nil
}

// observe is the runner's last stage: it counts steps by action and
// outcome and times the first containment of each incident, and logs.
type observe struct {
	m     *metrics.Metrics
	store ledger.Store

	mu   sync.Mutex
	seen map[string]bool // incidents whose containment was observed
}

func (o *observe) Process(ctx context.Context, w *runner.Work) (bool, error) {
	o.m.Step(w.Action.ID, string(w.Status))
	w.Log.Info("step finished", "status", w.Status)
	if w.Status != ledger.StepSucceeded || w.Action.Risk < action.Reversible || !strings.HasPrefix(w.Action.ID, "aws.") {
		return true, nil
	}
	o.mu.Lock()
	first := !o.seen[w.IncidentID]
	o.seen[w.IncidentID] = true
	o.mu.Unlock()
	if first {
		if inc, err := o.store.Report(ctx, w.IncidentID); err == nil {
			o.m.Contained(time.Since(inc.Incident.FirstSeen))
		}
	}
	return true, nil
}

// Guardrail counts denials by the rule that denied.
func (o *observe) Guardrail(d guardrail.Decision) {
	if d.Verdict == guardrail.Deny {
		o.m.GuardrailDenied(d.Rule)
	}
}

// ApprovalApplied observes how long the step waited for its decision.
func (o *observe) ApprovalApplied(a ledger.Approval) {
	if !a.Decided.IsZero() && !a.Requested.IsZero() {
		o.m.ApprovalWaited(a.Decided.Sub(a.Requested))
	}
}

// announcer builds what posts approval requests, decisions and (with
// notify.slack.steps: all) every step's end to Slack as runs go on: nil
// without notify.slack, with steps: none, or for an ingest-only App.
func announcer(o Options, store ledger.Store) (runner.Announcer, bool, error) {
	s := o.Config.Notify.Slack
	if o.IngestOnly || s == nil || s.Steps == config.SlackStepsNone {
		return nil, false, nil
	}
	reg, err := catalog.Registry()
	if err != nil {
		return nil, false, fmt.Errorf("app: %w", err)
	}
	return slack.NewAnnouncer(*s, store, reg), s.Steps == config.SlackStepsAll, nil
}

// reporter builds what tells people about an incident once its run has
// ended: the notify channels of firebreak.yaml, with owners read from IAM
// tags in the incident's account through the responder role. Without a
// channel configured it returns nil and nothing is sent.
func (a *App) reporter(o Options, log *slog.Logger) (func(ctx context.Context, incidentID, runID string) error, error) {
	if o.IngestOnly {
		return nil, nil
	}
	n, err := notify.FromConfig(o.Config, notify.Options{
		AWS:    o.AWS,
		Logger: log,
		IAM: func(ctx context.Context, account string) (notify.UserTagsAPI, error) {
			cfg, err := a.clients.Config(ctx, action.Target{Account: account, Region: o.AWS.Region})
			if err != nil {
				return nil, err
			}
			return iam.NewFromConfig(cfg), nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if len(n.Channels) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, incidentID, runID string) error {
		deliveries, err := n.NotifyIncident(ctx, a.store, incidentID)
		if err != nil {
			// Nothing was sent (the incident could not be read): the
			// runner's report job tries again.
			return err
		}
		// Each channel has already retried what can be retried; failing
		// the job here would send again on the channels that succeeded.
		for _, d := range deliveries {
			l := log.With("incident_id", incidentID, "run_id", runID, "channel", d.Channel, "to", d.To)
			if d.OK {
				l.Info("incident report sent")
			} else {
				l.Warn("incident report not delivered", "error", d.Error)
			}
		}
		return nil
	}, nil
}
