package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const fleetDetector = "12abc34d567e8fa901bc2d34e56789f0"

// fleetSandbox starts the sandbox of testdata/autoscaling/world.yaml.
func fleetSandbox(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/autoscaling/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sandboxtest.New(t, sandbox.Options{Seed: 7, World: w})
}

// fleetInstance returns the id of the instance with the Name tag name.
func fleetInstance(t testing.TB, sb *sandbox.Sandbox, name string) string {
	t.Helper()
	for _, inst := range sb.EC2Instances("111111111111", "us-east-1") {
		if inst.Tags["Name"] == name {
			return inst.ID
		}
	}
	t.Fatalf("no instance %s", name)
	return ""
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestGuardDutyDetectors(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	admin := sandboxtest.Admin(t, sb)
	for _, tt := range []struct {
		name   string
		creds  sandbox.Credentials
		region string
		want   func(ids []string) bool
	}{
		{"fixed id in the first region", admin, "us-east-1", func(ids []string) bool { return slices.Equal(ids, []string{fleetDetector}) }},
		{"derived id in the other region", admin, "eu-west-1", func(ids []string) bool { return len(ids) == 1 && len(ids[0]) == 32 && ids[0] != fleetDetector }},
		{"disabled account has none", sandboxtest.User(t, sb, "222222222222", "auditor"), "us-east-1", func(ids []string) bool { return len(ids) == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gd := guardduty.NewFromConfig(sandboxtest.Config(t, sb, tt.creds, sandbox.WithRegion(tt.region)))
			out, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(out.DetectorIds) {
				t.Errorf("detectors = %v", out.DetectorIds)
			}
		})
	}
	gd := guardduty.NewFromConfig(sandboxtest.Config(t, sb, admin))
	det, err := gd.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(fleetDetector)})
	if err != nil {
		t.Fatal(err)
	}
	if det.Status != gdtypes.DetectorStatusEnabled || !strings.HasSuffix(aws.ToString(det.ServiceRole), "AWSServiceRoleForAmazonGuardDuty") {
		t.Errorf("detector = %s %s", det.Status, aws.ToString(det.ServiceRole))
	}
	_, err = gd.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String("00000000000000000000000000000000")})
	var bad *gdtypes.BadRequestException
	if !errors.As(err, &bad) || !strings.Contains(bad.ErrorMessage(), "detectorId is not owned") {
		t.Errorf("unknown detector: %v", err)
	}
}

func TestGuardDutyFindingsFromTheBuilder(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	web1 := fleetInstance(t, sb, "web-1")
	gd := guardduty.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))

	ssh, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, InstanceID: web1})
	if err != nil {
		t.Fatal(err)
	}
	iamEv, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingGuardDutyIAM})
	if err != nil {
		t.Fatal(err)
	}
	var detail struct {
		ID      string `json:"id"`
		Service struct {
			DetectorID string `json:"detectorId"`
		} `json:"service"`
		Resource struct {
			InstanceDetails struct {
				InstanceType string `json:"instanceType"`
			} `json:"instanceDetails"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(ssh.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Service.DetectorID != fleetDetector || detail.Resource.InstanceDetails.InstanceType != "m5.large" {
		t.Errorf("event detail: detector %s, instance type %s; want the account's detector and web-1's type", detail.Service.DetectorID, detail.Resource.InstanceDetails.InstanceType)
	}
	var iamDetail struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(iamEv.Detail, &iamDetail)

	out, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{detail.ID, "ffffffffffffffffffffffffffffffff", iamDetail.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 2 {
		t.Fatalf("GetFindings returned %d findings, want 2 (the unknown id is left out)", len(out.Findings))
	}
	f := out.Findings[0]
	inst := f.Resource.InstanceDetails
	tags := map[string]string{}
	for _, tg := range inst.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	got := map[string]string{
		"id": aws.ToString(f.Id), "type": aws.ToString(f.Type), "account": aws.ToString(f.AccountId), "schema": aws.ToString(f.SchemaVersion),
		"partition": aws.ToString(f.Partition), "instance": aws.ToString(inst.InstanceId), "profile": aws.ToString(inst.IamInstanceProfile.Arn),
		"tag.team": tags["team"], "tag.group": tags["aws:autoscaling:groupName"], "detector": aws.ToString(f.Service.DetectorId),
		"archived": fmt.Sprint(aws.ToBool(f.Service.Archived)), "severity": fmt.Sprint(aws.ToFloat64(f.Severity)),
		"remote": aws.ToString(f.Service.Action.NetworkConnectionAction.RemoteIpDetails.IpAddressV4),
		"info":   aws.ToString(f.Service.AdditionalInfo.Type) + " " + aws.ToString(f.Service.AdditionalInfo.Value),
		"eni":    aws.ToString(inst.NetworkInterfaces[0].SubnetId)[:7],
	}
	want := map[string]string{
		"id": detail.ID, "type": "UnauthorizedAccess:EC2/SSHBruteForce", "account": "111111111111", "schema": "2.0", "partition": "aws",
		"instance": web1, "profile": "arn:aws:iam::111111111111:instance-profile/web-app", "tag.team": "web", "tag.group": "web",
		"detector": fleetDetector, "archived": "false", "severity": "2", "remote": "203.0.113.66", "info": `default {"sample":false}`, "eni": "subnet-",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("SSH finding (-got +want):\n%s", diff)
	}
	if k := out.Findings[1].Resource.AccessKeyDetails; k == nil || aws.ToString(k.UserName) != "dana" {
		t.Errorf("IAM finding access key details = %+v", k)
	}

	list := func(t *testing.T, criterion map[string]gdtypes.Condition) []string {
		t.Helper()
		in := &guardduty.ListFindingsInput{DetectorId: aws.String(fleetDetector)}
		if criterion != nil {
			in.FindingCriteria = &gdtypes.FindingCriteria{Criterion: criterion}
		}
		var ids []string
		p := guardduty.NewListFindingsPaginator(gd, in, func(o *guardduty.ListFindingsPaginatorOptions) { o.Limit = 1 })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, page.FindingIds...)
		}
		return ids
	}
	both := []string{detail.ID, iamDetail.ID}
	for _, tt := range []struct {
		name      string
		criterion map[string]gdtypes.Condition
		want      []string
	}{
		{"all, one per page", nil, both},
		{"by type", map[string]gdtypes.Condition{"type": {Equals: []string{"UnauthorizedAccess:EC2/SSHBruteForce"}}}, []string{detail.ID}},
		{"by instance", map[string]gdtypes.Condition{"resource.instanceDetails.instanceId": {Eq: []string{web1}}}, []string{detail.ID}},
		{"by severity", map[string]gdtypes.Condition{"severity": {GreaterThanOrEqual: aws.Int64(4)}}, []string{iamDetail.ID}},
		{"not archived", map[string]gdtypes.Condition{"service.archived": {Equals: []string{"false"}}}, both},
		{"by tag", map[string]gdtypes.Condition{"resource.instanceDetails.tags.value": {Equals: []string{"web"}}}, []string{detail.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(list(t, tt.criterion), tt.want); diff != "" {
				t.Errorf("ListFindings (-got +want):\n%s", diff)
			}
		})
	}

	if _, err := gd.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{detail.ID}}); err != nil {
		t.Fatal(err)
	}
	if a, ok := sb.GuardDutyFindingArchived("111111111111", "us-east-1", detail.ID); !a || !ok {
		t.Errorf("after ArchiveFindings archived=%v ok=%v", a, ok)
	}
	archived := map[string]gdtypes.Condition{"service.archived": {Equals: []string{"true"}}}
	if got := list(t, archived); !slices.Equal(got, []string{detail.ID}) {
		t.Errorf("archived findings = %v", got)
	}
	if _, err := gd.UnarchiveFindings(ctx, &guardduty.UnarchiveFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{detail.ID}}); err != nil {
		t.Fatal(err)
	}
	if got := list(t, archived); len(got) != 0 {
		t.Errorf("archived after UnarchiveFindings = %v", got)
	}
	var calls []string
	for _, r := range sb.Trail() {
		if r.EventSource == "guardduty.amazonaws.com" && !r.ReadOnly {
			calls = append(calls, r.EventName)
		}
	}
	if !slices.Equal(calls, []string{"ArchiveFindings", "UnarchiveFindings"}) {
		t.Errorf("CloudTrail write calls = %v", calls)
	}
}

func TestGuardDutyErrors(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	gd := guardduty.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	ev, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingGuardDutyIAM})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(ev.Detail, &d)
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("%032x", i)
	}
	for _, tt := range []struct {
		name string
		call func() error
		want string // in the message
	}{
		{"unknown detector", func() error {
			_, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(strings.Repeat("0", 32)), FindingIds: []string{d.ID}})
			return err
		}, "not owned by the current account"},
		{"more than 50 ids", func() error {
			_, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: many})
			return err
		}, "more than 50"},
		{"no ids", func() error {
			_, err := gd.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{}})
			return err
		}, "findingIds is missing or empty"},
		{"archive unknown finding", func() error {
			_, err := gd.ArchiveFindings(ctx, &guardduty.ArchiveFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{d.ID, many[3]}})
			return err
		}, "not a finding of detector"},
		{"unsupported criterion", func() error {
			_, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(fleetDetector),
				FindingCriteria: &gdtypes.FindingCriteria{Criterion: map[string]gdtypes.Condition{"service.count": {Gt: aws.Int32(1)}}}})
			return err
		}, "service.count"},
		{"bad max results", func() error {
			_, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(fleetDetector), MaxResults: aws.Int32(51)})
			return err
		}, "maxResults"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if apiCode(err) != "BadRequestException" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want BadRequestException with %q", err, tt.want)
			}
		})
	}
	if a, _ := sb.GuardDutyFindingArchived("111111111111", "us-east-1", d.ID); a {
		t.Error("a failed ArchiveFindings archived a finding")
	}
	// GuardDuty off: the event still goes out, but no detector keeps it.
	if _, err := sb.PublishFinding(ctx, sandbox.Finding{Kind: sandbox.FindingGuardDutySSHBruteForce, Account: "222222222222", InstanceID: "i-0123456789abcdef0"}); err != nil {
		t.Fatal(err)
	}
}

// TestServiceWorldErrors checks the invalid Auto Scaling and GuardDuty
// sections in testdata/{autoscaling,guardduty}/errors against their golden
// error text.
func TestServiceWorldErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/autoscaling/errors/*.yaml")
	more, _ := filepath.Glob("testdata/guardduty/errors/*.yaml")
	files = append(files, more...)
	if len(files) < 2 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(f, ".yaml"), func(t *testing.T) { checkWorldErrorGolden(t, f) })
	}
}

// bodies records the response bodies an SDK client receives.
type bodies struct {
	next aws.HTTPClient
	last []byte
}

func (b *bodies) Do(r *http.Request) (*http.Response, error) {
	resp, err := b.next.Do(r)
	if err != nil {
		return resp, err
	}
	b.last, err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b.last))
	return resp, err
}

// TestGuardDutyFindingShape checks that GetFindings returns every member
// of the finding the event carried, in the API's shape: additionalInfo as
// type and value, plus schemaVersion and partition.
func TestGuardDutyFindingShape(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	rec := &bodies{next: cfg.HTTPClient}
	cfg.HTTPClient = rec
	gd := guardduty.NewFromConfig(cfg)
	for _, f := range []sandbox.Finding{
		{Kind: sandbox.FindingGuardDutySSHBruteForce, InstanceID: fleetInstance(t, sb, "web-2")},
		{Kind: sandbox.FindingGuardDutyIAM},
	} {
		t.Run(f.Kind, func(t *testing.T) {
			ev, err := sb.PublishFinding(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var detail map[string]any
			if err := json.Unmarshal(ev.Detail, &detail); err != nil {
				t.Fatal(err)
			}
			if _, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(fleetDetector), FindingIds: []string{detail["id"].(string)}}); err != nil {
				t.Fatal(err)
			}
			var body struct {
				Findings []map[string]any `json:"findings"`
			}
			if err := json.Unmarshal(rec.last, &body); err != nil || len(body.Findings) != 1 {
				t.Fatalf("GetFindings body %s: %v", rec.last, err)
			}
			want, got := map[string]bool{}, map[string]bool{}
			paths("", detail, want)
			paths("", body.Findings[0], got)
			for p := range want {
				if strings.HasPrefix(p, ".service.additionalInfo.") {
					delete(want, p)
				}
			}
			for _, p := range []string{".service.additionalInfo.type", ".service.additionalInfo.value", ".schemaVersion", ".partition"} {
				want[p] = true
			}
			if diff := cmp.Diff(sortedSet(got), sortedSet(want)); diff != "" {
				t.Errorf("finding shape (-got +want):\n%s", diff)
			}
		})
	}
}
