package vpc

import (
	"context"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// plan is what an action found and would change: the reads it made and
// the writes it would make, each with the code that makes it. Check
// reports the calls; Do runs the writes in order.
type plan struct {
	reads  []action.PlannedCall
	writes []write
}

type write struct {
	call action.PlannedCall
	run  func(ctx context.Context) error
}

func (p *plan) read(op, resource, detail string) {
	p.reads = append(p.reads, action.PlannedCall{Operation: op, Resource: resource, Detail: detail})
}

func (p *plan) write(op, resource, detail string, run func(ctx context.Context) error) {
	p.writes = append(p.writes, write{action.PlannedCall{Operation: op, Resource: resource, Detail: detail}, run})
}

// calls lists every call of the plan, reads first.
func (p *plan) calls() []action.PlannedCall {
	out := append([]action.PlannedCall(nil), p.reads...)
	for _, w := range p.writes {
		out = append(out, w.call)
	}
	return out
}

// apply runs the writes, unless the call is a dry run. It stops at the
// first failure; every write is safe to repeat, so a retry of the step
// plans again and finishes the rest.
func (p *plan) apply(ctx context.Context, call action.Call) error {
	if call.DryRun {
		return nil
	}
	for _, w := range p.writes {
		if err := w.run(ctx); err != nil {
			return err
		}
	}
	return nil
}
