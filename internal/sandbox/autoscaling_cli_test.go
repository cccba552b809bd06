package sandbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// TestGuardDutyAutoScalingCLI drives GuardDuty and Auto Scaling with the
// AWS CLI, whose botocore serialises and parses on its own.
func TestGuardDutyAutoScalingCLI(t *testing.T) {
	cli := awsCLI(t)
	sb := fleetSandbox(t)
	admin := sandboxtest.Admin(t, sb)
	run := func(args ...string) map[string]any {
		t.Helper()
		return mustAWSCLI(t, cli, sb, admin, args...)
	}
	ev, err := sb.PublishFinding(context.Background(), sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, InstanceID: fleetInstance(t, sb, "web-1")})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(ev.Detail, &d)

	if got := run("guardduty", "list-detectors")["DetectorIds"]; len(got.([]any)) != 1 || got.([]any)[0] != fleetDetector {
		t.Errorf("list-detectors = %v", got)
	}
	listed := run("guardduty", "list-findings", "--detector-id", fleetDetector, "--finding-criteria", `{"Criterion":{"service.archived":{"Eq":["false"]}}}`)
	if ids := listed["FindingIds"].([]any); len(ids) != 1 || ids[0] != d.ID {
		t.Errorf("list-findings = %v", listed)
	}
	run("guardduty", "archive-findings", "--detector-id", fleetDetector, "--finding-ids", d.ID)
	got := run("guardduty", "get-findings", "--detector-id", fleetDetector, "--finding-ids", d.ID)
	f := got["Findings"].([]any)[0].(map[string]any)
	if f["Type"] != "UnauthorizedAccess:EC2/SSHBruteForce" || f["Service"].(map[string]any)["Archived"] != true {
		t.Errorf("get-findings = %v", f)
	}

	groups := run("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "web")["AutoScalingGroups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["DesiredCapacity"] != float64(3) {
		t.Fatalf("describe-auto-scaling-groups = %v", groups)
	}
	web2 := fleetInstance(t, sb, "web-2")
	acts := run("autoscaling", "detach-instances", "--auto-scaling-group-name", "web", "--instance-ids", web2, "--should-decrement-desired-capacity")["Activities"].([]any)
	if len(acts) != 1 || !strings.Contains(acts[0].(map[string]any)["Description"].(string), web2) {
		t.Errorf("detach-instances = %v", acts)
	}
	run("autoscaling", "set-instance-protection", "--auto-scaling-group-name", "web", "--instance-ids", fleetInstance(t, sb, "web-3"), "--protected-from-scale-in")
	inst := run("autoscaling", "describe-auto-scaling-instances")["AutoScalingInstances"].([]any)
	if len(inst) != 3 { // web-1, web-3 and batch's instance
		t.Errorf("describe-auto-scaling-instances = %v", inst)
	}
	if g := asGroup(t, sb, "web"); g.Desired != 2 || len(g.Protected) != 1 {
		t.Errorf("group = %+v", g)
	}
}
