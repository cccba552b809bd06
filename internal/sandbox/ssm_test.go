package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	ssmAccount = "111111111111"
	ssmRegion  = "us-east-1"
	ssmWeb1    = "i-0aaaaaaaaaaaaaaa1"
	ssmWeb2    = "i-0aaaaaaaaaaaaaaa2" // ConnectionLost
	ssmBastion = "i-0aaaaaaaaaaaaaaa3" // no profile: not managed
	ssmWin1    = "i-0aaaaaaaaaaaaaaa4" // Windows
	ssmNoRole  = "i-0aaaaaaaaaaaaaaa5" // managed, no profile
	ssmParked  = "i-0aaaaaaaaaaaaaaa6" // stopped
)

// ssmClock is a sandbox clock the test moves.
type ssmClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ssmClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ssmClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type ssmFixture struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	clock *ssmClock
	ssm   *ssm.Client
	ec2   *awsec2.Client
}

func newSSMFixture(t *testing.T) *ssmFixture {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/ssm-world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clock := &ssmClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	sb := sandboxtest.New(t, sandbox.Options{World: w, Seed: 5, Clock: clock.now})
	cfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb), sandbox.WithRegion(ssmRegion))
	return &ssmFixture{t: t, sb: sb, clock: clock, ssm: ssm.NewFromConfig(cfg), ec2: awsec2.NewFromConfig(cfg)}
}

func (f *ssmFixture) send(doc, instance string, commands ...string) string {
	f.t.Helper()
	out, err := f.ssm.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String(doc), InstanceIds: []string{instance},
		Parameters: map[string][]string{"commands": commands}, Comment: aws.String("test"),
	})
	if err != nil {
		f.t.Fatalf("SendCommand %v to %s: %v", commands, instance, err)
	}
	if out.Command.Status != types.CommandStatusPending || aws.ToString(out.Command.DocumentName) != doc {
		f.t.Errorf("SendCommand answered status %s, document %s", out.Command.Status, aws.ToString(out.Command.DocumentName))
	}
	return aws.ToString(out.Command.CommandId)
}

func (f *ssmFixture) get(id, instance string) (*ssm.GetCommandInvocationOutput, error) {
	return f.ssm.GetCommandInvocation(context.Background(), &ssm.GetCommandInvocationInput{CommandId: &id, InstanceId: &instance})
}

// wait polls until the invocation exists and is no longer Pending or
// InProgress, and returns it with the statuses seen on the way.
func (f *ssmFixture) wait(id, instance string) (*ssm.GetCommandInvocationOutput, []string) {
	f.t.Helper()
	var seen []string
	for range 20 {
		out, err := f.get(id, instance)
		if code(err) == "InvocationDoesNotExist" {
			seen = append(seen, "InvocationDoesNotExist")
			continue
		}
		if err != nil {
			f.t.Fatalf("GetCommandInvocation: %v", err)
		}
		seen = append(seen, string(out.Status))
		if out.Status != types.CommandInvocationStatusPending && out.Status != types.CommandInvocationStatusInProgress {
			return out, seen
		}
	}
	f.t.Fatalf("invocation %s on %s never ended: %v", id, instance, seen)
	return nil, nil
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestSSMRunCommandScripts(t *testing.T) {
	f := newSSMFixture(t)
	for _, tc := range []struct {
		name, instance, doc, command string
		wantSeen                     []string
		wantStatus                   types.CommandInvocationStatus
		wantCode                     int32
		wantStdout, wantStderr       string
	}{
		{"instance script before account script", ssmWeb1, "AWS-RunShellScript", "uptime", []string{"InvocationDoesNotExist", "Success"}, "Success", 0, " 10:00:00 up 1 day\n", ""},
		{"account script", ssmNoRole, "AWS-RunShellScript", "uptime", []string{"InvocationDoesNotExist", "Success"}, "Success", 0, " 10:00:00 up 3 days\n", ""},
		{"failing script", ssmWeb1, "AWS-RunShellScript", "echo x; exit 3", []string{"InvocationDoesNotExist", "Failed"}, "Failed", 3, "", "boom\n"},
		{"in progress for two polls", ssmWeb1, "AWS-RunShellScript", "sleep 60", []string{"InvocationDoesNotExist", "InProgress", "InProgress", "Success"}, "Success", 0, "done\n", ""},
		{"unscripted command", ssmWeb1, "AWS-RunShellScript", "true", []string{"InvocationDoesNotExist", "Success"}, "Success", 0, "", ""},
		{"windows script", ssmWin1, "AWS-RunPowerShellScript", "Get-Date", []string{"InvocationDoesNotExist", "Success"}, "Success", 0, "Monday\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := f.send(tc.doc, tc.instance, tc.command)
			out, seen := f.wait(id, tc.instance)
			if diff := cmp.Diff(seen, tc.wantSeen); diff != "" {
				t.Errorf("statuses seen (-got +want):\n%s", diff)
			}
			got := []any{out.Status, out.ResponseCode, aws.ToString(out.StandardOutputContent), aws.ToString(out.StandardErrorContent), aws.ToString(out.CommandId), aws.ToString(out.InstanceId)}
			want := []any{tc.wantStatus, tc.wantCode, tc.wantStdout, tc.wantStderr, id, tc.instance}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("invocation (-got +want):\n%s", diff)
			}
			if aws.ToString(out.StatusDetails) != string(tc.wantStatus) || aws.ToString(out.ExecutionEndDateTime) == "" {
				t.Errorf("StatusDetails %q, ExecutionEndDateTime %q", aws.ToString(out.StatusDetails), aws.ToString(out.ExecutionEndDateTime))
			}
		})
	}

	// A delay runs on the sandbox clock.
	id := f.send("AWS-RunShellScript", ssmWeb1, "slow-on-clock")
	_, _ = f.get(id, ssmWeb1) // the lag
	out, err := f.get(id, ssmWeb1)
	if err != nil || out.Status != types.CommandInvocationStatusInProgress || out.ResponseCode != -1 {
		t.Fatalf("before the delay: %v, %+v; want InProgress with response code -1", err, out)
	}
	f.clock.advance(time.Minute)
	out, err = f.get(id, ssmWeb1)
	if err != nil || out.Status != types.CommandInvocationStatusSuccess || aws.ToString(out.StandardOutputContent) != "late\n" {
		t.Fatalf("after the delay: %v, %+v; want Success with late", err, out)
	}
	if got := aws.ToString(out.ExecutionElapsedTime); got != "PT60.000S" {
		t.Errorf("ExecutionElapsedTime %s, want PT60.000S", got)
	}

	// ListCommandInvocations shows the newest first, with plugin output.
	list, err := f.ssm.ListCommandInvocations(context.Background(), &ssm.ListCommandInvocationsInput{InstanceId: aws.String(ssmWeb1), Details: true, MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.CommandInvocations) != 2 || aws.ToString(list.CommandInvocations[0].CommandId) != id || list.NextToken == nil {
		t.Fatalf("ListCommandInvocations: %d invocations, first %s, next %v; want 2, %s first, more", len(list.CommandInvocations), aws.ToString(list.CommandInvocations[0].CommandId), list.NextToken, id)
	}
	plugins := list.CommandInvocations[0].CommandPlugins
	if len(plugins) != 1 || aws.ToString(plugins[0].Name) != "aws:runShellScript" || aws.ToString(plugins[0].Output) != "late\n" {
		t.Errorf("plugins %+v; want aws:runShellScript with output late", plugins)
	}
	var all int
	p := ssm.NewListCommandInvocationsPaginator(f.ssm, &ssm.ListCommandInvocationsInput{InstanceId: aws.String(ssmWeb1), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all += len(page.CommandInvocations)
	}
	if all != 5 {
		t.Errorf("paged through %d invocations on web-1, want 5", all)
	}
}

func TestSSMErrors(t *testing.T) {
	f := newSSMFixture(t)
	ctx := context.Background()
	sent := f.send("AWS-RunShellScript", ssmWeb1, "uptime")
	send := func(doc string, ids []string, params map[string][]string, timeout *int32) error {
		_, err := f.ssm.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String(doc), InstanceIds: ids, Parameters: params, TimeoutSeconds: timeout})
		return err
	}
	cmds := map[string][]string{"commands": {"uptime"}}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"unknown document", func() error { return send("AWS-RunEverything", []string{ssmWeb1}, cmds, nil) }, "InvalidDocument"},
		{"unmanaged instance", func() error { return send("AWS-RunShellScript", []string{ssmBastion}, cmds, nil) }, "InvalidInstanceId"},
		{"stopped instance", func() error { return send("AWS-RunShellScript", []string{ssmParked}, cmds, nil) }, "InvalidInstanceId"},
		{"unknown instance", func() error { return send("AWS-RunShellScript", []string{"i-0fffffffffffffff0"}, cmds, nil) }, "InvalidInstanceId"},
		{"shell script on windows", func() error { return send("AWS-RunShellScript", []string{ssmWin1}, cmds, nil) }, "UnsupportedPlatformType"},
		{"no commands", func() error {
			return send("AWS-RunShellScript", []string{ssmWeb1}, map[string][]string{"commands": {" "}}, nil)
		}, "InvalidParameters"},
		{"unknown parameter", func() error {
			return send("AWS-RunShellScript", []string{ssmWeb1}, map[string][]string{"commands": {"id"}, "shell": {"zsh"}}, nil)
		}, "InvalidParameters"},
		{"timeout too short", func() error { return send("AWS-RunShellScript", []string{ssmWeb1}, cmds, aws.Int32(5)) }, "ValidationException"},
		{"duplicate instance", func() error { return send("AWS-RunShellScript", []string{ssmWeb1, ssmWeb1}, cmds, nil) }, "DuplicateInstanceId"},
		{"unknown command", func() error { _, err := f.get("00000000-0000-0000-0000-000000000000", ssmWeb1); return err }, "InvocationDoesNotExist"},
		{"instance not in command", func() error { _, err := f.get(sent, ssmWin1); return err }, "InvocationDoesNotExist"},
		{"malformed command id", func() error { _, err := f.get("abc", ssmWeb1); return err }, "ValidationException"},
		{"wrong plugin", func() error {
			_, err := f.ssm.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: &sent, InstanceId: aws.String(ssmWeb1), PluginName: aws.String("aws:runPowerShellScript")})
			return err
		}, "InvalidPluginName"},
		{"list unknown command", func() error {
			_, err := f.ssm.ListCommandInvocations(ctx, &ssm.ListCommandInvocationsInput{CommandId: aws.String("00000000-0000-0000-0000-000000000000")})
			return err
		}, "InvalidCommandId"},
		{"bad filter key", func() error {
			_, err := f.ssm.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("Colour"), Values: []string{"red"}}}})
			return err
		}, "InvalidFilterKey"},
		{"both filter lists", func() error {
			_, err := f.ssm.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
				Filters:                       []types.InstanceInformationStringFilter{{Key: aws.String("PingStatus"), Values: []string{"Online"}}},
				InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyPingStatus, ValueSet: []string{"Online"}}},
			})
			return err
		}, "InvalidFilter"},
		{"two resource types", func() error {
			_, err := f.ssm.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{{Key: aws.String("ResourceType"), Values: []string{"EC2Instance", "ManagedInstance"}}}})
			return err
		}, "InvalidInstanceInformationFilterValue"},
		{"bad next token", func() error {
			_, err := f.ssm.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{NextToken: aws.String("nope")})
			return err
		}, "InvalidNextToken"},
		{"operation not simulated", func() error {
			_, err := f.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("x")})
			return err
		}, "NotImplemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.want {
				t.Errorf("error code %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSSMDescribeInstanceInformation(t *testing.T) {
	f := newSSMFixture(t)
	got := map[string]string{}
	p := ssm.NewDescribeInstanceInformationPaginator(f.ssm, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, in := range page.InstanceInformationList {
			got[aws.ToString(in.InstanceId)] = string(in.PingStatus) + "/" + string(in.PlatformType) + "/" + string(in.ResourceType)
		}
	}
	want := map[string]string{
		ssmWeb1: "Online/Linux/EC2Instance", ssmWeb2: "ConnectionLost/Linux/EC2Instance", ssmWin1: "Online/Windows/EC2Instance",
		ssmNoRole: "Online/Linux/EC2Instance", ssmParked: "ConnectionLost/Linux/EC2Instance",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("managed instances (-got +want):\n%s", diff)
	}
	one, err := f.ssm.DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{
		InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyInstanceIds, ValueSet: []string{ssmWeb1, ssmBastion}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.InstanceInformationList) != 1 || aws.ToString(one.InstanceInformationList[0].InstanceId) != ssmWeb1 {
		t.Fatalf("InstanceIds filter %s and the unmanaged bastion: %+v; want web-1 only", ssmWeb1, one.InstanceInformationList)
	}
	info := one.InstanceInformationList[0]
	if info.LastPingDateTime == nil || !info.LastPingDateTime.Equal(f.clock.now()) || !strings.HasPrefix(aws.ToString(info.ComputerName), "ip-") {
		t.Errorf("web-1: LastPingDateTime %v (want %v), ComputerName %q", info.LastPingDateTime, f.clock.now(), aws.ToString(info.ComputerName))
	}
	offline, err := f.ssm.DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{
		Filters: []types.InstanceInformationStringFilter{{Key: aws.String("PingStatus"), Values: []string{"ConnectionLost"}}},
	})
	if err != nil || len(offline.InstanceInformationList) != 2 {
		t.Errorf("PingStatus=ConnectionLost: %v, %d instances; want web-2 and the stopped one", err, len(offline.InstanceInformationList))
	}
}

func TestSSMOfflineDeliveryTimesOut(t *testing.T) {
	f := newSSMFixture(t)
	out, err := f.ssm.SendCommand(context.Background(), &ssm.SendCommandInput{
		DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{ssmWeb2},
		Parameters: map[string][]string{"commands": {"uptime"}}, TimeoutSeconds: aws.Int32(30),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Command.CommandId)
	_, _ = f.get(id, ssmWeb2) // the lag
	inv, err := f.get(id, ssmWeb2)
	if err != nil || inv.Status != types.CommandInvocationStatusPending {
		t.Fatalf("offline instance: %v, %s; want Pending", err, inv.Status)
	}
	f.clock.advance(31 * time.Second)
	inv, err = f.get(id, ssmWeb2)
	if err != nil || inv.Status != types.CommandInvocationStatusTimedOut || aws.ToString(inv.StatusDetails) != "DeliveryTimedOut" || inv.ResponseCode != -1 {
		t.Fatalf("after the delivery timeout: %v, %+v; want TimedOut/DeliveryTimedOut, -1", err, inv)
	}
}

// imdsScript reads role credentials from IMDSv2 and prints only the
// fields that are not secret.
const imdsScript = `TOKEN=$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
ROLE=$(curl -sSf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/)
curl -sSf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/security-credentials/$ROLE | grep -E '"(Code|LastUpdated|Type|AccessKeyId|Expiration)"'`

func (f *ssmFixture) imds(instance, doc string) (sandbox.IMDSCredentialsOutput, *ssm.GetCommandInvocationOutput) {
	f.t.Helper()
	out, _ := f.wait(f.send(doc, instance, imdsScript), instance)
	var c sandbox.IMDSCredentialsOutput
	if out.Status == types.CommandInvocationStatusSuccess {
		if err := json.Unmarshal([]byte(aws.ToString(out.StandardOutputContent)), &c); err != nil {
			f.t.Fatalf("IMDS output %q: %v", aws.ToString(out.StandardOutputContent), err)
		}
	}
	for _, secret := range []string{"SecretAccessKey", "Token\""} {
		if strings.Contains(aws.ToString(out.StandardOutputContent)+aws.ToString(out.StandardErrorContent), secret) {
			f.t.Errorf("IMDS emulation shows %s", secret)
		}
	}
	return c, out
}

func TestSSMIMDSCredentials(t *testing.T) {
	f := newSSMFixture(t)
	ctx := context.Background()
	seeded := f.clock.now()
	before, _ := f.imds(ssmWeb1, "AWS-RunShellScript")
	want := sandbox.IMDSCredentialsOutput{
		Role: "app", Code: "Success", Type: "AWS-HMAC", AccessKeyID: before.AccessKeyID,
		LastUpdated: seeded.Add(time.Second).Format(time.RFC3339), Expiration: seeded.Add(time.Second + 6*time.Hour).Format(time.RFC3339),
	}
	if diff := cmp.Diff(before, want); diff != "" || !strings.HasPrefix(before.AccessKeyID, "ASIA") || len(before.AccessKeyID) != 20 {
		t.Errorf("credentials at launch (-got +want):\n%s", diff)
	}
	if c, ok := f.sb.EC2InstanceCredentials(ssmAccount, ssmRegion, ssmWeb1); !ok || c.AccessKeyID != before.AccessKeyID || !c.Issued.Equal(seeded.Add(time.Second)) {
		t.Errorf("EC2InstanceCredentials = %+v, %v; want the key IMDS showed", c, ok)
	}

	// A new association hands out new credentials.
	f.clock.advance(time.Hour)
	assoc, err := f.ec2.DescribeIamInstanceProfileAssociations(ctx, &awsec2.DescribeIamInstanceProfileAssociationsInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{ssmWeb1}}}})
	if err != nil || len(assoc.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("associations of web-1: %v, %+v", err, assoc)
	}
	if _, err := f.ec2.ReplaceIamInstanceProfileAssociation(ctx, &awsec2.ReplaceIamInstanceProfileAssociationInput{
		AssociationId:      assoc.IamInstanceProfileAssociations[0].AssociationId,
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app-v2")},
	}); err != nil {
		t.Fatal(err)
	}
	after, _ := f.imds(ssmWeb1, "AWS-RunShellScript")
	if after.Role != "app-v2" || after.LastUpdated != seeded.Add(time.Hour+time.Second).Format(time.RFC3339) || after.AccessKeyID == before.AccessKeyID {
		t.Errorf("after ReplaceIamInstanceProfileAssociation: %+v; want role app-v2, issued an hour later, a new key", after)
	}

	// Credentials past their expiration have been renewed.
	f.clock.advance(7 * time.Hour)
	renewed, _ := f.imds(ssmWeb1, "AWS-RunShellScript")
	if renewed.LastUpdated != after.Expiration {
		t.Errorf("after 7h: issued %s, want the old expiration %s", renewed.LastUpdated, after.Expiration)
	}

	// Stop and start: new credentials from the start.
	for _, op := range []func() error{
		func() error {
			_, err := f.ec2.StopInstances(ctx, &awsec2.StopInstancesInput{InstanceIds: []string{ssmWeb1}})
			return err
		},
		func() error {
			f.clock.advance(10 * time.Minute)
			_, err := f.ec2.StartInstances(ctx, &awsec2.StartInstancesInput{InstanceIds: []string{ssmWeb1}})
			return err
		},
	} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	started, _ := f.imds(ssmWeb1, "AWS-RunShellScript")
	if want := f.clock.now().Add(time.Second).Format(time.RFC3339); started.LastUpdated != want {
		t.Errorf("after stop and start: issued %s, want %s", started.LastUpdated, want)
	}

	// Windows runs the PowerShell version.
	win, _ := f.imds(ssmWin1, "AWS-RunPowerShellScript")
	if win.Role != "app" || win.Code != "Success" {
		t.Errorf("windows: %+v", win)
	}

	// No profile: IMDS answers 404 and the script fails.
	_, out := f.imds(ssmNoRole, "AWS-RunShellScript")
	if out.Status != types.CommandInvocationStatusFailed || out.ResponseCode != 22 || !strings.Contains(aws.ToString(out.StandardErrorContent), "404") {
		t.Errorf("no profile: %s, code %d, stderr %q; want Failed, 22, a 404", out.Status, out.ResponseCode, aws.ToString(out.StandardErrorContent))
	}
}

func TestSSMTrail(t *testing.T) {
	f := newSSMFixture(t)
	id := f.send("AWS-RunShellScript", ssmWeb1, "uptime")
	f.wait(id, ssmWeb1)
	var send, get *sandbox.TrailRecord
	for _, r := range f.sb.Trail() {
		if r.EventSource != "ssm.amazonaws.com" {
			continue
		}
		switch r.EventName {
		case "SendCommand":
			send = &r
		case "GetCommandInvocation":
			get = &r
		}
	}
	if send == nil || get == nil {
		t.Fatal("SendCommand or GetCommandInvocation not in the trail")
	}
	var params map[string]any
	if err := json.Unmarshal(send.RequestParameters, &params); err != nil {
		t.Fatal(err)
	}
	if params["parameters"] != "HIDDEN_DUE_TO_SECURITY_REASONS" || params["documentName"] != "AWS-RunShellScript" || strings.Contains(string(send.RequestParameters), "uptime") {
		t.Errorf("SendCommand requestParameters %s; want the document and hidden parameters", send.RequestParameters)
	}
	wantRes := []sandbox.RecordRes{{ARN: "arn:aws:ec2:us-east-1:111111111111:instance/" + ssmWeb1, AccountID: ssmAccount, Type: "AWS::EC2::Instance"}}
	if diff := cmp.Diff(send.Resources, wantRes); diff != "" || send.ReadOnly {
		t.Errorf("SendCommand resources (-got +want):\n%s\nreadOnly %v", diff, send.ReadOnly)
	}
	if !get.ReadOnly || !strings.Contains(string(get.RequestParameters), id) {
		t.Errorf("GetCommandInvocation readOnly %v, params %s", get.ReadOnly, get.RequestParameters)
	}
}

// TestSSMWorldErrors loads each fixture in testdata/ssm-errors; the first
// line says which error it must give.
func TestSSMWorldErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/ssm-errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want := strings.TrimPrefix(first, "# want: ")
			w, err := sandbox.ParseWorld(filepath.Base(file), data)
			if err == nil {
				_, err = sandbox.New(sandbox.Options{World: w})
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v\nwant one containing %q", err, want)
			}
		})
	}
}

// TestSSMProfileMakesManaged: by default an instance is managed once it
// has a profile, and its credentials date from the association.
func TestSSMProfileMakesManaged(t *testing.T) {
	f := newSSMFixture(t)
	ctx := context.Background()
	managed := func() bool {
		out, err := f.ssm.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
			Filters: []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{ssmBastion}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.InstanceInformationList) == 1
	}
	if managed() {
		t.Fatal("the bastion has no profile but is managed")
	}
	f.clock.advance(5 * time.Minute)
	if _, err := f.ec2.AssociateIamInstanceProfile(ctx, &awsec2.AssociateIamInstanceProfileInput{
		InstanceId: aws.String(ssmBastion), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("app")},
	}); err != nil {
		t.Fatal(err)
	}
	if !managed() {
		t.Fatal("the bastion has a profile now but is not managed")
	}
	c, _ := f.imds(ssmBastion, "AWS-RunShellScript")
	if want := f.clock.now().Add(time.Second).Format(time.RFC3339); c.Role != "app" || c.LastUpdated != want {
		t.Errorf("bastion credentials %+v; want role app issued %s", c, want)
	}
}
