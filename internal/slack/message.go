package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Step is what a step's message says.
type Step struct {
	Incident ledger.Incident // why: finding type, severity, subjects
	StepID   string
	Item     int    // the for_each item; 0 otherwise
	Action   string // the action's id, such as aws.iam.disable_access_key
	Summary  string // what the action does, in a sentence
	Params   []Param
	// Planned are the AWS calls the step would make, one line each, from
	// its action's dry run; empty when the action cannot tell.
	Planned  []string
	Evidence []string // what is known so far, one line each
	// Approval asks for a decision with Approve and Deny buttons, until
	// Expires.
	Approval bool
	Expires  time.Time
}

// Param is one resolved parameter of a step.
type Param struct {
	Name  string
	Value string
}

// maxText is Slack's limit on a section's text; maxFields its limit on a
// section's fields.
const (
	maxText   = 3000
	maxFields = 10
)

// StepMessage returns the Block Kit JSON of s's message, for an incoming
// webhook or chat.postMessage. Parameter values and evidence are redacted
// (ledger.RedactText) and escaped for mrkdwn. The buttons' values carry
// only the incident id, the step id and the item.
func StepMessage(s Step) ([]byte, error) {
	if s.Incident.ID == "" || s.StepID == "" || s.Action == "" {
		return nil, fmt.Errorf("slack message: incident id, step id and action are required")
	}
	if s.Approval && s.Expires.IsZero() {
		return nil, fmt.Errorf("slack message: step %s: an approval needs an expiry", s.StepID)
	}
	t := Target{IncidentID: s.Incident.ID, Step: s.StepID, Item: s.Item}
	inc := s.Incident
	head := "Firebreak will run " + s.StepID
	if s.Approval {
		head = "Firebreak asks: approve " + s.StepID + "?"
	}
	fallback := escape(fmt.Sprintf("%s (%s) for incident %s: %s", head, s.Action, inc.ID, inc.Title))

	blocks := []block{
		{Type: "header", Text: plain(clip(head, 150))},
		section(fmt.Sprintf("*What:* `%s`%s\n%s", escape(s.Action), stepSuffix(s.Item), escape(s.Summary))),
	}
	if len(s.Params) > 0 {
		var fields []text
		for i, p := range s.Params {
			if i == maxFields {
				break
			}
			fields = append(fields, mrkdwn(clip(fmt.Sprintf("*%s*\n`%s`", escape(p.Name), escape(ledger.RedactText(p.Value))), 2000)))
		}
		blocks = append(blocks, block{Type: "section", Fields: fields})
	}
	if len(s.Planned) > 0 {
		var pl strings.Builder
		pl.WriteString("*AWS calls it would make (dry run):*")
		for _, c := range s.Planned {
			pl.WriteString("\n• " + escape(ledger.RedactText(c)))
		}
		blocks = append(blocks, section(pl.String()))
	}
	why := fmt.Sprintf("*Why:* %s\n*Finding:* `%s`  *Severity:* %s (%s)  *Account:* %s  *Region:* %s",
		escape(inc.Title), escape(inc.FindingType), escape(inc.SeverityLabel), strconv.FormatFloat(inc.Severity, 'f', -1, 64), escape(inc.Account), escape(inc.Region))
	if len(inc.Subjects) > 0 {
		var subj []string
		for _, x := range inc.Subjects {
			subj = append(subj, fmt.Sprintf("%s `%s`", escape(string(x.Kind)), escape(x.Value)))
		}
		why += "\n*Subjects:* " + strings.Join(subj, ", ")
	}
	blocks = append(blocks, section(why))
	if len(s.Evidence) > 0 {
		var ev strings.Builder
		ev.WriteString("*Evidence so far:*")
		for _, e := range s.Evidence {
			ev.WriteString("\n• " + escape(ledger.RedactText(e)))
		}
		blocks = append(blocks, section(ev.String()))
	}
	if s.Approval {
		blocks = append(blocks,
			block{
				Type: "input", BlockID: BlockReason, Optional: true,
				Label:   plain("Reason (recorded with your decision)"),
				Element: &element{Type: "plain_text_input", ActionID: ActionReason, Placeholder: plain("e.g. confirmed leak, ticket SEC-42")},
			},
			block{Type: "actions", BlockID: "firebreak_decide", Elements: []any{
				element{Type: "button", ActionID: ActionApprove, Style: "primary", Text: plain("Approve"), Value: t.Value()},
				element{Type: "button", ActionID: ActionDeny, Style: "danger", Text: plain("Deny"), Value: t.Value()},
			}},
			block{Type: "context", Elements: []any{mrkdwn(fmt.Sprintf(
				"Expires %s; then the playbook's on_timeout applies. From a shell: `firebreak approve %s %s%s --reason \"…\"` (or `deny`)",
				s.Expires.UTC().Format(time.RFC3339), escape(inc.ID), escape(s.StepID), itemFlag(s.Item)))}},
		)
	} else {
		blocks = append(blocks, block{Type: "context", Elements: []any{mrkdwn(fmt.Sprintf("Incident `%s` · playbook `%s`", escape(inc.ID), escape(inc.Playbook)))}})
	}
	return marshal(message{Text: fallback, Blocks: blocks})
}

// marshal is json.Marshal without HTML escaping, so that mrkdwn's <@U…>
// reads as Slack documents it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// decidedBlocks replace a message's buttons once decided.
func decidedBlocks(t Target, decided string) []block {
	return []block{
		section(decided),
		{Type: "context", Elements: []any{mrkdwn(fmt.Sprintf("Incident `%s` · step `%s`", escape(t.IncidentID), escape(stepName(t))))}},
	}
}

type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string   `json:"type"`
	BlockID  string   `json:"block_id,omitempty"`
	Text     *text    `json:"text,omitempty"`
	Fields   []text   `json:"fields,omitempty"`
	Elements []any    `json:"elements,omitempty"`
	Label    *text    `json:"label,omitempty"`
	Element  *element `json:"element,omitempty"`
	Optional bool     `json:"optional,omitempty"`
}

type text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type        string `json:"type"`
	ActionID    string `json:"action_id,omitempty"`
	Text        *text  `json:"text,omitempty"`
	Value       string `json:"value,omitempty"`
	Style       string `json:"style,omitempty"`
	Placeholder *text  `json:"placeholder,omitempty"`
}

func plain(s string) *text { return &text{Type: "plain_text", Text: s} }
func mrkdwn(s string) text { return text{Type: "mrkdwn", Text: s} }

func section(s string) block {
	t := mrkdwn(clip(s, maxText))
	return block{Type: "section", Text: &t}
}

func stepSuffix(item int) string {
	if item == 0 {
		return ""
	}
	return fmt.Sprintf(" (item %d)", item)
}

func itemFlag(item int) string {
	if item == 0 {
		return ""
	}
	return fmt.Sprintf(" --item %d", item)
}

// escape makes s literal in mrkdwn, as Slack asks: &, < and > only.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Webhook posts messages to a Slack incoming webhook.
type Webhook struct {
	URL    secret.String // the incoming webhook URL; it is a credential
	Client *http.Client  // nil is http.DefaultClient
}

// Post sends a message StepMessage built. Errors never carry the URL.
func (w Webhook) Post(ctx context.Context, msg []byte) error {
	if w.URL.IsZero() {
		return errors.New("slack webhook: no URL configured")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL.Reveal(), bytes.NewReader(msg))
	if err != nil {
		return errors.New("slack webhook: the URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("slack webhook: %w", ctx.Err())
		}
		return errors.New("slack webhook: post failed (connection)")
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("slack webhook: answered %s: %s", resp.Status, ledger.RedactText(strings.TrimSpace(string(b))))
	}
	return nil
}
