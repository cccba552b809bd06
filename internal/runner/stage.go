package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// Stage is one concern every step passes on its way to acting: prepare
// (when, parameters) → guardrail → approval → act → record → notify. Each
// stage is one value with one method; a new concern is a new stage.
// Process returns false to stop the chain for this step for now: the step
// was skipped, denied, failed before acting, or waits for a person.
// Errors are the ledger's or River's: the run's job is retried.
type Stage interface {
	Process(ctx context.Context, w *Work) (bool, error)
}

// Work is one step (one for_each item of it) passing the stages.
type Work struct {
	IncidentID string
	Playbook   string
	Step       string
	Item       int
	ItemName   string // the for_each item in words; "" for a step without for_each
	Action     action.Meta
	Status     ledger.StepStatus // as last committed
	Params     action.Values
	Guardrail  *guardrail.Decision // this pass's verdict, when the guardrail ran
	Output     action.Values
	Planned    []action.PlannedCall // the AWS calls a dry run would make
	Err        error                // why the step failed or was denied
	Notes      []string             // what the stages decided, in order
	Log        *slog.Logger

	run          *runState
	step         *playbook.Step
	item         playbook.Item
	row          ledger.Step
	enabled      bool
	resolveErr   error
	dryRun       bool
	pendingGuard *ledger.GuardrailDecision // recorded with the next transition
	needApproval string                    // the guardrail's reason a person must approve
	deadline     time.Time                 // of the approval this pass requested
}

func (w *Work) note(format string, args ...any) {
	w.Notes = append(w.Notes, fmt.Sprintf(format, args...))
}

func (w *Work) key() action.Key {
	return action.Key{Incident: w.IncidentID, Step: w.Step, Item: w.item.Key()}
}

// transition commits the step's move to `to`, with the guardrail decision
// this pass made, and with extra in the same transaction. The step's
// state in w changes only once the transaction has committed.
func (r *Runner) transition(ctx context.Context, w *Work, to ledger.StepStatus, output any, errText string, extra func(ledger.Tx, jobs) error) error {
	from := w.row.Status
	notices := r.noticesFor(w, from, to)
	var row ledger.Step
	err := r.q.update(ctx, func(tx ledger.Tx, j jobs) error {
		if w.pendingGuard != nil {
			if _, err := tx.RecordGuardrail(ctx, *w.pendingGuard); err != nil {
				return err
			}
		}
		var err error
		row, err = tx.TransitionStep(ctx, ledger.Transition{StepKey: w.row.StepKey, From: from, To: to, Attempt: w.row.Attempt, Output: output, Error: errText})
		if err != nil {
			return err
		}
		for _, n := range notices {
			if err := r.announce(ctx, j, n); err != nil {
				return err
			}
		}
		if extra != nil {
			return extra(tx, j)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("step %s[%d]: %w", w.Step, w.Item, err)
	}
	w.pendingGuard = nil
	w.row, w.Status = row, row.Status
	attrs := []any{"from", from, "to", to, "attempt", row.Attempt}
	if errText != "" {
		attrs = append(attrs, "error", errText)
	}
	w.Log.Info("step "+string(to), attrs...)
	return nil
}

// fail moves a step that cannot act to failed, through running when the
// state machine asks for it.
func (r *Runner) fail(ctx context.Context, w *Work, err error) error {
	w.Err = err
	if w.row.Status == ledger.StepPending || w.row.Status == ledger.StepAwaitingApproval {
		if e := r.transition(ctx, w, ledger.StepRunning, nil, "", nil); e != nil {
			return e
		}
	}
	return r.transition(ctx, w, ledger.StepFailed, nil, err.Error(), nil)
}

// prepareStage skips a step whose when is false and fails one whose
// parameters do not resolve.
type prepareStage struct{ r *Runner }

func (s prepareStage) Process(ctx context.Context, w *Work) (bool, error) {
	if w.row.Status == ledger.StepPending && !w.enabled {
		w.note("skipped: when is false")
		return false, s.r.transition(ctx, w, ledger.StepSkipped, nil, "", nil)
	}
	if w.resolveErr != nil {
		w.note("parameters do not resolve: %v", w.resolveErr)
		return false, s.r.fail(ctx, w, w.resolveErr)
	}
	return true, nil
}

// guardStage asks the guardrail about a step that has not started. Its
// verdict is recorded with the step's next transition.
type guardStage struct{ r *Runner }

func (s guardStage) Process(ctx context.Context, w *Work) (bool, error) {
	if w.row.Status != ledger.StepPending {
		return true, nil
	}
	d := s.r.guard.Check(ctx, guardrail.Step{
		IncidentID: w.IncidentID, Playbook: w.Playbook, Action: w.Action, Params: w.Params,
		Target: w.run.target, DryRun: w.run.plan.DryRun(),
	})
	w.Guardrail = &d
	if s.r.observer != nil && !s.r.check {
		s.r.observer.Guardrail(d)
	}
	w.note("guardrail %s (%s): %s", d.Verdict, d.Rule, d.Reason)
	w.Log.Info("step guardrail", "verdict", d.Verdict, "rule", d.Rule, "reason", d.Reason)
	rec := ledger.GuardrailDecision{IncidentID: w.IncidentID, Step: w.row.StepKey, Rule: d.Rule, Reason: d.Reason}
	switch d.Verdict {
	case guardrail.Deny:
		rec.Verdict = ledger.VerdictDeny
		w.pendingGuard = &rec
		w.Err = d.Err()
		return false, s.r.transition(ctx, w, ledger.StepDenied, nil, d.Reason, nil)
	case guardrail.NeedsApproval:
		rec.Verdict = ledger.VerdictNeedsApproval
		w.needApproval = d.Reason
	default: // Allow and DryRun: the rule says which
		rec.Verdict = ledger.VerdictAllow
		w.dryRun = d.Verdict == guardrail.DryRun
	}
	w.pendingGuard = &rec
	return true, nil
}

// approvalStage asks a person when the playbook or the guardrail says so,
// and applies the decision once one is made. Waiting is a row in the
// ledger and a job scheduled at the deadline, never a blocked goroutine.
type approvalStage struct{ r *Runner }

func (s approvalStage) Process(ctx context.Context, w *Work) (bool, error) {
	switch w.row.Status {
	case ledger.StepPending:
		return s.ask(ctx, w)
	case ledger.StepAwaitingApproval:
		a, ok := w.run.approvals[w.row.StepKey]
		if !ok || a.Decision == "" {
			return false, nil
		}
		if s.r.observer != nil && !s.r.check {
			s.r.observer.ApprovalApplied(a)
		}
		if a.Decision == ledger.Deny {
			err := fmt.Errorf("denied by %s (%s): %s", a.DecidedBy, a.Channel, a.Reason)
			w.Err = err
			w.note("approval: %v", err)
			return false, s.r.transition(ctx, w, ledger.StepDenied, nil, err.Error(), nil)
		}
		w.note("approval: approved by %s (%s): %s", a.DecidedBy, a.Channel, a.Reason)
	}
	return true, nil
}

func (s approvalStage) ask(ctx context.Context, w *Work) (bool, error) {
	why := w.needApproval
	need, err := w.step.NeedsApproval(ctx, w.run.in, w.item)
	switch {
	case err != nil: // fail closed: a person decides
		why = fmt.Sprintf("the approval condition failed (%v); a person must decide", err)
	case need && why == "":
		why = "the playbook requires approval"
	}
	if why == "" {
		return true, nil
	}
	if s.r.check {
		w.note("approval: would wait for a person: %s", why)
		return true, nil
	}
	policy := w.step.Approval()
	timeout, onTimeout := policy.Timeout, policy.OnTimeout
	if timeout <= 0 {
		timeout = s.r.approvalTimeout
	}
	if onTimeout == "" {
		onTimeout = string(ledger.Deny)
	}
	planned := s.r.planned(ctx, w) // before the deadline is set: a dry run takes time
	expires := s.r.now().Add(timeout)
	w.deadline = expires
	w.note("approval: requested, expires %s (then %s): %s", expires.UTC().Format(time.RFC3339), onTimeout, why)
	err = s.r.transition(ctx, w, ledger.StepAwaitingApproval, nil, "", func(tx ledger.Tx, j jobs) error {
		a, err := tx.RequestApproval(ctx, ledger.ApprovalRequest{
			IncidentID: w.IncidentID, Step: w.row.StepKey, RequestedBy: "firebreak playbook " + w.Playbook,
			What: fmt.Sprintf("%s %s", w.Action.ID, w.Params), Why: why, Expires: expires,
		})
		if err != nil {
			return err
		}
		if err := s.r.announce(ctx, j, noticeArgs{
			What: ApprovalRequested, IncidentID: w.IncidentID, RunID: w.row.RunID, StepID: w.row.StepID, Item: w.row.Item,
			ApprovalID: a.ID, Planned: planned,
		}); err != nil {
			return err
		}
		return j.insert(ctx, expiryArgs{ApprovalID: a.ID, RunID: w.row.RunID, IncidentID: w.IncidentID, OnTimeout: onTimeout},
			&river.InsertOpts{ScheduledAt: expires})
	})
	if err == nil && s.r.probe != nil {
		s.r.probe(w.Step, Asked)
	}
	return false, err
}

// actStage calls the action: the running transition commits first, then
// the action runs with its idempotency key, retried while action.Classify
// says the failure is transient.
type actStage struct{ r *Runner }

func (s actStage) Process(ctx context.Context, w *Work) (bool, error) {
	return s.r.execute(ctx, w, false)
}

// checkStage replaces actStage in a dry run: it asks actions for the AWS
// calls they would make (action.Checker) and changes nothing.
type checkStage struct{ r *Runner }

func (s checkStage) Process(ctx context.Context, w *Work) (bool, error) {
	return s.r.execute(ctx, w, true)
}

// errInterrupted is why a step that cannot be repeated safely failed.
var errInterrupted = errors.New("interrupted; not idempotent, not retried")

func (r *Runner) execute(ctx context.Context, w *Work, plan bool) (bool, error) {
	idempotent := w.Action.Idempotency == action.Idempotent
	switch w.row.Status {
	case ledger.StepPending, ledger.StepAwaitingApproval:
		if err := r.transition(ctx, w, ledger.StepRunning, nil, "", nil); err != nil {
			return false, err
		}
	case ledger.StepRunning:
		// Found running when the pass began: the process that started it
		// is gone, and whether the action took effect is unknown.
		if !idempotent {
			w.Err = errInterrupted
			w.note("re-drive: %v", errInterrupted)
			return true, r.transition(ctx, w, ledger.StepFailed, nil, errInterrupted.Error(), nil)
		}
		w.note("re-drive: idempotent, called again with the same key")
		if err := r.transition(ctx, w, ledger.StepRunning, nil, "", nil); err != nil {
			return false, err
		}
	default:
		return true, nil
	}
	if r.probe != nil {
		r.probe(w.Step, Before)
	}
	retry := w.step.Retry()
	for attempt := 1; ; attempt++ {
		w.Output, w.Planned, w.Err = r.call(ctx, w, plan || w.dryRun)
		if w.Err == nil {
			break
		}
		class := action.Classify(w.Err)
		if class != action.Retry || attempt >= retry.Attempts || (!idempotent && errors.Is(w.Err, context.DeadlineExceeded)) {
			break
		}
		wait := retry.Backoff << (attempt - 1)
		w.Log.Warn("step retrying", "attempt", attempt, "backoff", wait, "error", w.Err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if err := r.transition(ctx, w, ledger.StepRunning, nil, "", nil); err != nil {
			return false, err
		}
	}
	if r.probe != nil {
		r.probe(w.Step, After)
	}
	return true, nil
}

// call runs the action once, bounded by the step's timeout; dry runs ask
// a Checker for the calls it would make, or call Do with DryRun set.
func (r *Runner) call(ctx context.Context, w *Work, dry bool) (action.Values, []action.PlannedCall, error) {
	if t := w.step.Timeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	act := w.step.Action()
	call := action.Call{Params: w.Params, Key: w.key(), Target: w.run.target, DryRun: dry, Logger: w.Log, Clients: r.clients}
	if dry {
		if c, ok := act.(action.Checker); ok {
			planned, err := c.Check(ctx, call)
			return nil, planned, err
		}
	}
	out, err := act.Do(ctx, call)
	return out, nil, err
}

// recordStage commits the outcome of a step that ran.
type recordStage struct{ r *Runner }

func (s recordStage) Process(ctx context.Context, w *Work) (bool, error) {
	if w.row.Status != ledger.StepRunning {
		return true, nil
	}
	if w.Err != nil {
		return true, s.r.transition(ctx, w, ledger.StepFailed, nil, w.Err.Error(), nil)
	}
	out := encodeValues(w.Output)
	if w.Planned != nil || w.dryRun || s.r.check {
		out["dry_run"] = true
		out["planned"] = plannedJSON(w.Planned)
	}
	if err := s.r.transition(ctx, w, ledger.StepSucceeded, out, "", nil); err != nil {
		return false, err
	}
	if w.item.Key() == "" {
		w.run.in.SetOutput(w.Step, w.Output)
	}
	return true, nil
}

func plannedJSON(calls []action.PlannedCall) []map[string]string {
	out := make([]map[string]string, len(calls))
	for i, c := range calls {
		out[i] = map[string]string{"operation": c.Operation, "resource": c.Resource, "detail": c.Detail}
	}
	return out
}

// logNotify is the notify stage until the notify package exists: it logs.
type logNotify struct{}

func (logNotify) Process(ctx context.Context, w *Work) (bool, error) {
	w.Log.Debug("step notify", "status", w.Status)
	return true, nil
}
