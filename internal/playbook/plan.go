package playbook

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Plan is a compiled playbook: immutable, typed, and safe to share
// between goroutines.
type Plan struct {
	name        string
	description string
	file        string
	nameLine    int
	nameCol     int
	triggers    [][]byte
	when        *expr // nil: every matching event
	dedup       *expr
	dryRun      bool
	stages      []Stage
}

// Name is the playbook's unique name.
func (p *Plan) Name() string { return p.name }

// Description is the playbook's description, possibly empty.
func (p *Plan) Description() string { return p.description }

// File is where the playbook was loaded from ("builtin/x.yaml" for the
// embedded ones).
func (p *Plan) File() string { return p.file }

// DryRun reports whether every run of this playbook is a dry run.
func (p *Plan) DryRun() bool { return p.dryRun }

// Triggers returns copies of the trigger patterns, as EventBridge pattern
// JSON. An event that matches any of them triggers the playbook.
func (p *Plan) Triggers() [][]byte {
	out := make([][]byte, len(p.triggers))
	for i, t := range p.triggers {
		out[i] = append([]byte{}, t...)
	}
	return out
}

// Stages returns the steps in the order they run: each stage's steps run
// concurrently, stages one after another.
func (p *Plan) Stages() []Stage { return append([]Stage{}, p.stages...) }

// Steps returns every step, in file order.
func (p *Plan) Steps() []*Step {
	var out []*Step
	for _, st := range p.stages {
		out = append(out, st.steps...)
	}
	return out
}

// Matches evaluates the playbook's when for an event whose trigger
// pattern matched. Without a when, every such event matches.
func (p *Plan) Matches(ctx context.Context, in *Input) (bool, error) {
	if p.when == nil {
		return true, nil
	}
	return evalBool(ctx, p.when, activation{in: in})
}

// DedupKey evaluates the playbook's dedup expression: events with the
// same key belong to one incident.
func (p *Plan) DedupKey(ctx context.Context, in *Input) (string, error) {
	v, err := p.dedup.eval(ctx, activation{in: in})
	if err != nil {
		return "", fmt.Errorf("playbook %s: dedup: %w", p.name, err)
	}
	s, err := display(v)
	if err != nil {
		return "", fmt.Errorf("playbook %s: dedup: %w", p.name, err)
	}
	return s, nil
}

// Stage is one step, or the steps of a parallel block.
type Stage struct {
	steps    []*Step
	parallel bool
}

// Steps returns the stage's steps.
func (s Stage) Steps() []*Step { return append([]*Step{}, s.steps...) }

// Parallel reports whether the stage is a parallel block.
func (s Stage) Parallel() bool { return s.parallel }

// OnError says what a run does when a step fails for good.
type OnError string

// The on_error policies.
const (
	Stop       OnError = "stop"       // end the run as failed
	Continue   OnError = "continue"   // record the failure and go on
	Compensate OnError = "compensate" // revert the earlier steps that can be, latest first, then stop
)

// Retry says how often a step is tried when its action fails with a
// retryable error (action.Classify).
type Retry struct {
	Attempts int           // tries in all, at least 1
	Backoff  time.Duration // wait before the second try, doubled for each further one
}

// Approval says whether a person must approve a step before it runs.
type Approval struct {
	mode      approvalMode
	when      *expr
	Timeout   time.Duration // how long to wait for a decision
	OnTimeout string        // "approve" or "deny" when nobody decides in time
}

type approvalMode int

const (
	approvalNone approvalMode = iota
	approvalAlways
	approvalWhen
)

// Step is one compiled step.
type Step struct {
	id         string
	line       int
	act        action.Action
	meta       action.Meta
	params     []*param // in the action's declared order
	when       *expr
	forEach    *expr
	hasForEach bool // set even when for_each failed to compile
	itemType   *cel.Type
	approval   Approval
	retry      Retry
	timeout    time.Duration
	onError    OnError
	announce   *bool // nil: as notify.slack.steps says
}

// ID is the step's id, unique in its playbook.
func (s *Step) ID() string { return s.id }

// Action is the action the step runs.
func (s *Step) Action() action.Action { return s.act }

// Retry is the step's retry policy.
func (s *Step) Retry() Retry { return s.retry }

// Timeout bounds one try of the step.
func (s *Step) Timeout() time.Duration { return s.timeout }

// OnError is the step's failure policy.
func (s *Step) OnError() OnError { return s.onError }

// Approval is the step's approval policy.
func (s *Step) Approval() Approval { return s.approval }

// Announce says whether the step's end is announced (posted to Slack)
// whatever notify.slack.steps says; set is false when the playbook leaves
// it to the configuration.
func (s *Step) Announce() (on, set bool) {
	if s.announce == nil {
		return false, false
	}
	return *s.announce, true
}

// param is one compiled parameter: a literal value, one written value
// (templated), or a list of written values.
type param struct {
	name    string
	typ     action.Type
	literal action.Value // set for literals and defaults
	src     *source      // a scalar written value
	elems   []*source    // a list written element by element
}

// Item is one value of a step's for_each, or the single run of a step
// without one.
type Item struct {
	index int
	val   ref.Val
}

// Key identifies the item in idempotency keys: its index, "" without
// for_each.
func (it Item) Key() string {
	if it.val == nil {
		return ""
	}
	return strconv.Itoa(it.index)
}

// String describes the item for logs and the ledger: a scalar as text, a
// subject as its fields ("id=AKIA… user_name=bob"), "" without for_each.
func (it Item) String() string {
	if it.val == nil {
		return ""
	}
	if s, err := display(it.val); err == nil {
		return s
	}
	rv := reflect.ValueOf(it.val.Value())
	if rv.Kind() != reflect.Struct {
		return fmt.Sprint(it.val.Value())
	}
	var parts []string
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Tag.Get("cel")
		if f := rv.Field(i); name != "" && !f.IsZero() {
			parts = append(parts, fmt.Sprintf("%s=%v", name, f.Interface()))
		}
	}
	return strings.Join(parts, " ")
}

// maxItems bounds a for_each.
const maxItems = 1000

// Items evaluates the step's for_each. A step without one has one item,
// the zero Item.
func (s *Step) Items(ctx context.Context, in *Input) ([]Item, error) {
	if s.forEach == nil {
		return []Item{{}}, nil
	}
	v, err := s.forEach.eval(ctx, activation{in: in})
	if err != nil {
		return nil, fmt.Errorf("step %s: for_each: %w", s.id, err)
	}
	l, ok := v.(traits.Lister)
	if !ok {
		return nil, fmt.Errorf("step %s: for_each: %s gave %s, want a list", s.id, s.forEach.src, v.Type().TypeName())
	}
	var items []Item
	for it := l.Iterator(); it.HasNext() == types.True; {
		if len(items) == maxItems {
			return nil, fmt.Errorf("step %s: for_each: more than %d items", s.id, maxItems)
		}
		items = append(items, Item{index: len(items), val: it.Next()})
	}
	return items, nil
}

// Enabled evaluates the step's when for one item; true without a when.
func (s *Step) Enabled(ctx context.Context, in *Input, it Item) (bool, error) {
	if s.when == nil {
		return true, nil
	}
	ok, err := evalBool(ctx, s.when, activation{in: in, item: it.val})
	if err != nil {
		return false, fmt.Errorf("step %s: when: %w", s.id, err)
	}
	return ok, nil
}

// NeedsApproval reports whether a person must approve this item's run.
func (s *Step) NeedsApproval(ctx context.Context, in *Input, it Item) (bool, error) {
	switch s.approval.mode {
	case approvalAlways:
		return true, nil
	case approvalWhen:
		ok, err := evalBool(ctx, s.approval.when, activation{in: in, item: it.val})
		if err != nil {
			return false, fmt.Errorf("step %s: approval: %w", s.id, err)
		}
		return ok, nil
	}
	return false, nil
}

// Resolve evaluates the step's parameters for one item into typed values,
// defaults applied, checked against the action's declared types.
func (s *Step) Resolve(ctx context.Context, in *Input, it Item) (action.Values, error) {
	act := activation{in: in, item: it.val}
	out := make(action.Values, len(s.params))
	for _, p := range s.params {
		v, err := p.resolve(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("step %s: with.%s: %w", s.id, p.name, err)
		}
		out[p.name] = v
	}
	if err := s.meta.CheckParams(out); err != nil {
		return nil, fmt.Errorf("step %s: %w", s.id, err)
	}
	return out, nil
}

func (p *param) resolve(ctx context.Context, act activation) (action.Value, error) {
	switch {
	case p.src != nil && p.src.whole != nil:
		v, err := p.src.whole.eval(ctx, act)
		if err != nil {
			return action.Value{}, err
		}
		return toValue(p.typ, v)
	case p.src != nil:
		text, err := p.src.text(ctx, act)
		if err != nil {
			return action.Value{}, err
		}
		if p.typ.Kind() == action.KindDuration {
			return p.typ.Parse(text)
		}
		v := action.StringValue(text)
		return v, p.typ.Check(v)
	case p.elems != nil:
		items := make([]string, 0, len(p.elems))
		for _, e := range p.elems {
			text, err := e.text(ctx, act)
			if err != nil {
				return action.Value{}, err
			}
			items = append(items, text)
		}
		v := action.ListValue(items)
		return v, p.typ.Check(v)
	}
	return p.literal, nil
}

func evalBool(ctx context.Context, e *expr, act activation) (bool, error) {
	v, err := e.eval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%s: gave %s, want a bool", e.src, v.Type().TypeName())
	}
	return bool(b), nil
}

// String prints the plan in a stable, readable form: what the compiler
// understood, for `firebreak playbook validate -v` and golden tests.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "playbook %s (%s)\n", p.name, p.file)
	if p.description != "" {
		fmt.Fprintf(&b, "  description: %s\n", oneLine(p.description))
	}
	for i, t := range p.triggers {
		fmt.Fprintf(&b, "  trigger[%d]: %s\n", i, t)
	}
	if p.when != nil {
		fmt.Fprintf(&b, "  when: %s\n", p.when.src)
	}
	fmt.Fprintf(&b, "  dedup: %s\n", p.dedup.src)
	fmt.Fprintf(&b, "  dry_run: %t\n", p.dryRun)
	for _, st := range p.stages {
		indent := "  "
		if st.parallel {
			b.WriteString("  parallel:\n")
			indent = "    "
		}
		for _, s := range st.steps {
			s.print(&b, indent)
		}
	}
	return b.String()
}

func (s *Step) print(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%sstep %s: %s (line %d)\n", indent, s.id, s.meta.ID, s.line)
	in := indent + "  "
	if s.forEach != nil {
		fmt.Fprintf(b, "%sfor_each: %s (item: %s)\n", in, s.forEach.src, typeName(s.itemType))
	}
	if s.when != nil {
		fmt.Fprintf(b, "%swhen: %s\n", in, s.when.src)
	}
	for _, p := range s.params {
		fmt.Fprintf(b, "%swith %s (%s) = %s\n", in, p.name, p.typ, p.describe())
	}
	switch s.approval.mode {
	case approvalAlways:
		fmt.Fprintf(b, "%sapproval: required, timeout %s, on_timeout %s\n", in, s.approval.Timeout, s.approval.OnTimeout)
	case approvalWhen:
		fmt.Fprintf(b, "%sapproval: when %s, timeout %s, on_timeout %s\n", in, s.approval.when.src, s.approval.Timeout, s.approval.OnTimeout)
	}
	fmt.Fprintf(b, "%sretry: %d attempts, backoff %s\n", in, s.retry.Attempts, s.retry.Backoff)
	fmt.Fprintf(b, "%stimeout: %s, on_error: %s\n", in, s.timeout, s.onError)
	if s.announce != nil {
		fmt.Fprintf(b, "%sannounce: %t\n", in, *s.announce)
	}
}

func (p *param) describe() string {
	switch {
	case p.src != nil:
		return p.src.describe()
	case p.elems != nil:
		parts := make([]string, len(p.elems))
		for i, e := range p.elems {
			parts[i] = e.describe()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return p.literal.String()
}

func (s *source) describe() string {
	switch {
	case s.whole != nil:
		return "${{ " + s.whole.src + " }} : " + typeName(s.whole.typ)
	case len(s.parts) == 0:
		return strconv.Quote(s.literal)
	}
	parts := make([]string, len(s.parts))
	for i, p := range s.parts {
		if p.expr == nil {
			parts[i] = strconv.Quote(p.text)
		} else {
			parts[i] = "${{ " + p.expr.src + " }}"
		}
	}
	return strings.Join(parts, " + ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
