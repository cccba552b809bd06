package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// followInterval is how often Follow reads the ledger.
const followInterval = 20 * time.Millisecond

// Printer writes progress lines, each stamped with the time since the
// event was published. It is safe for concurrent use; a nil Printer
// prints nothing.
type Printer struct {
	mu sync.Mutex
	w  io.Writer
	t0 time.Time
}

// NewPrinter returns a Printer writing to w (nil for none).
func NewPrinter(w io.Writer) *Printer { return &Printer{w: w} }

// Zero sets the time progress is measured from.
func (p *Printer) Zero(t time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t0 = t
}

// Line prints one line; before Zero, without a time.
func (p *Printer) Line(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	stamp := "        "
	if !p.t0.IsZero() {
		stamp = fmt.Sprintf("%+7.3fs", time.Since(p.t0).Seconds())
	}
	fmt.Fprintf(p.w, "%s  %s\n", stamp, fmt.Sprintf(format, args...))
}

// Outcome is how a followed run ended.
type Outcome string

// The outcomes.
const (
	Finished Outcome = "finished" // every step ran, was skipped, or the run stopped on an error
	Waiting  Outcome = "waiting"  // a step waits for a person
)

// Follow waits until the event's incident exists and its run has finished
// or waits for a person, printing each step's transitions as they happen,
// and returns the incident's report.
func (e *Env) Follow(ctx context.Context, eventID string, p *Printer) (ledger.Report, Outcome, error) {
	return e.follower(eventID).next(ctx, p)
}

// follower follows one event's incident across several waits (a run
// that waits for a person, is decided, and goes on), printing each
// transition once.
type follower struct {
	e       *Env
	eventID string
	incID   string
	seen    map[ledger.StepKey]ledger.StepStatus
	printed map[string]bool // guardrail decisions and approvals, by id
}

func (e *Env) follower(eventID string) *follower {
	return &follower{e: e, eventID: eventID, seen: map[ledger.StepKey]ledger.StepStatus{}, printed: map[string]bool{}}
}

// next waits until the run has finished or waits for a person. A step
// still awaiting an approval in skip (an approval id already decided,
// whose decision the runner has not applied yet) does not count as
// waiting.
func (f *follower) next(ctx context.Context, p *Printer, skip ...string) (ledger.Report, Outcome, error) {
	e := f.e
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for {
		if f.incID == "" {
			id, err := e.incidentFor(ctx, f.eventID)
			if err != nil {
				return ledger.Report{}, "", fmt.Errorf("demo: %w", err)
			}
			f.incID = id
		}
		if f.incID != "" {
			rep, err := e.Store.Report(ctx, f.incID)
			if err != nil {
				return rep, "", fmt.Errorf("demo: incident %s: %w", f.incID, err)
			}
			if len(rep.Runs) > 0 && f.seen[ledger.StepKey{}] == "" {
				inc := rep.Incident
				p.Line("incident %s opened: %s, severity %.0f, playbook %s", inc.ID, inc.FindingType, inc.Severity, inc.Playbook)
				f.seen[ledger.StepKey{}] = "opened"
			}
			for _, d := range rep.Guardrails {
				if !f.printed[d.ID] {
					f.printed[d.ID] = true
					p.Line("%-16s guardrail %s (%s): %s", stepName(d.Step), d.Verdict, d.Rule, d.Reason)
				}
			}
			for _, a := range rep.Approvals {
				if !f.printed[a.ID] {
					f.printed[a.ID] = true
					p.Line("%-16s approval requested until %s: %s", stepName(a.Step), a.Expires.UTC().Format(time.TimeOnly), a.Why)
				}
			}
			for _, run := range rep.Runs {
				for _, st := range run.Steps {
					if f.seen[st.StepKey] == st.Status {
						continue
					}
					f.seen[st.StepKey] = st.Status
					p.Line("%s", describeStep(st))
				}
			}
			if out, ok := runEnded(rep, e.Plans); ok && !(out == Waiting && deciding(rep, skip)) {
				return rep, out, nil
			}
		}
		select {
		case <-ctx.Done():
			return ledger.Report{}, "", fmt.Errorf("demo: waiting for the response to event %s: %w", f.eventID, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// deciding reports whether a step of rep awaits an approval whose id is
// in decided: the decision is made, the runner has yet to apply it.
func deciding(rep ledger.Report, decided []string) bool {
	for _, a := range rep.Approvals {
		if !slices.Contains(decided, a.ID) {
			continue
		}
		for _, run := range rep.Runs {
			for _, st := range run.Steps {
				if st.StepKey == a.Step && st.Status == ledger.StepAwaitingApproval {
					return true
				}
			}
		}
	}
	return false
}

// terminal reports whether a step's status is final.
func terminal(s ledger.StepStatus) bool {
	switch s {
	case ledger.StepSucceeded, ledger.StepFailed, ledger.StepSkipped, ledger.StepDenied, ledger.StepCompensated:
		return true
	}
	return false
}

// runEnded reports whether every run of the report has ended, walking
// each plan's stages the way the runner does: a stage whose steps are all
// final goes on to the next unless one of them failed with on_error stop
// (or compensate); a step awaiting approval parks the run.
func runEnded(rep ledger.Report, plans map[string]*playbook.Plan) (Outcome, bool) {
	if len(rep.Runs) == 0 {
		return "", false
	}
	out := Finished
	for _, run := range rep.Runs {
		plan, ok := plans[run.Playbook]
		if !ok {
			return "", false
		}
		byStep := map[string][]ledger.Step{}
		for _, st := range run.Steps {
			byStep[st.StepID] = append(byStep[st.StepID], st)
		}
		stages := plan.Stages()
		// later reports whether a step after stage i has rows: a for_each
		// over an empty list makes none, so its stage is over when a later
		// one started.
		later := func(i int) bool {
			for _, stage := range stages[i+1:] {
				for _, step := range stage.Steps() {
					if len(byStep[step.ID()]) > 0 {
						return true
					}
				}
			}
			return false
		}
	walk:
		for i, stage := range stages {
			stop := false
			for _, step := range stage.Steps() {
				rows := byStep[step.ID()]
				if len(rows) == 0 && !later(i) {
					return "", false // not prepared yet
				}
				for _, r := range rows {
					switch {
					case r.Status == ledger.StepAwaitingApproval:
						out = Waiting
						break walk
					case !terminal(r.Status):
						return "", false
					case (r.Status == ledger.StepFailed || r.Status == ledger.StepDenied) && step.OnError() != playbook.Continue:
						stop = true
					}
				}
			}
			if stop {
				break
			}
		}
	}
	return out, true
}

// stepName is a step's id, with its for_each item after the first.
func stepName(k ledger.StepKey) string {
	if k.Item > 0 {
		return k.StepID + "[" + strconv.Itoa(k.Item) + "]"
	}
	return k.StepID
}

// describeStep is one progress line for a step's transition.
func describeStep(st ledger.Step) string {
	name := stepName(st.StepKey)
	line := fmt.Sprintf("%-16s %-34s %s", name, st.Action, strings.ReplaceAll(string(st.Status), "_", " "))
	if st.Status == ledger.StepSucceeded && !st.Started.IsZero() && !st.Finished.IsZero() {
		line += fmt.Sprintf(" in %dms", st.Finished.Sub(st.Started).Milliseconds())
	}
	if st.Error != "" {
		line += ": " + st.Error
	}
	if st.Status == ledger.StepSucceeded {
		if s := outputSummary(st.Action, st.Output); s != "" {
			line += ": " + s
		}
	}
	return line
}

// outputSummary says in a few words what a step found or did.
func outputSummary(actionID string, raw json.RawMessage) string {
	var out map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &out) != nil {
		return ""
	}
	str := func(k string) string { s, _ := out[k].(string); return s }
	list := func(k string) []string {
		var s []string
		if l, ok := out[k].([]any); ok {
			for _, v := range l {
				if x, ok := v.(string); ok {
					s = append(s, x)
				}
			}
		}
		return s
	}
	switch actionID {
	case "aws.iam.disable_access_key":
		return fmt.Sprintf("key of %s, was %s", str("user"), str("previous_status"))
	case "aws.iam.delete_access_key":
		return fmt.Sprintf("key of %s deleted", str("user"))
	case "aws.iam.revoke_sessions":
		return "sessions issued before " + str("cutoff") + " refused"
	case "aws.cloudtrail.summarize_principal":
		top := list("top_calls")
		if len(top) > 3 {
			top = append(top[:3], "…")
		}
		return fmt.Sprintf("%v calls (%v failed) from %s; top %s", out["total"], out["errors"], strings.Join(list("source_ips"), ", "), strings.Join(top, ", "))
	case "aws.ec2.snapshot_volumes":
		return "snapshots " + strings.Join(list("snapshot_ids"), ", ")
	case "aws.ec2.isolate_instance":
		return fmt.Sprintf("quarantine group %s; NACL denies %d", str("quarantine_group_id"), len(list("nacl_entries")))
	case "aws.iam.rotate_instance_credentials":
		return fmt.Sprintf("sessions of role %s issued before %s refused", str("role"), str("cutoff"))
	case "aws.logs.successful_logins":
		if b, _ := out["login_succeeded"].(bool); b {
			return "LOGIN SUCCEEDED: " + strings.Join(list("logins"), "; ")
		}
		return "no successful login from the attacker in " + strings.Join(list("groups_searched"), ", ")
	case "aws.ec2.detach_from_autoscaling":
		if b, _ := out["detached"].(bool); b {
			return fmt.Sprintf("out of group %s (replacement %s)", str("group"), str("replacement"))
		}
		return "in no Auto Scaling group"
	case "aws.ssm.verify_credentials_rotated":
		if b, _ := out["verified"].(bool); b {
			return "the instance holds credentials issued " + str("issued") + ", after the cutoff"
		}
		return "NOT VERIFIED: " + str("reason")
	case "aws.inspector.findings", "aws.securityhub.findings":
		return str("summary")
	case "aws.securityhub.update_finding":
		return fmt.Sprintf("finding %s, note set", str("status"))
	case "aws.vpc.block_ip":
		return fmt.Sprintf("%s denied until %s", str("cidr"), str("expires_at"))
	case "aws.investigate.attack_success":
		verdict := "attacker did not succeed"
		if b, _ := out["succeeded"].(bool); b {
			verdict = "ATTACKER SUCCEEDED"
		}
		if p := list("persistence"); len(p) > 0 {
			var short []string
			for _, x := range p {
				short = append(short, shortCall(x))
			}
			verdict += "; persistence: " + strings.Join(short, ", ")
		}
		return verdict
	}
	return ""
}

// shortCall turns "CreateUser arn:aws:iam::111111111111:user/svc-x …"
// into "CreateUser svc-x": the call and the last part of what it named.
func shortCall(s string) string {
	f := strings.Fields(s)
	switch len(f) {
	case 0:
		return ""
	case 1:
		return f[0]
	}
	res := f[1]
	if i := strings.LastIndexAny(res, "/:"); i >= 0 && i < len(res)-1 {
		res = res[i+1:]
	}
	return f[0] + " " + res
}
