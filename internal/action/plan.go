package action

import "context"

// Plan is what an action found and would change: the reads it made and
// the writes it would make, each with the code that makes it. An action
// builds one from what it read; Check reports Calls, Do runs Apply. Plan
// and act therefore cannot drift apart: the calls Check shows are the
// ones Do makes, in that order.
type Plan struct {
	reads  []PlannedCall
	writes []plannedWrite
}

type plannedWrite struct {
	call PlannedCall
	run  func(ctx context.Context) error
}

// Read notes a read the action made while planning.
func (p *Plan) Read(op, resource, detail string) {
	p.reads = append(p.reads, PlannedCall{Operation: op, Resource: resource, Detail: detail})
}

// Write adds a write the action would make, and the code that makes it.
func (p *Plan) Write(op, resource, detail string, run func(ctx context.Context) error) {
	p.writes = append(p.writes, plannedWrite{PlannedCall{Operation: op, Resource: resource, Detail: detail}, run})
}

// Calls lists every call of the plan, reads first.
func (p *Plan) Calls() []PlannedCall {
	out := append([]PlannedCall(nil), p.reads...)
	for _, w := range p.writes {
		out = append(out, w.call)
	}
	return out
}

// Apply runs the writes in order, unless the call is a dry run. It stops
// at the first failure: the writes must be safe to repeat, so that a
// retried step plans again and finishes the rest.
func (p *Plan) Apply(ctx context.Context, call Call) error {
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

// HasWrites reports whether the plan would change anything.
func (p *Plan) HasWrites() bool { return len(p.writes) > 0 }
