package guardrail_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
)

func TestFromConfig(t *testing.T) {
	c, err := config.Load("testdata/firebreak.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := guardrail.FromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	want := guardrail.Config{
		DryRun:   true,
		Regions:  []string{"eu-west-1", "us-east-1"},
		Accounts: guardrail.AccountRules{Deny: []string{"999999999999"}},
		Protected: guardrail.Protected{
			Principals: []string{"arn:aws:iam::*:root", "arn:aws:iam::*:user/break-glass-*",
				"arn:aws:iam::*:role/FirebreakResponder", "arn:aws:iam::*:role/FirebreakInvestigator", "arn:aws:iam::*:role/IRResponder"},
			Tags:      []guardrail.Tag{{Key: "firebreak:protected", Value: "true"}, {Key: "owner", Value: "*"}},
			Resources: []string{"i-0123456789abcdef0", "arn:aws:s3:::prod-*"},
		},
		Budgets: []guardrail.Budget{
			{Name: "aws.ec2.isolate_* per 1h0m0s", Actions: []string{"aws.ec2.isolate_*"}, Window: time.Hour, Max: 3, Percent: 10,
				Of: guardrail.Base{Kind: guardrail.BaseTarget}, OnExceed: guardrail.NeedsApproval},
			{Name: "aws.iam.disable_access_key per 1h0m0s", Actions: []string{"aws.iam.disable_access_key"}, Window: time.Hour, Max: 20, OnExceed: guardrail.Deny},
			{Name: "aws.iam.disable_access_key per 1h0m0s #2", Actions: []string{"aws.iam.disable_access_key"}, Window: time.Hour, Max: 50, OnExceed: guardrail.NeedsApproval},
		},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("FromConfig (-got +want):\n%s", diff)
	}
}

// TestResourceARNs checks that protected_resources may name buckets and
// instances by ARN, as firebreak.yaml documents.
func TestResourceARNs(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	cfg := guardrail.Config{Protected: guardrail.Protected{Resources: []string{"arn:aws:s3:::acme-web-*", "arn:aws:ec2:*:111111111111:instance/i-0a0000000000000a3"}}}
	g, err := guardrail.New(cfg, guardrail.Options{Self: selves(t, c), Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []guardrail.Step{step(blockBucket, "bucket", "acme-web-assets"), step(isolateInstance, "instance_id", "i-0a0000000000000a3")} {
		d := g.Check(context.Background(), s)
		if diff := cmp.Diff(outcome{d.Verdict, d.Rule}, outcome{guardrail.Deny, guardrail.RuleProtectedResource}); diff != "" {
			t.Errorf("%s %v (-got +want):\n%s", s.Action.ID, s.Params, diff)
		}
	}
	if d := g.Check(context.Background(), step(isolateInstance, "instance_id", "i-0a0000000000000a1")); d.Verdict != guardrail.Allow {
		t.Errorf("unprotected instance: %+v", d)
	}
}

func TestPercentOfTarget(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	store := openSQLite(t)
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	// 7 instances in the hub's us-east-1: 30 % is 2.
	g := newGuard(t, w, c, store, clk, guardrail.Budget{Name: "isolate", Actions: []string{"aws.*"}, Window: time.Hour, Percent: 30, Of: guardrail.Base{Kind: guardrail.BaseTarget}})
	var got []outcome
	for _, s := range []guardrail.Step{
		step(isolateInstance, "instance_id", "i-0a0000000000000a1"), step(isolateInstance, "instance_id", "i-0a0000000000000a2"),
		step(isolateInstance, "instance_id", "i-0a0000000000000a3"), step(blockIP, "ip", "203.0.113.9"),
	} {
		d := g.Check(context.Background(), s)
		got = append(got, outcome{d.Verdict, d.Rule})
	}
	want := []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed},
		{guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.Deny, guardrail.RuleBudgetUnavailable}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("verdicts (-got +want):\n%s", diff)
	}
}
