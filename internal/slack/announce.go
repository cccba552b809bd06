package slack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/runner"
)

// Announcer posts the runner's announcements (runner.Announcer) to an
// incoming webhook: an approval request with Approve and Deny buttons, a
// decision taken outside Slack (firebreak approve|deny, or the expiry),
// and, when steps are announced, each step that ended. What it posts is
// read from the ledger when it posts.
type Announcer struct {
	Webhook Webhook
	Store   ledger.Store
	// Registry, when not nil, gives the actions' summaries.
	Registry *action.Registry
	Now      func() time.Time // nil is time.Now
}

var _ runner.Announcer = (*Announcer)(nil)

// NewAnnouncer returns the Announcer for cfg (notify.slack).
func NewAnnouncer(cfg config.Slack, store ledger.Store, reg *action.Registry) *Announcer {
	return &Announcer{Webhook: Webhook{URL: cfg.WebhookURL}, Store: store, Registry: reg}
}

// Announce implements runner.Announcer. An approval request decided or
// expired before it could be posted is not posted (its decision is); a decision
// taken in Slack is not posted either: Handler already replaced the
// request's message through its response_url.
func (a *Announcer) Announce(ctx context.Context, n runner.Announcement) error {
	rep, err := a.Store.Report(ctx, n.IncidentID)
	if err != nil {
		return fmt.Errorf("slack announce: %w", err)
	}
	var msg []byte
	switch n.Kind {
	case runner.ApprovalRequested:
		s, err := ForApproval(rep, n.ApprovalID, a.Registry)
		if err != nil {
			return err
		}
		now := time.Now
		if a.Now != nil {
			now = a.Now
		}
		if !s.Approval || !s.Expires.After(now()) {
			return nil // decided or expired: the decision is announced
		}
		for _, c := range n.Planned {
			s.Planned = append(s.Planned, plannedLine(c))
		}
		if msg, err = StepMessage(s); err != nil {
			return err
		}
	case runner.ApprovalDecided:
		i := slices.IndexFunc(rep.Approvals, func(x ledger.Approval) bool { return x.ID == n.ApprovalID })
		if i < 0 {
			return fmt.Errorf("slack announce: incident %s: approval %s: %w", n.IncidentID, n.ApprovalID, ledger.ErrNotFound)
		}
		ap := rep.Approvals[i]
		if ap.Decision == "" || ap.Channel == ledger.ChannelSlack {
			return nil
		}
		if msg, err = DecisionMessage(rep.Incident, ap); err != nil {
			return err
		}
	case runner.StepFinished:
		f, err := a.finished(rep, n)
		if err != nil {
			return err
		}
		if msg, err = FinishedMessage(f); err != nil {
			return err
		}
	default:
		return fmt.Errorf("slack announce: unknown kind %q", n.Kind)
	}
	return a.Webhook.Post(ctx, msg)
}

// finished reads the step n tells of from the ledger.
func (a *Announcer) finished(rep ledger.Report, n runner.Announcement) (Finished, error) {
	for _, r := range rep.Runs {
		for _, st := range r.Steps {
			if st.StepKey != n.Step {
				continue
			}
			f := Finished{Incident: rep.Incident, StepID: st.StepID, Item: st.Item, Action: st.Action, Status: n.Status, Error: st.Error}
			if a.Registry != nil {
				if act, ok := a.Registry.Lookup(st.Action); ok {
					f.Summary = act.Meta().Summary + "."
				}
			}
			var err error
			if f.Params, err = paramList(st.Params); err != nil {
				return Finished{}, fmt.Errorf("slack announce: step %s[%d]: params: %w", st.StepID, st.Item, err)
			}
			if n.Status == ledger.StepSucceeded {
				if f.Outputs, err = paramList(st.Output); err != nil {
					return Finished{}, fmt.Errorf("slack announce: step %s[%d]: output: %w", st.StepID, st.Item, err)
				}
			}
			return f, nil
		}
	}
	return Finished{}, fmt.Errorf("slack announce: incident %s: step %s[%d]: %w", n.IncidentID, n.Step.StepID, n.Step.Item, ledger.ErrNotFound)
}

func plannedLine(c action.PlannedCall) string {
	s := c.Operation
	if c.Resource != "" {
		s += " on " + c.Resource
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// Finished is what the message of a step that ended says.
type Finished struct {
	Incident ledger.Incident
	StepID   string
	Item     int
	Action   string
	Summary  string // what the action does, in a sentence
	Status   ledger.StepStatus
	Error    string // why it failed, was denied or skipped
	Params   []Param
	Outputs  []Param // what a step that succeeded returned
}

// outcome is the header's verb for a step's end.
var outcome = map[ledger.StepStatus]string{
	ledger.StepSucceeded:   "succeeded",
	ledger.StepFailed:      "failed",
	ledger.StepSkipped:     "was skipped",
	ledger.StepDenied:      "was denied",
	ledger.StepCompensated: "was reverted",
}

// FinishedMessage returns the Block Kit JSON of the short message of a
// step that ended: what it did, the result, and its outputs. Values are
// redacted (ledger.RedactText) and escaped for mrkdwn.
func FinishedMessage(f Finished) ([]byte, error) {
	if f.Incident.ID == "" || f.StepID == "" || f.Action == "" {
		return nil, fmt.Errorf("slack message: incident id, step id and action are required")
	}
	verb, ok := outcome[f.Status]
	if !ok {
		return nil, fmt.Errorf("slack message: step %s: status %q is not an end", f.StepID, f.Status)
	}
	head := fmt.Sprintf("Step %s %s", f.StepID, verb)
	what := fmt.Sprintf("*What:* `%s`%s", escape(f.Action), stepSuffix(f.Item))
	if f.Summary != "" {
		what += "\n" + escape(f.Summary)
	}
	if len(f.Params) > 0 {
		what += "\n*With:* " + escape(ledger.RedactText(paramLine(f.Params)))
	}
	result := "*Result:* " + string(f.Status)
	if f.Error != "" {
		result += ": " + escape(ledger.RedactText(f.Error))
	}
	if len(f.Outputs) > 0 {
		result += "\n*Outputs:* " + escape(ledger.RedactText(clip(paramLine(f.Outputs), 1500)))
	}
	blocks := []block{
		{Type: "header", Text: plain(clip(head, 150))},
		section(what),
		section(result),
		{Type: "context", Elements: []any{mrkdwn(fmt.Sprintf("Incident `%s` · %s · playbook `%s`", escape(f.Incident.ID), escape(f.Incident.Title), escape(f.Incident.Playbook)))}},
	}
	fallback := escape(fmt.Sprintf("%s (%s) for incident %s", head, f.Action, f.Incident.ID))
	return marshal(message{Text: fallback, Blocks: blocks})
}

// DecisionMessage returns the Block Kit JSON of the short message saying
// how an approval was decided: by whom, where and when, or that it
// expired and its on_timeout applied.
func DecisionMessage(inc ledger.Incident, a ledger.Approval) ([]byte, error) {
	if inc.ID == "" || a.Decision == "" {
		return nil, fmt.Errorf("slack message: a decided approval of an incident is required")
	}
	t := Target{IncidentID: inc.ID, Step: a.Step.StepID, Item: a.Step.Item}
	verb := "Approved"
	if a.Decision == ledger.Deny {
		verb = "Denied"
	}
	at := a.Decided.UTC().Format(time.RFC3339)
	var text string
	if a.Channel == ledger.ChannelExpiry {
		text = fmt.Sprintf("Expired: nobody decided on step %s by %s; on_timeout applied: %s.", escape(stepName(t)), at, strings.ToLower(verb))
	} else {
		text = fmt.Sprintf("%s by %s (%s) at %s: step %s.", verb, escape(a.DecidedBy), escape(string(a.Channel)), at, escape(stepName(t)))
		if a.Reason != "" {
			text += " Reason: " + escape(ledger.RedactText(a.Reason))
		}
	}
	return marshal(message{Text: text, Blocks: decidedBlocks(t, text)})
}
