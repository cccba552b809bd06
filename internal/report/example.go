package report

import "time"

// Example is a bundle with every part filled in, as the exposed-key
// playbook leaves one: the templates are checked against it when they are
// loaded, and `firebreak notify preview` renders it.
func Example() Bundle {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	return Bundle{
		IncidentID: "inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8",
		Title:      "Access key exposed on GitHub",
		Playbook:   "exposed-access-key",
		Event: Event{
			Source: "aws.health", Type: "AWS_RISK_CREDENTIALS_EXPOSED", Severity: "critical", Score: 9,
			Account: "111111111111", Region: "us-east-1", Time: at,
			Subjects: []Subject{{Kind: "access_key", Value: "AKIAEXAMPLEDEVKEY001"}, {Kind: "user", Value: "dana"}},
		},
		Actions: []Action{
			{Step: "disable", Action: "aws.iam.disable_access_key", Status: "succeeded", Summary: "access_key_id: AKIAEXAMPLEDEVKEY001; previous_status: Active"},
			{Step: "revoke", Action: "aws.iam.revoke_sessions", Status: "succeeded", Summary: "user: dana"},
			{Step: "summarize", Action: SummarizeAction, Status: "succeeded", Summary: "errors: 2; successes: 40; total: 42"},
			{Step: "verdict", Action: VerdictAction, Status: "succeeded", Summary: "succeeded: true"},
			{Step: "delete", Action: "aws.iam.delete_access_key", Status: "awaiting_approval"},
		},
		CloudTrail: &CloudTrail{
			Total: 42, Successes: 40, Errors: 2,
			TopCalls: []Count{
				{Value: "sts:GetCallerIdentity", N: 12}, {Value: "s3:ListBuckets", N: 9}, {Value: "iam:ListUsers", N: 7},
				{Value: "ec2:DescribeInstances", N: 6}, {Value: "iam:CreateUser", N: 3}, {Value: "iam:CreateAccessKey", N: 3},
				{Value: "iam:AttachUserPolicy", N: 2},
			},
			SourceIPs:  []Count{{Value: "198.51.100.23", N: 38}, {Value: "203.0.113.10", N: 4}},
			UserAgents: []Count{{Value: "aws-cli/2.15.30", N: 42}},
			Regions:    []Count{{Value: "us-east-1", N: 36}, {Value: "eu-west-1", N: 6}},
			First:      at.Add(-3 * time.Hour), Last: at.Add(-2 * time.Minute),
		},
		Verdict: &Verdict{
			Succeeded:        true,
			Reasons:          []string{"40 successful calls from 198.51.100.23, outside the owner's known addresses", "persistence: iam:CreateUser, iam:CreateAccessKey, iam:AttachUserPolicy"},
			Persistence:      []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy"},
			ResourcesCreated: []string{"arn:aws:iam::111111111111:user/backup-svc"},
			ForeignIPs:       []string{"198.51.100.23"},
		},
		SeenBefore: []Prior{{
			IncidentID: "inc_01J7A0000000000000000000", Title: "Access key exposed on GitHub", Status: "resolved",
			FirstSeen: at.AddDate(0, -2, 0), LastSeen: at.AddDate(0, -2, 0), Shared: []Subject{{Kind: "user", Value: "dana"}},
		}},
		Links: []Link{{Name: "Runbook", URL: "https://wiki.example.com/runbooks/exposed-key"}},
	}
}
