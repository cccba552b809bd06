package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// The actions whose outputs become the CloudTrail summary and the verdict.
const (
	SummarizeAction = "aws.cloudtrail.summarize_principal"
	VerdictAction   = "aws.investigate.attack_success"
)

// maxSummary bounds an action's one-line summary.
const maxSummary = 300

// FromLedger builds the bundle for an incident from everything the ledger
// holds about it: the incident, the steps of its runs (oldest run first),
// the CloudTrail summary and verdict from the first successful
// summarize_principal and attack_success steps, and the incidents seen
// before. Outputs that cannot be read are left out of the summary and
// verdict, and said so in that action's Error.
func FromLedger(r ledger.Report) Bundle {
	inc := r.Incident
	b := Bundle{
		IncidentID: inc.ID,
		Title:      inc.Title,
		Playbook:   inc.Playbook,
		Event: Event{
			Source: inc.Source, Type: inc.FindingType, Severity: inc.SeverityLabel, Score: inc.Severity,
			Account: inc.Account, Region: inc.Region, Time: inc.FirstSeen,
		},
	}
	b.Event.Subjects = subjects(inc.Subjects)
	for _, run := range r.Runs {
		for _, s := range run.Steps {
			a := Action{Step: s.StepID, Action: s.Action, Status: string(s.Status), Error: s.Error, Summary: summarize(s.Output)}
			if s.Item > 0 {
				a.Step = fmt.Sprintf("%s[%d]", s.StepID, s.Item)
			}
			if s.Status == ledger.StepSucceeded {
				var err error
				switch {
				case s.Action == SummarizeAction && b.CloudTrail == nil:
					b.CloudTrail, err = decodeSummary(s.Output)
				case s.Action == VerdictAction && b.Verdict == nil:
					b.Verdict, err = decodeVerdict(s.Output)
				}
				if err != nil {
					a.Error = "output not understood: " + err.Error()
				}
			}
			b.Actions = append(b.Actions, a)
		}
	}
	for _, p := range r.SeenBefore {
		b.SeenBefore = append(b.SeenBefore, Prior{
			IncidentID: p.Incident.ID, Title: p.Incident.Title, Status: string(p.Incident.Status),
			FirstSeen: p.Incident.FirstSeen, LastSeen: p.Incident.LastSeen, Shared: subjects(p.Shared),
		})
	}
	return b
}

func subjects(in []ledger.Subject) []Subject {
	var out []Subject
	for _, s := range in {
		out = append(out, Subject{Kind: string(s.Kind), Value: s.Value})
	}
	return out
}

// summarize writes a step's JSON output on one line: key: value, keys
// sorted, lists cut to three items.
func summarize(out json.RawMessage) string {
	if len(bytes.TrimSpace(out)) == 0 || string(out) == "null" {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		return truncate(string(out), maxSummary)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := m[k]
		switch x := v.(type) {
		case nil:
			continue
		case []any:
			if len(x) == 0 {
				continue
			}
			items := make([]string, 0, 3)
			for i, it := range x {
				if i == 3 {
					items = append(items, fmt.Sprintf("+%d more", len(x)-3))
					break
				}
				items = append(items, fmt.Sprint(it))
			}
			parts = append(parts, k+": "+strings.Join(items, ", "))
		case string:
			if x == "" {
				continue
			}
			parts = append(parts, k+": "+x)
		default:
			parts = append(parts, fmt.Sprintf("%s: %v", k, x))
		}
	}
	return truncate(strings.Join(parts, "; "), maxSummary)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }

func decodeSummary(out json.RawMessage) (*CloudTrail, error) {
	var o struct {
		Total      int      `json:"total"`
		Successes  int      `json:"successes"`
		Errors     int      `json:"errors"`
		TopCalls   []string `json:"top_calls"`
		SourceIPs  []string `json:"source_ips"`
		UserAgents []string `json:"user_agents"`
		Regions    []string `json:"regions"`
		FirstSeen  string   `json:"first_seen"`
		LastSeen   string   `json:"last_seen"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", SummarizeAction, err)
	}
	ct := &CloudTrail{
		Total: o.Total, Successes: o.Successes, Errors: o.Errors,
		TopCalls: ParseCounts(o.TopCalls), SourceIPs: ParseCounts(o.SourceIPs),
		UserAgents: ParseCounts(o.UserAgents), Regions: ParseCounts(o.Regions),
	}
	var err error
	if ct.First, err = parseTime("first_seen", o.FirstSeen); err != nil {
		return nil, err
	}
	if ct.Last, err = parseTime("last_seen", o.LastSeen); err != nil {
		return nil, err
	}
	return ct, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s: %w", SummarizeAction, field, err)
	}
	return t, nil
}

func decodeVerdict(out json.RawMessage) (*Verdict, error) {
	var o struct {
		Succeeded        bool     `json:"succeeded"`
		Reasons          []string `json:"reasons"`
		Persistence      []string `json:"persistence"`
		ResourcesCreated []string `json:"resources_created"`
		ForeignIPs       []string `json:"foreign_ips"`
		AccountChanges   []string `json:"account_changes"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", VerdictAction, err)
	}
	return &Verdict{Succeeded: o.Succeeded, Reasons: o.Reasons, Persistence: o.Persistence,
		ResourcesCreated: o.ResourcesCreated, ForeignIPs: o.ForeignIPs, AccountChanges: o.AccountChanges}, nil
}

// ParseCounts reads counts written as "value (n)", the form the
// summarize_principal action outputs. An entry without a count keeps its
// whole text as the value, with N 0.
func ParseCounts(ss []string) []Count {
	out := make([]Count, 0, len(ss))
	for _, s := range ss {
		c := Count{Value: s}
		if strings.HasSuffix(s, ")") {
			if i := strings.LastIndex(s, " ("); i >= 0 {
				if n, err := strconv.Atoi(s[i+2 : len(s)-1]); err == nil && n >= 0 {
					c = Count{Value: s[:i], N: n}
				}
			}
		}
		out = append(out, c)
	}
	return out
}
