package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The action ids of the buttons StepMessage makes, and the block and
// action ids of its reason input.
const (
	ActionApprove = "firebreak_approve"
	ActionDeny    = "firebreak_deny"
	BlockReason   = "firebreak_reason"
	ActionReason  = "reason"
)

// Target names the step a button decides on. It is the button's value,
// as JSON; it holds nothing secret.
type Target struct {
	IncidentID string `json:"incident"`
	Step       string `json:"step"`
	Item       int    `json:"item"`
}

// Value returns the button value for t.
func (t Target) Value() string {
	b, _ := json.Marshal(t) // strings and an int cannot fail
	return string(b)
}

// Interaction is a click on an Approve or Deny button.
type Interaction struct {
	Approve     bool
	Target      Target
	UserID      string // Slack user id, U…
	UserName    string // the user's handle, for the record
	TeamID      string
	Reason      string // what the user typed in the reason box, if anything
	ResponseURL string // where the message is updated
}

// ErrPayload is wrapped by every error ParseInteraction returns.
var ErrPayload = errors.New("slack payload")

// maxValue bounds the button value; Slack allows 2,000 characters.
const maxValue = 2000

type wirePayload struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		BlockID  string `json:"block_id"`
		Type     string `json:"type"`
		Value    string `json:"value"`
	} `json:"actions"`
	State struct {
		Values map[string]map[string]struct {
			Value *string `json:"value"`
		} `json:"values"`
	} `json:"state"`
}

// ParseInteraction parses the body of an interactivity request: a form
// whose payload field is Slack's block_actions JSON. It returns the first
// Approve or Deny click in it. Errors name the field at fault and wrap
// ErrPayload.
func ParseInteraction(body []byte) (Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Interaction{}, fmt.Errorf("%w: body: not a URL-encoded form: %v", ErrPayload, err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return Interaction{}, fmt.Errorf("%w: payload: missing form field", ErrPayload)
	}
	var p wirePayload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return Interaction{}, fmt.Errorf("%w: payload: not JSON: %v", ErrPayload, err)
	}
	if p.Type != "block_actions" {
		return Interaction{}, fmt.Errorf("%w: payload.type: %q, want block_actions", ErrPayload, p.Type)
	}
	if p.User.ID == "" {
		return Interaction{}, fmt.Errorf("%w: payload.user.id: required", ErrPayload)
	}
	in := Interaction{UserID: p.User.ID, UserName: p.User.Username, TeamID: p.Team.ID, ResponseURL: p.ResponseURL}
	if in.UserName == "" {
		in.UserName = p.User.Name
	}
	i := -1
	for j, a := range p.Actions {
		if a.ActionID == ActionApprove || a.ActionID == ActionDeny {
			i = j
			break
		}
	}
	if i < 0 {
		return Interaction{}, fmt.Errorf("%w: payload.actions: no %s or %s action among %d", ErrPayload, ActionApprove, ActionDeny, len(p.Actions))
	}
	a := p.Actions[i]
	field := fmt.Sprintf("payload.actions[%d].value", i)
	in.Approve = a.ActionID == ActionApprove
	if len(a.Value) > maxValue {
		return Interaction{}, fmt.Errorf("%w: %s: %d characters, more than %d", ErrPayload, field, len(a.Value), maxValue)
	}
	dec := json.NewDecoder(strings.NewReader(a.Value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in.Target); err != nil {
		return Interaction{}, fmt.Errorf("%w: %s: not a Firebreak step: %v", ErrPayload, field, err)
	}
	if dec.More() {
		return Interaction{}, fmt.Errorf("%w: %s: data after the step", ErrPayload, field)
	}
	switch {
	case in.Target.IncidentID == "":
		return Interaction{}, fmt.Errorf("%w: %s.incident: required", ErrPayload, field)
	case in.Target.Step == "":
		return Interaction{}, fmt.Errorf("%w: %s.step: required", ErrPayload, field)
	case hasControl(in.Target.IncidentID) || hasControl(in.Target.Step):
		return Interaction{}, fmt.Errorf("%w: %s: control characters in the incident or step", ErrPayload, field)
	case in.Target.Item < 0:
		return Interaction{}, fmt.Errorf("%w: %s.item: %d is negative", ErrPayload, field, in.Target.Item)
	}
	if v := p.State.Values[BlockReason][ActionReason].Value; v != nil {
		in.Reason = strings.TrimSpace(*v)
	}
	return in, nil
}

// hasControl reports whether s holds bytes that have no place in an id.
func hasControl(s string) bool {
	return bytes.ContainsFunc([]byte(s), func(r rune) bool { return r < 0x20 || r == 0x7f })
}
