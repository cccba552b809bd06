package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Announcer tells people, while a run goes on, what the runner asks of
// them and what its steps did: serve posts to Slack (internal/slack).
//
// Each announcement is a River job inserted in the transaction that
// committed what it tells, unique by what it is about (the approval, or
// the step and the status it ended in). A pass repeated after a crash
// commits nothing new, so it announces nothing twice; a process that dies
// after the commit announces at its next start. A failed Announce is
// logged and retried with River's backoff (up to noticeAttempts tries,
// about 80 minutes); it never holds up the run, nor a decision taken
// with firebreak approve. Delivery is at least once: a process killed
// between a post and the job's completion posts again.
type Announcer interface {
	Announce(ctx context.Context, a Announcement) error
}

// AnnouncementKind says what an Announcement tells.
type AnnouncementKind string

// The kinds.
const (
	// ApprovalRequested: a step waits for a person (the playbook's
	// approval or the guardrail's NeedsApproval). ApprovalID names the
	// request; Planned holds the AWS calls the step would make.
	ApprovalRequested AnnouncementKind = "approval_requested"
	// ApprovalDecided: the runner applied a decision (from Slack, the CLI
	// or the expiry) to the step that waited for it.
	ApprovalDecided AnnouncementKind = "approval_decided"
	// StepFinished: a step ended (Status: succeeded, failed, skipped,
	// denied or compensated). Announced with Options.AnnounceSteps,
	// unless the step says otherwise (its announce field).
	StepFinished AnnouncementKind = "step_finished"
)

// Announcement is one thing to tell. The rest (the incident, the step's
// parameters and outputs, the approval's why, expiry and decision) is in
// the ledger, read when the announcement is made.
type Announcement struct {
	Kind       AnnouncementKind
	IncidentID string
	Step       ledger.StepKey
	ApprovalID string            // for the approval kinds
	Status     ledger.StepStatus // for StepFinished
	// Planned are the AWS calls the step would make, from its action's
	// dry run (action.Checker), for ApprovalRequested; nil when the action
	// cannot tell or its dry run failed.
	Planned []action.PlannedCall
}

// noticeAttempts bounds the tries of one announcement: with River's
// backoff (attempt⁴ seconds) the last is about 80 minutes after the first.
const noticeAttempts = 8

// noticeTimeout bounds one try.
const noticeTimeout = 30 * time.Second

// noticeArgs is the job of one announcement. Only the fields marked
// unique make it unique: the planned calls are what a dry run said then.
type noticeArgs struct {
	What       AnnouncementKind  `json:"what" river:"unique"`
	IncidentID string            `json:"incident_id" river:"unique"`
	RunID      string            `json:"run_id" river:"unique"`
	StepID     string            `json:"step_id" river:"unique"`
	Item       int               `json:"item" river:"unique"`
	ApprovalID string            `json:"approval_id,omitempty" river:"unique"`
	Status     ledger.StepStatus `json:"status,omitempty" river:"unique"`
	Planned    []plannedCall     `json:"planned,omitempty"`
}

type plannedCall struct {
	Operation string `json:"operation"`
	Resource  string `json:"resource,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func (noticeArgs) Kind() string { return kindNotice }

func (a noticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: noticeAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (a noticeArgs) announcement() Announcement {
	n := Announcement{
		Kind: a.What, IncidentID: a.IncidentID, ApprovalID: a.ApprovalID, Status: a.Status,
		Step: ledger.StepKey{RunID: a.RunID, StepID: a.StepID, Item: a.Item},
	}
	for _, c := range a.Planned {
		n.Planned = append(n.Planned, action.PlannedCall{Operation: c.Operation, Resource: c.Resource, Detail: c.Detail})
	}
	return n
}

// announce inserts an announcement job in the transaction j belongs to,
// when the runner has an Announcer and is not planning (Check).
func (r *Runner) announce(ctx context.Context, j jobs, a noticeArgs) error {
	if r.announcer == nil || r.check {
		return nil
	}
	return j.insert(ctx, a, nil)
}

// noticesFor returns the announcements the transition of w from `from`
// to `to` makes: the decision applied when the step leaves waiting, and
// the step's end when steps are announced.
func (r *Runner) noticesFor(w *Work, from, to ledger.StepStatus) []noticeArgs {
	if r.announcer == nil || r.check {
		return nil
	}
	base := noticeArgs{IncidentID: w.IncidentID, RunID: w.row.RunID, StepID: w.row.StepID, Item: w.row.Item}
	var out []noticeArgs
	if from == ledger.StepAwaitingApproval && to != ledger.StepAwaitingApproval {
		if a, ok := w.run.approvals[w.row.StepKey]; ok && a.Decision != "" {
			n := base
			n.What, n.ApprovalID = ApprovalDecided, a.ID
			out = append(out, n)
		}
	}
	steps := r.announceSteps
	if on, set := w.step.Announce(); set {
		steps = on
	}
	if steps && finished(to) && from != to {
		n := base
		n.What, n.Status = StepFinished, to
		out = append(out, n)
	}
	return out
}

// planned asks the step's action which AWS calls it would make, for the
// approval request's announcement. An action without a dry run, or one
// whose dry run fails, plans nothing; the failure is logged, never fatal.
func (r *Runner) planned(ctx context.Context, w *Work) []plannedCall {
	if r.announcer == nil || r.check {
		return nil
	}
	c, ok := w.step.Action().(action.Checker)
	if !ok {
		return nil
	}
	timeout := w.step.Timeout()
	if timeout <= 0 || timeout > noticeTimeout {
		timeout = noticeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	calls, err := c.Check(ctx, action.Call{Params: w.Params, Key: w.key(), Target: w.run.target, DryRun: true, Logger: w.Log, Clients: r.clients})
	if err != nil {
		w.Log.Warn("step dry run for the approval request failed; announced without planned calls", "error", err)
		return nil
	}
	out := make([]plannedCall, 0, len(calls))
	for _, c := range calls {
		out = append(out, plannedCall{Operation: c.Operation, Resource: ledger.RedactText(c.Resource), Detail: ledger.RedactText(c.Detail)})
	}
	return out
}

// noticeWorker makes one announcement through the Announcer.
type noticeWorker struct {
	river.WorkerDefaults[noticeArgs]
	r *Runner
}

func (w *noticeWorker) Work(ctx context.Context, job *river.Job[noticeArgs]) error {
	if w.r.announcer == nil {
		return nil // inserted by a runner with an announcer; this one has none
	}
	ctx, cancel := context.WithTimeout(ctx, noticeTimeout)
	defer cancel()
	a := job.Args
	if err := w.r.announcer.Announce(ctx, a.announcement()); err != nil {
		w.r.log.Warn("announcement failed; retried later", "kind", a.What, "incident_id", a.IncidentID, "run_id", a.RunID,
			"step", a.StepID, "item", a.Item, "approval_id", a.ApprovalID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err)
		return fmt.Errorf("announce %s: %w", a.What, err)
	}
	return nil
}
