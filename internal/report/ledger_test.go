package report_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/action/investigate"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/report"
)

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFromLedger builds a bundle from a ledger report whose outputs are
// written the way the runner writes them: action.Values as JSON.
func TestFromLedger(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	events := []cloudtrail.Event{
		{Time: at.Add(-2 * time.Hour), Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", SourceIP: "198.51.100.23", UserAgent: "aws-cli/2"},
		{Time: at.Add(-time.Hour), Source: "sts.amazonaws.com", Name: "GetCallerIdentity", Region: "us-east-1", SourceIP: "198.51.100.23", UserAgent: "aws-cli/2"},
		{Time: at.Add(-30 * time.Minute), Source: "sts.amazonaws.com", Name: "GetCallerIdentity", Region: "eu-west-1", SourceIP: "198.51.100.23", UserAgent: "aws-cli/2", ErrorCode: "AccessDenied"},
	}
	sum := cloudtrail.Summarize(events)
	summaryOut := action.Values{
		"total": action.IntValue(int64(sum.Total)), "successes": action.IntValue(int64(sum.Successes)), "errors": action.IntValue(int64(sum.Errors)),
		"top_calls": action.ListValue(cloudtrail.Strings(sum.Calls, 10)), "source_ips": action.ListValue(cloudtrail.Strings(sum.SourceIPs, 10)),
		"user_agents": action.ListValue(cloudtrail.Strings(sum.UserAgents, 10)), "regions": action.ListValue(cloudtrail.Strings(sum.Regions, 10)),
		"first_seen": action.StringValue(sum.First.Format(time.RFC3339)), "last_seen": action.StringValue(sum.Last.Format(time.RFC3339)),
	}
	verdict := investigate.Verdict{Succeeded: true, Reasons: []string{"persistence: iam:CreateUser"}, Persistence: []string{"iam:CreateUser"}, ResourcesCreated: []string{"arn:aws:iam::111111111111:user/x"}}
	rep := ledger.Report{
		Incident: ledger.Incident{
			ID: "inc_1", Title: "Exposed key", Playbook: "exposed-access-key", Source: "aws.health", FindingType: "AWS_RISK_CREDENTIALS_EXPOSED",
			Severity: 9, SeverityLabel: "critical", Account: "111111111111", Region: "us-east-1", FirstSeen: at,
			Subjects: []ledger.Subject{{Kind: ledger.SubjectAccessKey, Value: "AKIAEXAMPLE000000001"}, {Kind: ledger.SubjectUser, Value: "dana"}},
		},
		Runs: []ledger.Run{{ID: "run_1", Steps: []ledger.Step{
			{StepKey: ledger.StepKey{StepID: "disable"}, Action: "aws.iam.disable_access_key", Status: ledger.StepSucceeded, Output: json.RawMessage(`{"access_key_id":"AKIAEXAMPLE000000001","changed":true}`)},
			{StepKey: ledger.StepKey{StepID: "summarize"}, Action: report.SummarizeAction, Status: ledger.StepSucceeded, Output: mustJSON(t, summaryOut)},
			{StepKey: ledger.StepKey{StepID: "verdict"}, Action: report.VerdictAction, Status: ledger.StepSucceeded, Output: mustJSON(t, verdict.Values())},
			{StepKey: ledger.StepKey{StepID: "tag", Item: 2}, Action: "aws.iam.tag_user", Status: ledger.StepFailed, Error: "AccessDenied"},
			{StepKey: ledger.StepKey{StepID: "delete"}, Action: "aws.iam.delete_access_key", Status: ledger.StepAwaitingApproval},
		}}},
		SeenBefore: []ledger.Prior{{Incident: ledger.Incident{ID: "inc_0", Title: "Old", Status: ledger.StatusResolved, FirstSeen: at.AddDate(0, -1, 0), LastSeen: at.AddDate(0, -1, 0)},
			Shared: []ledger.Subject{{Kind: ledger.SubjectUser, Value: "dana"}}}},
	}
	got := report.FromLedger(rep)
	want := report.Bundle{
		IncidentID: "inc_1", Title: "Exposed key", Playbook: "exposed-access-key",
		Event: report.Event{Source: "aws.health", Type: "AWS_RISK_CREDENTIALS_EXPOSED", Severity: "critical", Score: 9, Account: "111111111111", Region: "us-east-1", Time: at,
			Subjects: []report.Subject{{Kind: "access_key", Value: "AKIAEXAMPLE000000001"}, {Kind: "user", Value: "dana"}}},
		Actions: []report.Action{
			{Step: "disable", Action: "aws.iam.disable_access_key", Status: "succeeded", Summary: "access_key_id: AKIAEXAMPLE000000001; changed: true"},
			{Step: "summarize", Action: report.SummarizeAction, Status: "succeeded", Summary: "errors: 1; first_seen: 2026-03-14T07:00:00Z; last_seen: 2026-03-14T08:30:00Z; regions: us-east-1 (2), eu-west-1 (1); source_ips: 198.51.100.23 (3); successes: 2; top_calls: sts.amazonaws.com:GetCallerIdentity (2), iam.amazonaws.com:CreateUser (1); total: 3; user_agents: aws-cli/2 (3)"},
			{Step: "verdict", Action: report.VerdictAction, Status: "succeeded", Summary: "persistence: iam:CreateUser; reasons: persistence: iam:CreateUser; resources_created: arn:aws:iam::111111111111:user/x; succeeded: true"},
			{Step: "tag[2]", Action: "aws.iam.tag_user", Status: "failed", Error: "AccessDenied"},
			{Step: "delete", Action: "aws.iam.delete_access_key", Status: "awaiting_approval"},
		},
		CloudTrail: &report.CloudTrail{
			Total: 3, Successes: 2, Errors: 1,
			TopCalls:   []report.Count{{Value: "sts.amazonaws.com:GetCallerIdentity", N: 2}, {Value: "iam.amazonaws.com:CreateUser", N: 1}},
			SourceIPs:  []report.Count{{Value: "198.51.100.23", N: 3}},
			UserAgents: []report.Count{{Value: "aws-cli/2", N: 3}},
			Regions:    []report.Count{{Value: "us-east-1", N: 2}, {Value: "eu-west-1", N: 1}},
			First:      at.Add(-2 * time.Hour), Last: at.Add(-30 * time.Minute),
		},
		Verdict: &report.Verdict{Succeeded: true, Reasons: []string{"persistence: iam:CreateUser"}, Persistence: []string{"iam:CreateUser"},
			ResourcesCreated: []string{"arn:aws:iam::111111111111:user/x"}, ForeignIPs: []string{}, AccountChanges: []string{}},
		SeenBefore: []report.Prior{{IncidentID: "inc_0", Title: "Old", Status: "resolved", FirstSeen: at.AddDate(0, -1, 0), LastSeen: at.AddDate(0, -1, 0),
			Shared: []report.Subject{{Kind: "user", Value: "dana"}}}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("FromLedger (-got +want):\n%s", diff)
	}
}

func TestFromLedgerBadOutput(t *testing.T) {
	rep := ledger.Report{Runs: []ledger.Run{{Steps: []ledger.Step{
		{StepKey: ledger.StepKey{StepID: "summarize"}, Action: report.SummarizeAction, Status: ledger.StepSucceeded, Output: json.RawMessage(`{"total":"many"}`)},
		{StepKey: ledger.StepKey{StepID: "verdict"}, Action: report.VerdictAction, Status: ledger.StepSucceeded, Output: json.RawMessage(`{"succeeded":true,"first_seen":1}`)},
		{StepKey: ledger.StepKey{StepID: "summarize2"}, Action: report.SummarizeAction, Status: ledger.StepSucceeded, Output: json.RawMessage(`{"first_seen":"yesterday"}`)},
	}}}}
	got := report.FromLedger(rep)
	if got.CloudTrail != nil {
		t.Errorf("CloudTrail = %+v, want nil from unreadable outputs", got.CloudTrail)
	}
	if got.Verdict == nil || !got.Verdict.Succeeded {
		t.Errorf("Verdict = %+v, want succeeded (unknown fields are ignored)", got.Verdict)
	}
	wantErrs := []string{
		"output not understood: aws.cloudtrail.summarize_principal: json: cannot unmarshal string into Go struct field .total of type int",
		"",
		`output not understood: aws.cloudtrail.summarize_principal: first_seen: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
	}
	var gotErrs []string
	for _, a := range got.Actions {
		gotErrs = append(gotErrs, a.Error)
	}
	if diff := cmp.Diff(gotErrs, wantErrs); diff != "" {
		t.Errorf("action errors (-got +want):\n%s", diff)
	}
}

func TestParseCounts(t *testing.T) {
	got := report.ParseCounts([]string{"a (3)", "b", "c (x)", "d (-1)", "e(2)", "f (2) (4)", ""})
	want := []report.Count{{Value: "a", N: 3}, {Value: "b"}, {Value: "c (x)"}, {Value: "d (-1)"}, {Value: "e(2)"}, {Value: "f (2)", N: 4}, {Value: ""}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ParseCounts (-got +want):\n%s", diff)
	}
}
