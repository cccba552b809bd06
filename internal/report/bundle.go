package report

import (
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/action/investigate"
	"github.com/firebreak-sec/firebreak/internal/event"
)

// Bundle is the evidence a report is written from. Every field is a plain
// value; nil or empty parts are left out of the report.
type Bundle struct {
	IncidentID string      `json:"incident_id"`
	Title      string      `json:"title,omitempty"` // what happened, in a few words; the event's type when empty
	Playbook   string      `json:"playbook,omitempty"`
	Event      Event       `json:"event"`
	Actions    []Action    `json:"actions,omitempty"`     // what Firebreak did, in order
	CloudTrail *CloudTrail `json:"cloudtrail,omitempty"`  // nil when no CloudTrail summary was made
	Verdict    *Verdict    `json:"verdict,omitempty"`     // nil when no attack verdict was made
	SeenBefore []Prior     `json:"seen_before,omitempty"` // earlier incidents sharing subjects with this one
	Links      []Link      `json:"links,omitempty"`
	// Narrative is the AI-written summary and next steps, advisory; empty
	// when no AI is configured or it failed. Set by the notifier.
	Narrative string `json:"narrative,omitempty"`
}

// Event is the security event that started the incident.
type Event struct {
	Source   string    `json:"source"`   // aws.guardduty, aws.health, ...
	Type     string    `json:"type"`     // the finding type, Health event code, check name
	Severity string    `json:"severity"` // informational, low, medium, high or critical
	Score    float64   `json:"score"`
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	Time     time.Time `json:"time"`
	Subjects []Subject `json:"subjects,omitempty"`
}

// Subject is one thing the incident involves.
type Subject struct {
	Kind  string `json:"kind"` // access_key, user, role, instance, bucket, ip
	Value string `json:"value"`
}

// Action is one step Firebreak ran and what came of it.
type Action struct {
	Step    string `json:"step"`              // the playbook's step id
	Action  string `json:"action"`            // the action id, aws.iam.disable_access_key
	Status  string `json:"status"`            // succeeded, failed, skipped, denied, awaiting_approval, ...
	Summary string `json:"summary,omitempty"` // the output, in one line
	Error   string `json:"error,omitempty"`
}

// CloudTrail summarises the calls a principal made.
type CloudTrail struct {
	Total      int       `json:"total"`
	Successes  int       `json:"successes"`
	Errors     int       `json:"errors"`
	TopCalls   []Count   `json:"top_calls,omitempty"` // eventSource:eventName, most frequent first
	SourceIPs  []Count   `json:"source_ips,omitempty"`
	UserAgents []Count   `json:"user_agents,omitempty"`
	Regions    []Count   `json:"regions,omitempty"`
	First      time.Time `json:"first"` // zero when there were no calls
	Last       time.Time `json:"last"`
}

// Count is a value and how often it was seen.
type Count struct {
	Value string `json:"value"`
	N     int    `json:"n"`
}

// Verdict is whether the attacker got anywhere, and why Firebreak thinks
// so.
type Verdict struct {
	Succeeded        bool     `json:"succeeded"`
	Reasons          []string `json:"reasons,omitempty"`
	Persistence      []string `json:"persistence,omitempty"`
	ResourcesCreated []string `json:"resources_created,omitempty"`
	ForeignIPs       []string `json:"foreign_ips,omitempty"`
	AccountChanges   []string `json:"account_changes,omitempty"`
}

// Prior is an earlier incident for some of the same subjects.
type Prior struct {
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title,omitempty"`
	Status     string    `json:"status"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Shared     []Subject `json:"shared,omitempty"`
}

// Link is a named URL: the incident in the console, a runbook.
type Link struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// New returns a bundle for incident id started by e.
func New(id string, e event.Event) Bundle {
	return Bundle{IncidentID: id, Title: e.FindingType, Event: FromEvent(e)}
}

// FromEvent copies what a report needs from a decoded event.
func FromEvent(e event.Event) Event {
	out := Event{
		Source:   e.Source,
		Type:     e.FindingType,
		Severity: e.Severity.Label,
		Score:    e.Severity.Score,
		Account:  e.Account,
		Region:   e.Region,
		Time:     e.Time,
	}
	add := func(kind, value string) {
		if value != "" {
			out.Subjects = append(out.Subjects, Subject{Kind: kind, Value: value})
		}
	}
	s := e.Subjects
	for _, k := range s.AccessKeys {
		add("access_key", k.ID)
	}
	for _, u := range s.Users {
		add("user", u.Name)
	}
	for _, r := range s.Roles {
		add("role", r.Name)
	}
	for _, i := range s.Instances {
		add("instance", i.ID)
	}
	for _, b := range s.Buckets {
		add("bucket", b.Name)
	}
	for _, ip := range s.RemoteIPs {
		if ip.IP.IsValid() {
			add("ip", ip.IP.String())
		}
	}
	return out
}

// FromSummary copies a CloudTrail summary, keeping the top n of each list
// (all when n <= 0).
func FromSummary(s cloudtrail.Summary, n int) *CloudTrail {
	counts := func(cs []cloudtrail.Count) []Count {
		if n > 0 && len(cs) > n {
			cs = cs[:n]
		}
		out := make([]Count, 0, len(cs))
		for _, c := range cs {
			out = append(out, Count{Value: c.Value, N: c.N})
		}
		return out
	}
	return &CloudTrail{
		Total: s.Total, Successes: s.Successes, Errors: s.Errors,
		TopCalls: counts(s.Calls), SourceIPs: counts(s.SourceIPs), UserAgents: counts(s.UserAgents), Regions: counts(s.Regions),
		First: s.First, Last: s.Last,
	}
}

// FromVerdict copies an attack verdict.
func FromVerdict(v investigate.Verdict) *Verdict {
	c := func(s []string) []string { return append([]string(nil), s...) }
	return &Verdict{
		Succeeded: v.Succeeded, Reasons: c(v.Reasons), Persistence: c(v.Persistence),
		ResourcesCreated: c(v.ResourcesCreated), ForeignIPs: c(v.ForeignIPs), AccountChanges: c(v.AccountChanges),
	}
}

// Subjects returns the values of the subjects of kind, in order.
func (b Bundle) Subjects(kind string) []string {
	var out []string
	for _, s := range b.Event.Subjects {
		if s.Kind == kind {
			out = append(out, s.Value)
		}
	}
	return out
}

// Headline is the report's title: Title, else the event's type, else
// "Security incident".
func (b Bundle) Headline() string {
	switch {
	case b.Title != "":
		return b.Title
	case b.Event.Type != "":
		return b.Event.Type
	}
	return "Security incident"
}

// Succeeded counts the actions that succeeded.
func (b Bundle) Succeeded() int { return b.countStatus("succeeded") }

// Failed counts the actions that failed.
func (b Bundle) Failed() int { return b.countStatus("failed") }

// Waiting counts the actions waiting for a person's approval.
func (b Bundle) Waiting() int { return b.countStatus("awaiting_approval") }

func (b Bundle) countStatus(status string) int {
	n := 0
	for _, a := range b.Actions {
		if a.Status == status {
			n++
		}
	}
	return n
}

// loginSucceeded says whether a successful-logins step found one.
func (b Bundle) loginSucceeded() bool {
	for _, a := range b.Actions {
		if a.Action == "aws.logs.successful_logins" && a.Status == "succeeded" && strings.Contains(a.Summary, "login_succeeded: true") {
			return true
		}
	}
	return false
}

// NextSteps are what a person should do now, in plain language, from the
// state of the incident: decide on waiting steps, clean up after a
// successful attacker, finish failed steps, find the leak, ask the owner.
func (b Bundle) NextSteps() []string {
	var out []string
	if b.Waiting() > 0 {
		for _, a := range b.Actions {
			if a.Status == "awaiting_approval" {
				out = append(out, "Decide on step "+a.Step+" ("+a.Action+"): firebreak approve "+b.IncidentID+" "+a.Step+", or firebreak deny.")
			}
		}
	}
	if v := b.Verdict; v != nil {
		if v.Succeeded {
			s := "Treat the account as compromised: review and remove what the attacker created"
			if len(v.ResourcesCreated) > 0 {
				s += " (" + strings.Join(v.ResourcesCreated, ", ") + ")"
			}
			out = append(out, s+".")
		}
		if len(v.Persistence) > 0 {
			out = append(out, "Undo the persistence calls: "+strings.Join(v.Persistence, ", ")+".")
		}
	}
	if b.Failed() > 0 {
		out = append(out, "Some steps failed: finish them by hand (see the actions taken).")
	}
	longTerm, temporary := false, false
	for _, k := range b.Subjects("access_key") {
		if strings.HasPrefix(k, "ASIA") {
			temporary = true
		} else {
			longTerm = true
		}
	}
	if longTerm {
		out = append(out, "Find where the key leaked (repository, CI log, laptop) and remove it; issue the owner a new key only after that.")
	}
	instance := len(b.Subjects("instance")) > 0
	if temporary && instance {
		out = append(out, "Review what the stolen role credentials did in CloudTrail (the role's sessions, from the attacker's addresses).")
	}
	if instance {
		if b.loginSucceeded() {
			out = append(out, "Someone logged in to the instance: rebuild it from a known-good image rather than clean it, and rotate every secret it held.")
		}
		out = append(out, "Keep the instance isolated until its snapshots are examined; do not terminate it.")
	}
	out = append(out, "Confirm with the owner whether the activity was theirs.")
	if b.IncidentID != "" {
		out = append(out, "See everything recorded: firebreak incident show "+b.IncidentID+".")
	}
	return out
}
