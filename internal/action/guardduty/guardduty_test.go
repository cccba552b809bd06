package guardduty_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/guardduty"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	prod     = "111111111111"
	security = "222222222222" // GuardDuty is off there
	region   = "us-east-1"
	detector = "12abc34d567e8fa901bc2d34e56789f0"
)

// clients reach the sandbox as the world's administrator, or as the
// security account's auditor.
type clients struct{ sb *sandbox.Sandbox }

func (c clients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	creds, err := c.sb.Admin()
	if t.Account == security {
		creds, err = c.sb.UserCredentials(security, "auditor")
	}
	if err != nil {
		return aws.Config{}, err
	}
	return c.sb.AWSConfig(ctx, creds, sandbox.WithRegion(t.Region))
}

type fixture struct {
	t   *testing.T
	sb  *sandbox.Sandbox
	log *actiontest.Log
	// ssh is a brute force finding against web-1, iam one about dana's key.
	ssh, iam, web1 string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w, err := sandbox.LoadWorld("../../sandbox/testdata/autoscaling/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 3, World: w})
	f := &fixture{t: t, sb: sb, log: actiontest.NewLog(t, sb)}
	for _, inst := range f.sb.EC2Instances(prod, region) {
		if inst.Tags["Name"] == "web-1" {
			f.web1 = inst.ID
		}
	}
	f.ssh = f.publish(sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, InstanceID: f.web1})
	f.iam = f.publish(sandbox.Finding{Kind: sandbox.FindingGuardDutyIAM})
	return f
}

func (f *fixture) publish(fd sandbox.Finding) string {
	f.t.Helper()
	ev, err := f.sb.PublishFinding(context.Background(), fd)
	if err != nil {
		f.t.Fatal(err)
	}
	var d struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		f.t.Fatal(err)
	}
	return d.ID
}

func (f *fixture) call(account string, params action.Values) action.Call {
	return actiontest.Caller{Clients: clients{f.sb}, Target: action.Target{Account: account, Region: region}, Incident: "inc-1", Log: f.log}.Call("archive", params)
}

func (f *fixture) archived(id string) bool {
	f.t.Helper()
	a, ok := f.sb.GuardDutyFindingArchived(prod, region, id)
	if !ok {
		f.t.Fatalf("no finding %s", id)
	}
	return a
}

// writes lists the successful GuardDuty calls that change something.
func (f *fixture) writes() []string {
	var out []string
	for _, r := range f.sb.Trail() {
		if r.EventSource == "guardduty.amazonaws.com" && !r.ReadOnly && r.ErrorCode == "" {
			out = append(out, r.EventName)
		}
	}
	return out
}

func TestMetadata(t *testing.T) {
	for _, a := range []action.Action{guardduty.ArchiveFinding{}, guardduty.GetFinding{}} {
		if err := action.Validate(a); err != nil {
			t.Error(err)
		}
	}
}

func TestArchiveFinding(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := guardduty.ArchiveFinding{}
	call := f.call(prod, action.Values{"finding_id": action.StringValue(f.ssh), "instance_id": action.StringValue(f.web1), "account_id": action.StringValue(prod)})

	planned, err := a.Check(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range planned {
		ops = append(ops, c.Operation+" "+c.Detail)
	}
	want := []string{"guardduty:ListDetectors ", "guardduty:GetFindings DetectorId=" + detector, "guardduty:ArchiveFindings DetectorId=" + detector}
	if diff := cmp.Diff(ops, want); diff != "" {
		t.Errorf("Check (-got +want):\n%s", diff)
	}
	dry := call
	dry.DryRun = true
	if out, err := a.Do(ctx, dry); err != nil || out.Bool("changed") {
		t.Errorf("dry run: %v %v", out, err)
	}
	if f.archived(f.ssh) || len(f.writes()) != 0 {
		t.Fatalf("Check or the dry run archived: %v", f.writes())
	}

	out, err := a.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"detector": out.Str("detector_id"), "type": out.Str("type"), "was": out.Bool("was_archived"), "changed": out.Bool("changed")}
	if diff := cmp.Diff(got, map[string]any{"detector": detector, "type": "UnauthorizedAccess:EC2/SSHBruteForce", "was": false, "changed": true}); diff != "" {
		t.Errorf("outputs (-got +want):\n%s", diff)
	}
	if !f.archived(f.ssh) || f.archived(f.iam) {
		t.Errorf("archived: ssh %v iam %v; want only ssh", f.archived(f.ssh), f.archived(f.iam))
	}

	// A retry finds it archived and calls nothing.
	again, err := a.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if again.Bool("changed") || !again.Bool("was_archived") || len(f.writes()) != 1 {
		t.Errorf("retry: %v; writes %v", again, f.writes())
	}
	if err := a.Revert(ctx, call, again); err != nil || !f.archived(f.ssh) {
		t.Errorf("revert of the no-op retry: %v, archived %v", err, f.archived(f.ssh))
	}
	for range 2 {
		if err := a.Revert(ctx, call, out); err != nil {
			t.Fatal(err)
		}
	}
	if f.archived(f.ssh) {
		t.Error("still archived after revert")
	}

	// Named detector: no ListDetectors.
	named := f.call(prod, action.Values{"finding_id": action.StringValue(f.iam), "detector_id": action.StringValue(detector)})
	planned, err = a.Check(ctx, named)
	if err != nil || len(planned) != 2 || planned[0].Operation != "guardduty:GetFindings" {
		t.Errorf("with detector_id: %v %v", planned, err)
	}
}

func TestArchiveFindingRefuses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := guardduty.ArchiveFinding{}
	for _, tt := range []struct {
		name    string
		account string
		params  action.Values
		want    string
	}{
		{"malformed id", prod, action.Values{"finding_id": action.StringValue("nope")}, "parameter finding_id"},
		{"malformed detector", prod, action.Values{"finding_id": action.StringValue(f.ssh), "detector_id": action.StringValue("x")}, "parameter detector_id"},
		{"unknown finding", prod, action.Values{"finding_id": action.StringValue(strings.Repeat("f", 32))}, "has no finding"},
		{"unknown detector", prod, action.Values{"finding_id": action.StringValue(f.ssh), "detector_id": action.StringValue(strings.Repeat("0", 32))}, "not owned by the current account"},
		{"another instance", prod, action.Values{"finding_id": action.StringValue(f.ssh), "instance_id": action.StringValue("i-0123456789abcdef0")}, "not instance i-0123456789abcdef0"},
		{"not about an instance", prod, action.Values{"finding_id": action.StringValue(f.iam), "instance_id": action.StringValue(f.web1)}, "is about \"\""},
		{"another account", prod, action.Values{"finding_id": action.StringValue(f.ssh), "account_id": action.StringValue(security)}, "is not the target account"},
		{"GuardDuty off", security, action.Values{"finding_id": action.StringValue(f.ssh)}, "GuardDuty is not enabled in account 222222222222"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Do(ctx, f.call(tt.account, tt.params))
			if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v (%s); want a permanent error with %q", err, action.Classify(err), tt.want)
			}
		})
	}
	if len(f.writes()) != 0 || f.archived(f.ssh) {
		t.Errorf("refused calls wrote %v", f.writes())
	}
}

func TestGetFinding(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := guardduty.GetFinding{}
	for _, tt := range []struct {
		name string
		id   string
		want map[string]string
	}{
		{"ssh brute force", f.ssh, map[string]string{
			"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": "2.0", "severity_label": "Low", "resource_type": "Instance",
			"instance_id": f.web1, "access_key_id": "", "remote_ip": "203.0.113.66", "archived": "false", "count": "1",
		}},
		{"malicious caller", f.iam, map[string]string{
			"type": "Recon:IAMUser/MaliciousIPCaller.Custom", "severity": "5.0", "severity_label": "Medium", "resource_type": "AccessKey",
			"instance_id": "", "user_name": "dana", "remote_ip": "203.0.113.66", "archived": "false",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := a.Do(ctx, f.call(prod, action.Values{"finding_id": action.StringValue(tt.id)}))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k := range tt.want {
				got[k] = out[k].String()
				if out[k].Kind() == action.KindString {
					got[k] = out[k].Str()
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("outputs (-got +want):\n%s", diff)
			}
			if out.Str("detector_id") != detector || out.Str("title") == "" || out.Str("last_seen") == "" {
				t.Errorf("outputs %v", out)
			}
		})
	}
	if len(f.writes()) != 0 {
		t.Errorf("get_finding wrote %v", f.writes())
	}
}
