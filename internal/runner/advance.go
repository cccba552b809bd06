package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// errPlaybookGone is why a run cannot go on: its playbook is no longer
// loaded. The run's job is cancelled rather than retried.
var errPlaybookGone = errors.New("the playbook is no longer loaded; the run cannot go on")

// runState is what one pass over a run knows, read from the ledger.
type runState struct {
	runID      string
	incidentID string
	plan       *playbook.Plan
	in         *playbook.Input
	target     action.Target
	rows       map[ledger.StepKey]ledger.Step
	approvals  map[ledger.StepKey]ledger.Approval // the latest per step
	dryRuns    map[ledger.StepKey]bool            // the guardrail said dry run
}

// Status is where a run stands after a pass.
type Status string

// The run statuses.
const (
	RunWaiting     Status = "waiting"     // steps await a person's decision
	RunSucceeded   Status = "succeeded"   // every step succeeded or was skipped
	RunFailed      Status = "failed"      // a step failed or was denied and the run stopped
	RunCompensated Status = "compensated" // a step failed and earlier steps were reverted
	RunCompleted   Status = "completed"   // steps failed under on_error continue; the rest ran
)

// PassResult is what one pass over a run did.
type PassResult struct {
	Status Status
	// Wait is the earliest approval deadline, when Status is RunWaiting.
	Wait time.Time
	// Work is every step the pass processed, in plan order.
	Work []*Work
}

// load reads the run from the ledger and rebuilds its input from the
// incident's first event and the outputs of the steps that succeeded.
func (r *Runner) load(ctx context.Context, runID, incidentID string) (*runState, error) {
	rep, err := r.store.Report(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	var run *ledger.Run
	for i := range rep.Runs {
		if rep.Runs[i].ID == runID {
			run = &rep.Runs[i]
		}
	}
	if run == nil {
		return nil, fmt.Errorf("run %s of incident %s: %w", runID, incidentID, ledger.ErrNotFound)
	}
	plan, ok := r.plans[run.Playbook]
	if !ok {
		return nil, fmt.Errorf("run %s: playbook %s: %w", runID, run.Playbook, errPlaybookGone)
	}
	evts, err := event.Decode(rep.Incident.FirstEvent)
	if err != nil || len(evts) != 1 {
		return nil, fmt.Errorf("run %s: the incident's first event does not decode: %v", runID, err)
	}
	in, err := playbook.NewInput(&evts[0], playbook.Incident{
		ID: rep.Incident.ID, Count: int(rep.Incident.Count), SeenBefore: len(rep.SeenBefore) > 0,
	})
	if err != nil {
		return nil, err
	}
	rs := &runState{
		runID: runID, incidentID: incidentID, plan: plan, in: in,
		target: action.Target{Account: rep.Incident.Account, Region: rep.Incident.Region},
		rows:   map[ledger.StepKey]ledger.Step{}, approvals: map[ledger.StepKey]ledger.Approval{}, dryRuns: map[ledger.StepKey]bool{},
	}
	for _, s := range run.Steps {
		rs.rows[s.StepKey] = s
	}
	for _, a := range rep.Approvals {
		if a.Step.RunID == runID {
			rs.approvals[a.Step] = a // ordered by request time: the latest wins
		}
	}
	for _, g := range rep.Guardrails {
		if g.Step.RunID == runID {
			rs.dryRuns[g.Step] = g.Rule == guardrail.RuleDryRun
		}
	}
	for _, st := range plan.Steps() {
		row, ok := rs.rows[ledger.StepKey{RunID: runID, StepID: st.ID()}]
		if !ok || row.Status != ledger.StepSucceeded || len(row.Output) == 0 {
			continue
		}
		out, err := decodeValues(row.Output, st.Action().Meta().Outputs)
		if err != nil {
			return nil, fmt.Errorf("run %s: step %s: %w", runID, st.ID(), err)
		}
		in.SetOutput(st.ID(), out)
	}
	return rs, nil
}

// Pass executes everything a run can do now: stage after stage, every
// step of a stage through the chain, until the run ends or waits for a
// person. It is what the run's job does, and what playbook test calls.
// Passes are idempotent: each reads the ledger afresh, and every step
// transition is a compare-and-set.
func (r *Runner) Pass(ctx context.Context, runID, incidentID string) (PassResult, error) {
	rs, err := r.load(ctx, runID, incidentID)
	if err != nil {
		return PassResult{}, err
	}
	var res PassResult
	var done []*Work // steps of finished stages, for compensation
	for _, stage := range rs.plan.Stages() {
		works, err := r.prepare(ctx, rs, stage)
		if err != nil {
			return res, err
		}
		res.Work = append(res.Work, works...)
		if err := r.runStage(ctx, works); err != nil {
			return res, err
		}
		var waiting bool
		var failed []*Work
		for _, w := range works {
			switch w.row.Status {
			case ledger.StepAwaitingApproval:
				waiting = true
				deadline := w.deadline
				if a, ok := rs.approvals[w.row.StepKey]; ok && deadline.IsZero() {
					deadline = a.Expires
				}
				if res.Wait.IsZero() || deadline.Before(res.Wait) {
					res.Wait = deadline
				}
			case ledger.StepFailed, ledger.StepDenied:
				failed = append(failed, w)
			}
		}
		done = append(done, works...)
		if waiting {
			res.Status = RunWaiting
			return res, nil
		}
		policy := onError(failed)
		if r.check && policy != "" {
			// A dry run shows every step: a step that fails there (often
			// because an earlier one only planned and returned nothing)
			// does not hide the ones after it.
			policy = playbook.Continue
		}
		switch policy {
		case playbook.Stop:
			res.Status = RunFailed
		case playbook.Compensate:
			if err := r.compensate(ctx, rs, done); err != nil {
				return res, err
			}
			res.Status = RunCompensated
		case playbook.Continue:
			res.Status = RunCompleted
			continue
		}
		if res.Status == RunFailed || res.Status == RunCompensated {
			r.log.Info("run ended", "run_id", runID, "incident_id", incidentID, "playbook", rs.plan.Name(), "status", res.Status)
			return res, nil
		}
	}
	if res.Status == "" {
		res.Status = RunSucceeded
	}
	r.log.Info("run ended", "run_id", runID, "incident_id", incidentID, "playbook", rs.plan.Name(), "status", res.Status)
	return res, nil
}

// onError is the policy of the failed steps of a stage: the strictest one
// (compensate, then stop, then continue); "" when none failed.
func onError(failed []*Work) playbook.OnError {
	var p playbook.OnError
	for _, w := range failed {
		switch o := w.step.OnError(); {
		case o == playbook.Compensate:
			p = o
		case o == playbook.Stop && p != playbook.Compensate:
			p = o
		case p == "":
			p = o
		}
	}
	return p
}

// prepare creates the stage's step rows, one per for_each item, and
// resolves each item's when and parameters.
func (r *Runner) prepare(ctx context.Context, rs *runState, stage playbook.Stage) ([]*Work, error) {
	var works []*Work
	for _, st := range stage.Steps() {
		meta := st.Action().Meta()
		items, itemsErr := st.Items(ctx, rs.in)
		if itemsErr != nil {
			items = []playbook.Item{{}}
		}
		for i, it := range items {
			w := &Work{
				IncidentID: rs.incidentID, Playbook: rs.plan.Name(), Step: st.ID(), Item: i, Action: meta,
				run: rs, step: st, item: it, resolveErr: itemsErr, enabled: true,
			}
			if it.Key() != "" {
				w.ItemName = it.String()
			}
			w.Log = r.log.With("incident_id", rs.incidentID, "playbook", rs.plan.Name(), "step", st.ID(), "item", i,
				"action", meta.ID, "account", rs.target.Account)
			if itemsErr == nil {
				ok, err := st.Enabled(ctx, rs.in, it)
				if err != nil {
					w.resolveErr = err
				}
				w.enabled = ok || err != nil
			}
			if w.enabled && w.resolveErr == nil {
				w.Params, w.resolveErr = st.Resolve(ctx, rs.in, it)
			}
			works = append(works, w)
		}
	}
	err := r.q.update(ctx, func(tx ledger.Tx, _ jobs) error {
		for _, w := range works {
			key := ledger.StepKey{RunID: rs.runID, StepID: w.Step, Item: w.Item}
			if row, ok := rs.rows[key]; ok {
				w.row = row
				continue
			}
			var params any
			if w.Params != nil {
				params = encodeValues(w.Params)
			}
			row, err := tx.EnsureStep(ctx, key, w.Action.ID, params)
			if err != nil {
				return err
			}
			w.row = row
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, w := range works {
		w.Status = w.row.Status
		w.dryRun = rs.dryRuns[w.row.StepKey]
	}
	return works, nil
}

// maxParallel bounds how many steps of one stage run at once.
const maxParallel = 8

// runStage passes every unfinished step of a stage through the chain,
// concurrently for parallel blocks and for_each items.
func (r *Runner) runStage(ctx context.Context, works []*Work) error {
	var todo []*Work
	for _, w := range works {
		if !finished(w.row.Status) {
			todo = append(todo, w)
		}
	}
	if len(todo) == 1 {
		return r.process(ctx, todo[0])
	}
	sem := make(chan struct{}, maxParallel)
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, w := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = r.process(ctx, w)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Runner) process(ctx context.Context, w *Work) error {
	for _, s := range r.chain {
		ok, err := s.Process(ctx, w)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
	}
	return nil
}

func finished(s ledger.StepStatus) bool {
	switch s {
	case ledger.StepSucceeded, ledger.StepFailed, ledger.StepSkipped, ledger.StepDenied, ledger.StepCompensated:
		return true
	}
	return false
}

// compensate reverts the steps that succeeded and can be reverted, latest
// first. Revert is idempotent (action.Reverter), so it is called before
// the compensated transition commits: a crash in between reverts again.
func (r *Runner) compensate(ctx context.Context, rs *runState, done []*Work) error {
	for _, w := range slices.Backward(done) {
		if w.row.Status != ledger.StepSucceeded || w.dryRun {
			continue
		}
		rev, ok := w.step.Action().(action.Reverter)
		if !ok {
			continue
		}
		outputs, err := decodeValues(w.row.Output, w.Action.Outputs)
		if err != nil {
			return fmt.Errorf("step %s[%d]: %w", w.Step, w.Item, err)
		}
		call := action.Call{Params: w.Params, Key: w.key(), Target: rs.target, Logger: w.Log, Clients: r.clients}
		if err := rev.Revert(ctx, call, outputs); err != nil {
			w.Log.Warn("step revert failed", "error", err)
			return fmt.Errorf("step %s[%d]: revert: %w", w.Step, w.Item, err)
		}
		w.note("compensated: reverted")
		if err := r.transition(ctx, w, ledger.StepCompensated, nil, "", nil); err != nil {
			return err
		}
	}
	return nil
}

// pollWhileWaiting bounds how long a waiting run's job sleeps, so that a
// decision made in the instant before the job was snoozed is seen soon.
const pollWhileWaiting = 30 * time.Second

// advanceWorker executes a run: one pass, then, while steps await
// approval, a snooze until the earliest deadline (or a wake-up).
type advanceWorker struct {
	river.WorkerDefaults[advanceArgs]
	r *Runner
}

func (w *advanceWorker) Work(ctx context.Context, job *river.Job[advanceArgs]) error {
	r := w.r
	for {
		res, err := r.Pass(ctx, job.Args.RunID, job.Args.IncidentID)
		if err != nil {
			r.log.Error("run pass failed", "run_id", job.Args.RunID, "incident_id", job.Args.IncidentID, "attempt", job.Attempt, "error", err)
			if errors.Is(err, errPlaybookGone) {
				return river.JobCancel(err)
			}
			return err
		}
		if res.Status != RunWaiting {
			return r.enqueueReport(ctx, job.Args.RunID, job.Args.IncidentID)
		}
		// A decision may have been made while the pass ran: look again
		// before sleeping.
		decided, err := r.decidedSince(ctx, res)
		if err != nil {
			return err
		}
		if decided {
			continue
		}
		wait := min(max(time.Until(res.Wait), time.Second), pollWhileWaiting)
		return river.JobSnooze(wait)
	}
}

// decidedSince reports whether any step the pass left waiting has a
// decision in the ledger now.
func (r *Runner) decidedSince(ctx context.Context, res PassResult) (bool, error) {
	var waiting []ledger.StepKey
	var incident string
	for _, w := range res.Work {
		if w.row.Status == ledger.StepAwaitingApproval {
			waiting, incident = append(waiting, w.row.StepKey), w.IncidentID
		}
	}
	if len(waiting) == 0 {
		return false, nil
	}
	rep, err := r.store.Report(ctx, incident)
	if err != nil {
		return false, err
	}
	for _, a := range rep.Approvals {
		if a.Decision != "" && slices.Contains(waiting, a.Step) {
			return true, nil
		}
	}
	return false, nil
}

// enqueueReport asks for the run's report once its end is in the ledger.
// If the process dies before this commits, the run's job runs again, its
// pass finds the run ended, and this inserts the report then.
func (r *Runner) enqueueReport(ctx context.Context, runID, incidentID string) error {
	if r.report == nil || r.check {
		return nil
	}
	return r.q.update(ctx, func(_ ledger.Tx, j jobs) error {
		return j.insert(ctx, reportArgs{RunID: runID, IncidentID: incidentID}, nil)
	})
}

// reportWorker calls Options.Report for a run that ended.
type reportWorker struct {
	river.WorkerDefaults[reportArgs]
	r *Runner
}

func (w *reportWorker) Work(ctx context.Context, job *river.Job[reportArgs]) error {
	if err := w.r.report(ctx, job.Args.IncidentID, job.Args.RunID); err != nil {
		w.r.log.Warn("run report failed", "run_id", job.Args.RunID, "incident_id", job.Args.IncidentID, "attempt", job.Attempt, "error", err)
		return err
	}
	return nil
}

// expiryWorker applies an approval's on_timeout at its deadline and wakes
// the run.
type expiryWorker struct {
	river.WorkerDefaults[expiryArgs]
	r *Runner
}

func (w *expiryWorker) Work(ctx context.Context, job *river.Job[expiryArgs]) error {
	a := job.Args
	decision := ledger.Deny
	if a.OnTimeout == string(ledger.Approve) {
		decision = ledger.Approve
	}
	return w.r.q.update(ctx, func(tx ledger.Tx, j jobs) error {
		_, err := tx.DecideApproval(ctx, ledger.ApprovalDecision{
			ApprovalID: a.ApprovalID, Decision: decision, By: "firebreak", Channel: ledger.ChannelExpiry,
			Reason: "nobody decided before the deadline; on_timeout is " + a.OnTimeout,
		})
		switch {
		case errors.Is(err, ledger.ErrConflict): // decided in time
		case err != nil:
			return err
		default:
			w.r.log.Info("approval expired", "incident_id", a.IncidentID, "run_id", a.RunID, "approval_id", a.ApprovalID, "applied", decision)
		}
		return j.wake(ctx, a.RunID)
	})
}

// wakeWorker waits for a run's running pass to end, then makes its job
// run again, so that a decision made during the pass is not left to the
// next poll.
type wakeWorker struct {
	river.WorkerDefaults[wakeArgs]
	r *Runner
}

func (w *wakeWorker) Work(ctx context.Context, job *river.Job[wakeArgs]) error {
	for {
		var running bool
		err := w.r.q.update(ctx, func(_ ledger.Tx, j jobs) error {
			var err error
			running, err = j.retry(ctx, job.Args.RunID)
			return err
		})
		if err != nil || !running {
			return err
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
