package guardrail_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
)

func TestIdentify(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	got := selves(t, c)
	signing, err := c.base.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []guardrail.Identity{
		{Account: hub, ARN: "arn:aws:iam::111111111111:user/responder", UserName: "responder", AccessKeyID: signing.AccessKeyID},
		{Account: member, ARN: "arn:aws:sts::222222222222:assumed-role/FirebreakResponder/firebreak", RoleName: "FirebreakResponder",
			RoleARN: "arn:aws:iam::222222222222:role/FirebreakResponder", AccessKeyID: got[1].AccessKeyID},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Identify (-got +want):\n%s", diff)
	}
	if !strings.HasPrefix(got[1].AccessKeyID, "ASIA") {
		t.Errorf("assumed-role key id = %q; want a temporary ASIA… key", got[1].AccessKeyID)
	}
}

// protectedConfig is the configuration most cases run under.
func protectedConfig() guardrail.Config {
	return guardrail.Config{
		Protected: guardrail.Protected{
			Principals: []string{"arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:root", "arn:aws:iam::*:user/break-glass-*"},
			Tags:       []guardrail.Tag{{Key: "firebreak:protected", Value: "true"}},
			Resources:  []string{"i-0a0000000000000a4", "prod-*"},
			Networks:   []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		},
		DryRunPlaybooks: []string{"rehearsal-*"},
		Accounts:        guardrail.AccountRules{Deny: []string{"333333333333"}},
		Regions:         []string{"us-east-1", "eu-*"},
	}
}

type outcome struct {
	Verdict guardrail.Verdict
	Rule    string
}

func TestCheck(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	g, err := guardrail.New(protectedConfig(), guardrail.Options{Self: selves(t, c), Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	signing, _ := c.base.Credentials.Retrieve(context.Background())
	var otherResponderKey string
	for _, k := range w.keysOf(hub, "responder") {
		if k != signing.AccessKeyID {
			otherResponderKey = k
		}
	}
	dana := w.keyOf(t, hub, "dana")
	withList := func(m action.Meta, name string, vals ...string) guardrail.Step {
		s := step(m)
		s.Params[name] = action.ListValue(vals)
		return s
	}
	rehearsal := step(disableKey, "access_key_id", dana)
	rehearsal.Playbook = "rehearsal-exposed-key"
	ownDryRun := step(disableKey, "access_key_id", dana)
	ownDryRun.DryRun = true
	otherRegion := step(disableKey, "access_key_id", dana)
	otherRegion.Target.Region = "ap-south-1"

	tests := []struct {
		name   string
		step   guardrail.Step
		want   outcome
		reason string // a substring of the reason
	}{
		{name: "own signing key", step: step(disableKey, "access_key_id", signing.AccessKeyID),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}, reason: "is Firebreak's own identity"},
		{name: "own user reached through its other key", step: step(disableKey, "access_key_id", otherResponderKey),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}, reason: "arn:aws:iam::111111111111:user/responder (owner of access key " + otherResponderKey + ") is Firebreak's own identity"},
		{name: "own user by name", step: step(deleteUser, "user_name", "responder"),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}, reason: "refused: arn:aws:iam::111111111111:user/responder is Firebreak's own identity"},
		{name: "a user of the same name in another account is not self", step: in(step(deleteUser, "user_name", "responder"), member),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "own role in the member account", step: in(step(quarantineRole, "role_name", "FirebreakResponder"), member),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}},
		{name: "own role in the hub account too", step: step(quarantineRole, "role_name", "FirebreakResponder"),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}},
		{name: "own assumed-role session by ARN", step: step(denyPrincipal, "principal_arn", "arn:aws:sts::222222222222:assumed-role/FirebreakResponder/firebreak"),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}},
		{name: "own user by ARN", step: in(step(denyPrincipal, "principal_arn", "arn:aws:iam::111111111111:user/responder"), member),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}},
		{name: "own key inside a list", step: withList(disableKeys, "access_key_ids", dana, signing.AccessKeyID),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}},
		{name: "someone else's key", step: step(disableKey, "access_key_id", dana),
			want: outcome{guardrail.Allow, guardrail.RulePassed}, reason: "allowed: aws.iam.disable_access_key on access_key " + dana},
		{name: "break-glass user with a path, through its key", step: step(disableKey, "access_key_id", w.keyOf(t, hub, "break-glass-admin")),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedPrincipal}, reason: "arn:aws:iam::111111111111:user/ops/break-glass-admin (owner of access key"},
		{name: "organization role by glob", step: in(step(quarantineRole, "role_name", "OrganizationAccountAccessRole"), member),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedPrincipal}, reason: "arn:aws:iam::*:role/OrganizationAccountAccessRole"},
		{name: "root by glob", step: step(denyPrincipal, "principal_arn", "arn:aws:iam::222222222222:root"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedPrincipal}},
		{name: "tagged user, through its key", step: step(disableKey, "access_key_id", w.keyOf(t, hub, "vault")),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}, reason: "carries protected tag firebreak:protected=true"},
		{name: "tagged role by name", step: step(quarantineRole, "role_name", "payments"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}},
		{name: "key AWS does not know", step: step(disableKey, "access_key_id", "AKIAZZZZZZZZZZZZZZZZ"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}, reason: "failing closed"},
		{name: "key of another account", step: step(disableKey, "access_key_id", w.keyOf(t, member, "auditor")),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}, reason: "AccessDenied"},
		{name: "user AWS does not know", step: step(deleteUser, "user_name", "nobody"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}, reason: "NoSuchEntity"},
		{name: "principal ARN of an unknown shape", step: step(denyPrincipal, "principal_arn", "arn:aws:s3:::bucket"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "no target given", step: step(disableKey),
			want: outcome{guardrail.Deny, guardrail.RuleNoTarget}},
		{name: "empty target", step: step(disableKey, "access_key_id", " "),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "read-only action on own user", step: step(readUser, "user_name", "responder"),
			want: outcome{guardrail.Allow, guardrail.RuleReadOnly}},
		{name: "core action", step: step(logLine, "message", "hi"),
			want: outcome{guardrail.Allow, guardrail.RuleNotAWS}},
		{name: "denied account", step: in(step(disableKey, "access_key_id", dana), "333333333333"),
			want: outcome{guardrail.Deny, guardrail.RuleAccount}, reason: "account 333333333333 is denied by 333333333333"},
		{name: "principal in a denied account", step: step(denyPrincipal, "principal_arn", "arn:aws:iam::333333333333:user/x"),
			want: outcome{guardrail.Deny, guardrail.RuleAccount}, reason: "account 333333333333 of principal_arn arn:aws:iam::333333333333:user/x is denied"},
		{name: "account target that is denied", step: step(blockAccountPublicAccess, "account_id", "333333333333"),
			want: outcome{guardrail.Deny, guardrail.RuleAccount}},
		{name: "account target", step: step(blockAccountPublicAccess, "account_id", hub),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "region outside the allow-list", step: otherRegion,
			want: outcome{guardrail.Deny, guardrail.RuleRegion}},
		{name: "protected network", step: step(blockIP, "ip", "198.51.100.7"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedNetwork}},
		{name: "attacker address", step: step(blockIP, "ip", "203.0.113.66"),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "unparsable address", step: step(blockIP, "ip", "203.0.113"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "playbook dry run", step: ownDryRun,
			want: outcome{guardrail.DryRun, guardrail.RuleDryRun}, reason: "dry-run: would act: aws.iam.disable_access_key on access_key " + dana},
		{name: "dry-run playbook glob", step: rehearsal,
			want: outcome{guardrail.DryRun, guardrail.RuleDryRun}},
		{name: "dry run still refuses self", step: func() guardrail.Step {
			s := step(disableKey, "access_key_id", signing.AccessKeyID)
			s.DryRun = true
			return s
		}(), want: outcome{guardrail.Deny, guardrail.RuleSelf}},

		{name: "plain instance", step: step(isolateInstance, "instance_id", "i-0a0000000000000a3"),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "tagged instance", step: step(isolateInstance, "instance_id", "i-0a0000000000000b1"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}},
		{name: "instance by id glob", step: step(isolateInstance, "instance_id", "i-0a0000000000000a4"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedResource}},
		{name: "the instance Firebreak runs on", step: step(isolateInstance, "instance_id", "i-0a0000000000000f1"),
			want: outcome{guardrail.Deny, guardrail.RuleSelf}, reason: "role of instance i-0a0000000000000f1"},
		{name: "isolating an instance with a protected role", step: step(isolateInstance, "instance_id", "i-0a0000000000000c1"),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "revoking a protected instance role", step: step(revokeInstanceRole, "instance_id", "i-0a0000000000000c1"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}, reason: "(role of instance i-0a0000000000000c1)"},
		{name: "revoking an ordinary instance role", step: step(revokeInstanceRole, "instance_id", "i-0a0000000000000a1"),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "instance AWS does not know", step: step(isolateInstance, "instance_id", "i-0a0000000000000ee"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "instance in a region outside the allow-list", step: func() guardrail.Step {
			s := step(isolateInstance, "instance_id", "i-0a0000000000000a3")
			s.Target.Region = "us-west-2"
			return s
		}(), want: outcome{guardrail.Deny, guardrail.RuleRegion}},
		{name: "instance id in the wrong region is unresolved", step: func() guardrail.Step {
			s := step(isolateInstance, "instance_id", "i-0a0000000000000a3")
			s.Target.Region = "eu-west-1"
			return s
		}(), want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "plain bucket", step: step(blockBucket, "bucket", "acme-web-assets"),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "tagged bucket", step: step(blockBucket, "bucket", "acme-audit-logs"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}, reason: "bucket acme-audit-logs carries protected tag"},
		{name: "bucket by name glob", step: step(blockBucket, "bucket", "prod-customer-data"),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedResource}, reason: "(prod-*)"},
		{name: "bucket AWS does not know", step: step(blockBucket, "bucket", "no-such-bucket"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
		{name: "plain security group", step: step(revokeGroup, "group_id", w.groupID(t, "web")),
			want: outcome{guardrail.Allow, guardrail.RulePassed}},
		{name: "tagged security group", step: step(revokeGroup, "group_id", w.groupID(t, "bastion")),
			want: outcome{guardrail.Deny, guardrail.RuleProtectedTag}},
		{name: "security group AWS does not know", step: step(revokeGroup, "group_id", "sg-0123456789abcdef0"),
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Check(context.Background(), tt.step)
			if diff := cmp.Diff(outcome{d.Verdict, d.Rule}, tt.want); diff != "" {
				t.Errorf("Check (-got +want):\n%s\nreason: %s", diff, d.Reason)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.reason)
			}
			if d.Reason == "" {
				t.Error("decision has no reason")
			}
		})
	}
}

func TestDecisionErr(t *testing.T) {
	tests := []struct {
		verdict guardrail.Verdict
		want    action.Class
	}{
		{guardrail.Allow, action.OK},
		{guardrail.DryRun, action.OK},
		{guardrail.NeedsApproval, action.NeedsApproval},
		{guardrail.Deny, action.GuardrailDenied},
		{"", action.GuardrailDenied},
	}
	for _, tt := range tests {
		d := guardrail.Decision{Verdict: tt.verdict, Rule: "r", Reason: "why"}
		if got := action.Classify(d.Err()); got != tt.want {
			t.Errorf("Classify(%q.Err()) = %v; want %v", tt.verdict, got, tt.want)
		}
	}
}

func TestTagsAreCachedForTheTTL(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cfg := protectedConfig()
	cfg.CacheTTL = 30 * time.Second
	g, err := guardrail.New(cfg, guardrail.Options{Self: selves(t, c), Clients: c, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s := step(disableKey, "access_key_id", w.keyOf(t, hub, "dana"))
	var got []outcome
	check := func() {
		d := g.Check(context.Background(), s)
		got = append(got, outcome{d.Verdict, d.Rule})
	}
	check()
	// Someone protects dana now.
	_, err = iam.NewFromConfig(c.base).TagUser(context.Background(), &iam.TagUserInput{
		UserName: aws.String("dana"), Tags: []iamtypes.Tag{{Key: aws.String("firebreak:protected"), Value: aws.String("true")}}})
	if err != nil {
		t.Fatal(err)
	}
	check() // still within the TTL: the cached tags
	now = now.Add(31 * time.Second)
	check() // looked up again
	want := []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.Deny, guardrail.RuleProtectedTag}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("verdicts over time (-got +want):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	self := []guardrail.Identity{{Account: hub, ARN: "arn:aws:iam::111111111111:user/responder", UserName: "responder"}}
	tests := []struct {
		name string
		cfg  guardrail.Config
		opts guardrail.Options
		want string
	}{
		{"no self", guardrail.Config{}, guardrail.Options{}, "no self identity"},
		{"budgets without ledger", guardrail.Config{Budgets: []guardrail.Budget{{Name: "b", Actions: []string{"*"}, Window: time.Hour, Max: 1}}},
			guardrail.Options{Self: self}, "no ledger"},
		{"invalid config", guardrail.Config{Regions: []string{""}}, guardrail.Options{Self: self}, "guardrails.regions[0]: empty pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := guardrail.New(tt.cfg, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNoClientsFailsClosed(t *testing.T) {
	self := []guardrail.Identity{{Account: hub, ARN: "arn:aws:iam::111111111111:user/responder", UserName: "responder"}}
	g, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: self})
	if err != nil {
		t.Fatal(err)
	}
	d := g.Check(context.Background(), step(deleteUser, "user_name", "dana"))
	if diff := cmp.Diff(outcome{d.Verdict, d.Rule}, outcome{guardrail.Deny, guardrail.RuleUnresolved}); diff != "" {
		t.Errorf("Check without clients (-got +want):\n%s", diff)
	}
}
