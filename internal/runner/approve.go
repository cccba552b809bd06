package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Decision is a person's answer to a step's approval request.
type Decision struct {
	IncidentID string
	Step       string
	Item       int // the for_each item; 0 otherwise
	Approve    bool
	By         string         // who decided
	Channel    ledger.Channel // where the decision came from
	Reason     string         // why
}

// Decide records a decision on the approval a step is waiting for and, in
// the same transaction, wakes the run's job so that it goes on at once.
// It needs no running Runner: the CLI calls it on the ledger alone.
func Decide(ctx context.Context, store ledger.Store, d Decision) (ledger.Approval, error) {
	rep, err := store.Report(ctx, d.IncidentID)
	if err != nil {
		return ledger.Approval{}, err
	}
	var pending *ledger.Approval
	var asked []string
	for i, a := range rep.Approvals {
		if a.Decision == "" {
			asked = append(asked, fmt.Sprintf("%s[%d]", a.Step.StepID, a.Step.Item))
		}
		if a.Step.StepID == d.Step && a.Step.Item == d.Item && a.Decision == "" {
			pending = &rep.Approvals[i]
		}
	}
	if pending == nil {
		msg := "none is waiting"
		if len(asked) > 0 {
			msg = fmt.Sprintf("waiting: %v", asked)
		}
		return ledger.Approval{}, fmt.Errorf("incident %s: step %s[%d] has no approval waiting for a decision (%s): %w",
			d.IncidentID, d.Step, d.Item, msg, ledger.ErrNotFound)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &wakeWorker{}) // inserted, never worked, here
	q, err := newQueue(store, queueConfig{workers: workers, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return ledger.Approval{}, err
	}
	decision := ledger.Deny
	if d.Approve {
		decision = ledger.Approve
	}
	var out ledger.Approval
	err = q.update(ctx, func(tx ledger.Tx, j jobs) error {
		a, err := tx.DecideApproval(ctx, ledger.ApprovalDecision{
			ApprovalID: pending.ID, Decision: decision, By: d.By, Channel: d.Channel, Reason: d.Reason,
		})
		if err != nil {
			return err
		}
		out = a
		return j.wake(ctx, pending.Step.RunID)
	})
	if err != nil {
		if errors.Is(err, ledger.ErrConflict) {
			return out, fmt.Errorf("incident %s: step %s[%d]: %w", d.IncidentID, d.Step, d.Item, err)
		}
		return out, err
	}
	return out, nil
}
