package sandbox_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// paths lists the JSON paths of the object keys in v (list elements as []).
func paths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			out[prefix+"."+k] = true
			paths(prefix+"."+k, c, out)
		}
	case []any:
		for _, c := range x {
			paths(prefix+"[]", c, out)
		}
	}
}

func TestFindingsKeepTheSampleShape(t *testing.T) {
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, Clock: func() time.Time { return now }})
	dana := sandboxtest.User(t, sb, prod, "dana")
	tests := []struct {
		finding sandbox.Finding
		sample  string // sample whose detail (or whole finding) gives the shape
		inner   bool   // the sample is an EventBridge event: compare its detail
		// dropped are sample paths the sandbox removes on purpose.
		dropped []string
		// added are paths the sample lacks that the sandbox fills from the
		// full GuardDuty finding shape (the other GuardDuty sample has them).
		added []string
		want  map[string]string // path -> value in the detail
	}{
		{sandbox.Finding{Kind: sandbox.FindingHealthExposedKey}, "health/risk-credentials-exposed-aws-health-tools.json", true, nil,
			nil, map[string]string{"eventTypeCode": "AWS_RISK_CREDENTIALS_EXPOSED", "affectedEntities.0.entityValue": dana.AccessKeyID, "service": "RISK"}},
		{sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, Type: "AWS_RISK_IAM_QUARANTINE"}, "health/risk-credentials-exposed-aws-health-tools.json", true, nil, nil,
			map[string]string{"eventTypeCode": "AWS_RISK_IAM_QUARANTINE"}},
		{sandbox.Finding{Kind: sandbox.FindingTrustedAdvisorExposedKey}, "trustedadvisor/exposed-access-keys-ta-tools-readme.json", true, nil, nil,
			map[string]string{"check-name": "Exposed Access Keys", "check-item-detail.Access Key ID": dana.AccessKeyID, "check-item-detail.User Name (IAM or Root)": "dana"}},
		{sandbox.Finding{Kind: sandbox.FindingGuardDutyIAM}, "guardduty/finding-recon-iamuser-maliciousipcaller-custom-autoresp.json", false,
			[]string{".resource.instanceDetails", ".service.action.awsApiCallAction.errorCode"}, nil,
			map[string]string{"type": "Recon:IAMUser/MaliciousIPCaller.Custom", "accountId": prod, "resource.accessKeyDetails.accessKeyId": dana.AccessKeyID,
				"resource.accessKeyDetails.userName": "dana", "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4": "203.0.113.66", "updatedAt": "2026-02-03T04:05:06.000Z"}},
		{sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, InstanceID: "i-0123456789abcdef0"}, "guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json", true, nil,
			[]string{".accountId", ".arn", ".region", ".service.detectorId"},
			map[string]string{"type": "UnauthorizedAccess:EC2/SSHBruteForce", "resource.instanceDetails.instanceId": "i-0123456789abcdef0", "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": "203.0.113.66"}},
	}
	for _, tt := range tests {
		t.Run(tt.finding.Kind+tt.finding.Type, func(t *testing.T) {
			ev, err := sb.NewFinding(tt.finding)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := samples.Read(tt.sample)
			if err != nil {
				t.Fatal(err)
			}
			var sample map[string]any
			_ = json.Unmarshal(raw, &sample)
			if tt.inner {
				if _, ok := sample["source"]; ok && (ev.Source != sample["source"] || ev.DetailType != sample["detail-type"]) {
					t.Errorf("source/detail-type = %s/%s, want %s/%s", ev.Source, ev.DetailType, sample["source"], sample["detail-type"])
				}
				sample = sample["detail"].(map[string]any)
			}
			var detail map[string]any
			if err := json.Unmarshal(ev.Detail, &detail); err != nil {
				t.Fatal(err)
			}
			want, got := map[string]bool{}, map[string]bool{}
			paths("", sample, want)
			paths("", detail, got)
			for _, a := range tt.added {
				want[a] = true
			}
			for p := range want {
				for _, d := range tt.dropped {
					if strings.HasPrefix(p, d) {
						delete(want, p)
					}
				}
			}
			if diff := cmp.Diff(sortedSet(got), sortedSet(want)); diff != "" {
				t.Errorf("detail shape differs from the sample (-got +want):\n%s", diff)
			}
			for path, w := range tt.want {
				if g := lookup(detail, path); g != w {
					t.Errorf("%s = %q, want %q", path, g, w)
				}
			}
			if ev.Account != prod || ev.Region != "us-east-1" || !ev.Time.Equal(now) || ev.ID == "" {
				t.Errorf("envelope = %s %s %s %q", ev.Account, ev.Region, ev.Time, ev.ID)
			}
		})
	}
	if _, err := sb.NewFinding(sandbox.Finding{Kind: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown finding kind") {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := sb.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, Type: "EC2_BAD"}); err == nil {
		t.Error("non-RISK health type accepted")
	}
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookup(v any, path string) string {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			if p != "0" || len(x) == 0 {
				return ""
			}
			v = x[0]
		}
	}
	s, _ := v.(string)
	return s
}

func TestBusDeliversToTheEventsQueue(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	sq := sqs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	ev, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingHealthExposedKey})
	if err != nil {
		t.Fatal(err)
	}
	if want := sb.Endpoint() + "/111111111111/firebreak-events"; sb.EventsQueueURL() != want {
		t.Errorf("events queue = %s, want %s", sb.EventsQueueURL(), want)
	}
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(sb.EventsQueueURL())})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("events queue = %+v, %v", out, err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &got); err != nil {
		t.Fatal(err)
	}
	if got["version"] != "0" || got["id"] != ev.ID || got["detail-type"] != "AWS Health Event" || got["source"] != "aws.health" || got["account"] != prod {
		t.Errorf("envelope = %v", got)
	}
	if _, err := time.Parse(time.RFC3339, got["time"].(string)); err != nil {
		t.Errorf("time %v: %v", got["time"], err)
	}
	if err := sb.Publish(ctx, sandbox.BusEvent{Source: "x"}); err == nil {
		t.Error("event without detail-type accepted")
	}
	if err := sb.Publish(ctx, sandbox.BusEvent{Source: "x", DetailType: "y", Detail: json.RawMessage("{bad")}); err == nil {
		t.Error("invalid detail accepted")
	}
}

func TestScenarioAndContainment(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	admin := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	res, err := sb.RunScenario(ctx, "persistence")
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]bool{}
	for _, s := range res.Steps {
		steps[s.Call] = s.OK
	}
	for _, call := range []string{"sts:GetCallerIdentity", "iam:ListUsers", "s3:ListBuckets", "ec2:DescribeInstances", "iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "ec2:RunInstances", "s3:PutBucketPolicy"} {
		if !steps[call] {
			t.Errorf("attacker step %s failed: %+v", call, res.Steps)
		}
	}
	if res.Finding == nil || res.Finding.Source != "aws.guardduty" || res.SourceIP != "203.0.113.66" {
		t.Errorf("finding %+v from %s", res.Finding, res.SourceIP)
	}
	// The attacker's calls are in CloudTrail from the attacker's IP.
	var fromAttacker []string
	for _, r := range sb.Trail() {
		if r.SourceIPAddress == "203.0.113.66" && !r.ReadOnly {
			fromAttacker = append(fromAttacker, r.EventName)
		}
	}
	if diff := cmp.Diff(fromAttacker, []string{"CreateUser", "CreateAccessKey", "AttachUserPolicy", "RunInstances", "PutBucketPolicy"}); diff != "" {
		t.Errorf("attacker's write calls (-got +want):\n%s", diff)
	}

	// Contain: disable the leaked key. The attacker's next calls fail.
	if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("dana"), AccessKeyId: aws.String(res.AccessKeyID), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	after, err := sb.RunScenario(ctx, "recon")
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Succeeded(); n != 0 {
		t.Errorf("%d attacker calls succeeded after containment: %+v", n, after.Steps)
	}
	if after.Steps[0].ErrorCode != "InvalidClientTokenId" {
		t.Errorf("first refused call = %+v", after.Steps[0])
	}
	if _, err := sb.RunScenario(ctx, "nope"); err == nil {
		t.Error("unknown scenario ran")
	}
}

func TestSSHBruteForceScenario(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	res, err := sb.RunScenario(context.Background(), "ssh-bruteforce")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Type     string `json:"type"`
		Resource struct {
			InstanceDetails struct {
				InstanceID string `json:"instanceId"`
			} `json:"instanceDetails"`
		} `json:"resource"`
	}
	if res.Finding == nil {
		t.Fatal("no finding")
	}
	_ = json.Unmarshal(res.Finding.Detail, &d)
	if d.Type != "UnauthorizedAccess:EC2/SSHBruteForce" || !strings.HasPrefix(d.Resource.InstanceDetails.InstanceID, "i-") || d.Resource.InstanceDetails.InstanceID != res.Steps[0].Resource {
		t.Errorf("finding %+v for steps %+v", d, res.Steps)
	}
}

// TestConsumingTheEventsQueueMakesNoEvents: receiving and deleting messages
// are data events, neither recorded nor put on the bus, so a consumer of the
// events queue does not feed itself.
func TestConsumingTheEventsQueueMakesNoEvents(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	sq := sqs.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	if _, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingHealthExposedKey}); err != nil {
		t.Fatal(err)
	}
	url := aws.String(sb.EventsQueueURL())
	for range 3 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(sb.Events()); n != 1 {
		t.Errorf("%d events on the bus, want only the finding", n)
	}
	for _, r := range sb.Trail() {
		if r.EventName == "ReceiveMessage" || r.EventName == "DeleteMessage" {
			t.Errorf("data event recorded: %s", r.EventName)
		}
	}
}
