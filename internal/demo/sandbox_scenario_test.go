package demo

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// The sandbox's ec2-bruteforce attack, as users play it on game days: the
// auth log in CloudWatch Logs holds the refused passwords and the one
// accepted, read back through the SDK; the stolen role credentials work
// from the attacker's address; the findings decode to the instance, the
// role's session and the attacker's address.
func TestSandboxScenarioEC2BruteForce(t *testing.T) {
	w, err := sandbox.EC2IncidentWorld()
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 3, World: w})
	ctx := context.Background()
	res, err := sb.RunScenario(ctx, "ec2-bruteforce")
	if err != nil {
		t.Fatal(err)
	}
	_, _, target, err := sb.BruteForceTarget()
	if err != nil {
		t.Fatal(err)
	}
	if target.Tags["Name"] != "web-1" || target.Tags["aws:autoscaling:groupName"] != "web" {
		t.Errorf("target %s %v; want web-1 of the group web", target.ID, target.Tags)
	}
	ok := map[string]int{}
	failed := map[string]int{}
	for _, s := range res.Steps {
		if s.OK {
			ok[s.Call]++
		} else {
			failed[s.Call+" "+s.ErrorCode]++
		}
	}
	if ok["ssh:password"] != 1 || failed["ssh:password AuthenticationFailed"] != sandbox.DefaultSSHFailures ||
		ok["logs:PutLogEvents"] != 1 || ok["imds:GetRoleCredentials"] != 1 || ok["s3:GetObject"] == 0 {
		t.Errorf("steps: ok %v, failed %v", ok, failed)
	}

	admin := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	out, err := cloudwatchlogs.NewFromConfig(admin).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(sandbox.AuthLogGroup), LogStreamNames: []string{target.ID}, FilterPattern: aws.String(`"203.0.113.66"`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var accepted, refused int
	for _, e := range out.Events {
		msg := aws.ToString(e.Message)
		switch {
		case strings.Contains(msg, "sshd[") && strings.Contains(msg, "Accepted password for ec2-user from 203.0.113.66"):
			accepted++
		case strings.Contains(msg, "Failed password for"):
			refused++
		}
	}
	if accepted != 1 || refused != sandbox.DefaultSSHFailures {
		t.Errorf("auth log: %d accepted, %d refused; want 1 and %d", accepted, refused, sandbox.DefaultSSHFailures)
	}

	// The last finding: the role's credentials used from outside.
	if res.Finding == nil {
		t.Fatal("no finding published")
	}
	raw, err := json.Marshal(map[string]any{"source": res.Finding.Source, "detail-type": res.Finding.DetailType, "account": res.Finding.Account,
		"region": res.Finding.Region, "id": res.Finding.ID, "time": res.Finding.Time, "detail": res.Finding.Detail})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Decode(raw)
	if err != nil || len(evs) != 1 {
		t.Fatalf("decode: %v (%d events)", err, len(evs))
	}
	ev := evs[0]
	if ev.FindingType != "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS" || ev.Severity.Score != 8 {
		t.Errorf("finding %s, severity %v", ev.FindingType, ev.Severity.Score)
	}
	s := ev.Subjects
	if len(s.Instances) != 1 || s.Instances[0].ID != target.ID || len(s.Roles) != 1 || s.Roles[0].Name != "web-app" ||
		len(s.AccessKeys) != 1 || s.AccessKeys[0].ID != res.AccessKeyID || !strings.HasPrefix(res.AccessKeyID, "ASIA") ||
		!slices.ContainsFunc(s.RemoteIPs, func(ip event.RemoteIP) bool { return ip.IP.String() == "203.0.113.66" }) {
		t.Errorf("subjects %+v; want the instance %s, role web-app, key %s, address 203.0.113.66", s, target.ID, res.AccessKeyID)
	}
	// Both findings are GuardDuty's: GetFindings would return them.
	if id, ok := sb.GuardDutyDetector("111111111111", "us-east-1"); !ok || id == "" {
		t.Error("no GuardDuty detector in the incident world")
	}
}
