package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/pattern"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// Options configure a Runner.
type Options struct {
	// Ledger is where runs are recorded and River's jobs live: a
	// *ledger.SQLite or *ledger.Postgres opened with MigrateRiver.
	Ledger ledger.Store
	// Plans are the compiled playbooks; names must be unique.
	Plans []*playbook.Plan
	// Guard is the guardrail stage; required.
	Guard *guardrail.Guard
	// Clients reach AWS for the actions.
	Clients action.Clients
	// Logger receives one line per stage transition; nil discards.
	Logger *slog.Logger
	// Concurrency is how many runs execute at once in this process; 0 makes
	// a runner that only ingests and decides (the CLI), never executes.
	Concurrency int
	// Check replaces acting with planning: actions' Check reports the AWS
	// calls they would make, and approvals are noted rather than awaited.
	// playbook test uses it; everything else is the same path as serve.
	Check bool
	// Notify is the last stage of every step; nil logs at debug level.
	Notify Stage
	// Observer, when set, is told of guardrail verdicts and of approval
	// decisions as the runner applies them; serve feeds its metrics from
	// it. Never called in Check mode.
	Observer Observer
	// Report, when set, is called once a run has ended (succeeded, failed
	// or compensated) to tell people about the incident: serve and the
	// demo send the incident report through internal/notify here. It runs
	// as its own River job, retried on error (5 attempts), at least once:
	// a crash after sending and before the job completes sends again.
	// Never called in Check mode.
	Report func(ctx context.Context, incidentID, runID string) error
	// Announcer, when set, is told of each approval request as it is
	// committed, of each decision as the runner applies it and, with
	// AnnounceSteps, of each step that ends: serve posts them to Slack.
	// Each is its own River job, inserted with the transition it tells
	// of (see Announcer). Never called in Check mode.
	Announcer Announcer
	// AnnounceSteps announces every step that ends, besides approvals; a
	// step's announce field (playbook) overrides it for that step.
	AnnounceSteps bool
	// ApprovalTimeout is how long an approval the guardrail asks for (a
	// spent budget) waits when the step sets no approval timeout; 1h when 0.
	ApprovalTimeout time.Duration
	// PollInterval is how often idle workers look for jobs; 200ms when 0.
	PollInterval time.Duration
	// PassTimeout bounds one execution of a run's job; 30m when 0. Jobs
	// running longer than twice that on PostgreSQL are presumed crashed
	// and rescued.
	PassTimeout time.Duration
	// Probe, when set, is called at every step boundary: with Before after
	// the step's running transition has committed and before the action is
	// called, with After once the action returned and before the outcome
	// is committed, and with Asked once an approval request (and its
	// announcement's job) has committed. The crash test kills the process
	// there.
	Probe func(step string, at Point)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Observer hears what the runner decides. Calls are made from the runs'
// workers, concurrently; they must be quick and must not fail.
type Observer interface {
	// Guardrail is called with each verdict the guardrail gives a step.
	Guardrail(d guardrail.Decision)
	// ApprovalApplied is called when a person's (or the expiry's)
	// decision is applied to the step that waited for it.
	ApprovalApplied(a ledger.Approval)
}

// Point is a step boundary Probe is called at.
type Point string

// The boundaries.
const (
	Before Point = "before"
	After  Point = "after"
	Asked  Point = "asked"
)

// Runner turns matched events into durable, guarded runs of playbooks.
type Runner struct {
	store    ledger.Store
	plans    map[string]*playbook.Plan
	matcher  *pattern.Matcher
	triggers map[string]string // matcher pattern name → playbook name
	guard    *guardrail.Guard
	clients  action.Clients
	log      *slog.Logger
	chain    []Stage
	q        queue
	check    bool
	report   func(ctx context.Context, incidentID, runID string) error
	observer Observer
	probe    func(string, Point)
	now      func() time.Time

	announcer     Announcer
	announceSteps bool

	approvalTimeout time.Duration
}

// New builds a Runner: one matcher over every playbook's triggers, the
// stage chain, and River on the ledger's database.
func New(o Options) (*Runner, error) {
	if o.Guard == nil {
		return nil, errors.New("runner: no guardrail: every step must pass one")
	}
	r := &Runner{
		store: o.Ledger, plans: map[string]*playbook.Plan{}, matcher: pattern.NewMatcher(), triggers: map[string]string{},
		guard: o.Guard, clients: o.Clients, log: o.Logger, check: o.Check, report: o.Report, observer: o.Observer, probe: o.Probe, now: o.Now,
		approvalTimeout: o.ApprovalTimeout, announcer: o.Announcer, announceSteps: o.AnnounceSteps,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.approvalTimeout <= 0 {
		r.approvalTimeout = time.Hour
	}
	parsed := map[string]*pattern.Pattern{}
	for _, p := range o.Plans {
		if _, dup := r.plans[p.Name()]; dup {
			return nil, fmt.Errorf("runner: playbook %s is given twice", p.Name())
		}
		r.plans[p.Name()] = p
		for i, t := range p.Triggers() {
			pat, err := pattern.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("runner: playbook %s: trigger[%d]: %w", p.Name(), i, err)
			}
			name := p.Name() + "#" + strconv.Itoa(i)
			parsed[name] = pat
			r.triggers[name] = p.Name()
		}
	}
	r.matcher.AddParsed(parsed)

	notify := o.Notify
	if notify == nil {
		notify = logNotify{}
	}
	var act Stage = actStage{r}
	if o.Check {
		act = checkStage{r}
	}
	r.chain = []Stage{prepareStage{r}, guardStage{r}, approvalStage{r}, act, recordStage{r}, notify}

	workers := river.NewWorkers()
	river.AddWorker(workers, &advanceWorker{r: r})
	river.AddWorker(workers, &expiryWorker{r: r})
	river.AddWorker(workers, &wakeWorker{r: r})
	river.AddWorker(workers, &reportWorker{r: r})
	river.AddWorker(workers, &noticeWorker{r: r})
	pass := o.PassTimeout
	if pass <= 0 {
		pass = 30 * time.Minute
	}
	poll := o.PollInterval
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	q, err := newQueue(o.Ledger, queueConfig{
		workers: workers, concurrency: o.Concurrency, log: r.log.With("component", "river"),
		pollInterval: poll, jobTimeout: pass, rescueAfter: 2 * pass,
	})
	if err != nil {
		return nil, err
	}
	r.q = q
	return r, nil
}

// Start recovers what a crash left running and starts executing runs. It
// returns once the workers are started.
func (r *Runner) Start(ctx context.Context) error { return r.q.start(ctx) }

// Stop waits for running jobs to finish and stops.
func (r *Runner) Stop(ctx context.Context) error { return r.q.stop(ctx) }

// Plan returns the named playbook's plan.
func (r *Runner) Plan(name string) (*playbook.Plan, bool) {
	p, ok := r.plans[name]
	return p, ok
}

// The outcome of one event for one playbook.
type Outcome string

// The outcomes.
const (
	NoMatch     Outcome = "no_match"     // no playbook's trigger matched
	Filtered    Outcome = "filtered"     // a trigger matched, the playbook's when said no
	NewIncident Outcome = "new_incident" // an incident was opened and its run enqueued
	Duplicate   Outcome = "duplicate"    // counted on an open incident; no new run
	// Unevaluable: the playbook's when or dedup key failed on this event
	// (Result.Err says why). Nothing was recorded for the playbook; the
	// other playbooks and events go on. Retrying the event cannot help.
	Unevaluable Outcome = "unevaluable"
)

// Result says what happened to one event for one playbook.
type Result struct {
	EventID    string
	Playbook   string // empty for NoMatch
	Outcome    Outcome
	IncidentID string
	RunID      string
	Count      int64 // the incident's count after this event
	Err        error // for Unevaluable
}

func (res Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "event %s: %s", res.EventID, res.Outcome)
	if res.Playbook != "" {
		fmt.Fprintf(&b, " playbook=%s", res.Playbook)
	}
	if res.IncidentID != "" {
		fmt.Fprintf(&b, " incident=%s count=%d", res.IncidentID, res.Count)
	}
	if res.RunID != "" {
		fmt.Fprintf(&b, " run=%s", res.RunID)
	}
	if res.Err != nil {
		fmt.Fprintf(&b, ": %v", res.Err)
	}
	return b.String()
}
