package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// maxEvidence is how many pieces of evidence a message lists, newest
// last.
const maxEvidence = 8

// ForApproval builds the message of the approval approvalID from what the
// ledger holds about its incident: the step's action and recorded
// (redacted) parameters, why the approval was asked, and the incident's
// evidence. reg, when not nil, gives the action's summary.
func ForApproval(rep ledger.Report, approvalID string, reg *action.Registry) (Step, error) {
	i := slices.IndexFunc(rep.Approvals, func(a ledger.Approval) bool { return a.ID == approvalID })
	if i < 0 {
		return Step{}, fmt.Errorf("slack message: incident %s: approval %s: %w", rep.Incident.ID, approvalID, ledger.ErrNotFound)
	}
	a := rep.Approvals[i]
	var step *ledger.Step
	for _, r := range rep.Runs {
		for j := range r.Steps {
			if r.Steps[j].StepKey == a.Step {
				step = &r.Steps[j]
			}
		}
	}
	if step == nil {
		return Step{}, fmt.Errorf("slack message: incident %s: step %s[%d] of approval %s: %w", rep.Incident.ID, a.Step.StepID, a.Step.Item, a.ID, ledger.ErrNotFound)
	}
	s := Step{
		Incident: rep.Incident, StepID: a.Step.StepID, Item: a.Step.Item, Action: step.Action,
		Approval: a.Decision == "", Expires: a.Expires,
	}
	if reg != nil {
		if act, ok := reg.Lookup(step.Action); ok {
			s.Summary = act.Meta().Summary + "."
		}
	}
	if a.Why != "" {
		s.Summary = strings.TrimSpace(s.Summary + " Approval asked: " + a.Why + ".")
	}
	params, err := paramList(step.Params)
	if err != nil {
		return Step{}, fmt.Errorf("slack message: incident %s: step %s[%d]: params: %w", rep.Incident.ID, a.Step.StepID, a.Step.Item, err)
	}
	s.Params = params
	s.Evidence = stepOutputs(rep, a.Step)
	ev := rep.Evidence
	if len(ev) > maxEvidence {
		ev = ev[len(ev)-maxEvidence:]
	}
	for _, e := range ev {
		what := e.URI
		if what == "" {
			what = string(e.Inline)
		}
		s.Evidence = append(s.Evidence, fmt.Sprintf("%s (step %s): %s", e.Kind, e.Step.StepID, clip(what, 300)))
	}
	return s, nil
}

// paramList turns a step's recorded parameters, a JSON object, into
// parameters sorted by name; strings print bare, other values as JSON.
func paramList(raw json.RawMessage) ([]Param, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var out []Param
	for k, v := range m {
		var str string
		if json.Unmarshal(v, &str) != nil {
			var compact bytes.Buffer
			if err := json.Compact(&compact, v); err != nil {
				return nil, err
			}
			str = compact.String()
		}
		out = append(out, Param{Name: k, Value: str})
	}
	slices.SortFunc(out, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// stepOutputs returns, one line each, the outputs of the steps of key's
// run that succeeded before it asked: what the playbook learnt so far.
func stepOutputs(rep ledger.Report, key ledger.StepKey) []string {
	var out []string
	for _, r := range rep.Runs {
		if r.ID != key.RunID {
			continue
		}
		for _, st := range r.Steps {
			if st.StepKey == key || st.Status != ledger.StepSucceeded {
				continue
			}
			params, err := paramList(st.Output)
			if err != nil || len(params) == 0 {
				continue
			}
			out = append(out, fmt.Sprintf("output of step %s%s: %s", st.StepID, stepSuffix(st.Item), clip(paramLine(params), 300)))
		}
	}
	return out
}

// paramLine prints parameters as name=value, comma separated.
func paramLine(ps []Param) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + "=" + p.Value
	}
	return strings.Join(parts, ", ")
}
