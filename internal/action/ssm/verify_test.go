package ssm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/action/ssm"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account = "111111111111"
	region  = "us-east-1"

	web1     = "i-0c0000000000000a1"
	offline  = "i-0c0000000000000a2"
	bastion  = "i-0c0000000000000a3"
	win1     = "i-0c0000000000000a4"
	noRole   = "i-0c0000000000000a5"
	broken   = "i-0c0000000000000a6"
	leaky    = "i-0c0000000000000a7"
	leakyErr = "i-0c0000000000000a8"
	slow     = "i-0c0000000000000a9"
	parked   = "i-0c000000000000aa0"

	// leakedSecret is the secret key and token the leaky instances'
	// scripts print.
	leakedSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzLEAKYSECRET"
	leakedToken  = "IQoJb3JpZ2luX2VjLEAKYSESSIONTOKEN"
)

type fixture struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	clock   *actiontest.Clock
	clients actiontest.Clients
	log     *actiontest.Log
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := actiontest.NewClock(time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC))
	sb := sandboxtest.New(t, sandbox.Options{World: w, Seed: 9, Clock: c.Now})
	// The log must show neither the world's secrets nor those from IMDS.
	f := &fixture{t: t, sb: sb, clock: c, clients: actiontest.Admin(t, sb), log: actiontest.NewLog(t, sb, leakedSecret, leakedToken)}
	return f
}

func (f *fixture) call(step string, params action.Values) action.Call {
	return actiontest.Caller{Clients: f.clients, Target: action.Target{Account: account, Region: region}, Incident: "inc-7", Log: f.log}.Call(step, params)
}

// params are the action's params with its defaults.
func params(id string, extra ...string) action.Values {
	vs := action.Values{"instance_id": action.StringValue(id), "timeout": action.DurationValue(5 * time.Second)}
	for i := 0; i+1 < len(extra); i += 2 {
		vs[extra[i]] = action.StringValue(extra[i+1])
	}
	return vs
}

var verify = ssm.VerifyCredentialsRotated{Poll: 2 * time.Millisecond}

// sends counts the SendCommand calls in the trail.
func (f *fixture) sends() int {
	n := 0
	for _, r := range f.sb.Trail() {
		if r.EventName == "SendCommand" && r.ErrorCode == "" {
			n++
		}
	}
	return n
}

func TestMetaRegisters(t *testing.T) {
	if _, err := action.NewRegistry(verify); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAfterRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seeded := f.clock.Now()

	// No cutoff anywhere: a permanent error that says what to do.
	_, err := verify.Do(ctx, f.call("verify", params(web1)))
	if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), ec2.RotatedTag) || !strings.Contains(err.Error(), "after") {
		t.Fatalf("no tag, no after: %v (%s); want a permanent error naming the tag and after", err, action.Classify(err))
	}

	// Before the rotation the instance still has its launch credentials.
	f.clock.Advance(time.Hour)
	cutoff := f.clock.Now().Format(time.RFC3339)
	stale, err := verify.Do(ctx, f.call("verify-before", params(web1, "after", cutoff)))
	if err != nil {
		t.Fatal(err)
	}
	if stale.Bool("verified") || stale.Str("issued") != seeded.Add(time.Second).Format(time.RFC3339) || !strings.Contains(stale.Str("reason"), "stale") {
		t.Errorf("before the rotation: %v; want not verified, issued at launch, stale", stale)
	}

	// Rotate, then verify from the tag the rotation wrote.
	f.clock.Advance(time.Minute)
	rotated, err := ec2.RotateInstanceCredentials{Now: f.clock.Now}.Do(ctx, f.call("rotate", action.Values{"instance_id": action.StringValue(web1), "restart": action.BoolValue(false)}))
	if err != nil {
		t.Fatal(err)
	}
	call := f.call("verify", params(web1))
	sent := f.sends()
	planned, err := verify.Check(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range planned {
		ops = append(ops, c.Operation)
	}
	wantOps := []string{"ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "ssm:ListCommandInvocations", "ssm:SendCommand", "ssm:GetCommandInvocation"}
	if diff := cmp.Diff(ops, wantOps); diff != "" || f.sends() != sent {
		t.Errorf("Check (-got +want):\n%s\nsent %d commands", diff, f.sends()-sent)
	}
	out, err := verify.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := f.sb.EC2InstanceCredentials(account, region, web1)
	want := action.Values{
		"verified": action.BoolValue(true), "issued": action.StringValue(rotated.Str("cutoff")), "role": action.StringValue("app"),
		"access_key_id": action.StringValue(creds.AccessKeyID), "cutoff": action.StringValue(rotated.Str("cutoff")),
		"command_id": out["command_id"], "reason": action.StringValue(""),
	}
	if diff := cmp.Diff(out.String(), want.String()); diff != "" || out.Str("command_id") == "" {
		t.Errorf("after the rotation (-got +want):\n%s", diff)
	}

	// A run of the same step finds its command and sends no other.
	n := f.sends()
	again, err := verify.Do(ctx, call)
	if err != nil || !again.Bool("verified") || again.Str("command_id") != out.Str("command_id") || f.sends() != n {
		t.Errorf("second run: %v, %v, %d sends (was %d); want the same command, verified", err, again, f.sends(), n)
	}

	// A dry run sends nothing.
	dry := f.call("verify-dry", params(web1))
	dry.DryRun = true
	if out, err := verify.Do(ctx, dry); err != nil || out.Bool("verified") || f.sends() != n {
		t.Errorf("dry run: %v, %v, %d sends; want no command", out, err, f.sends())
	}
}

func TestVerifyNotVerified(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.clock.Advance(time.Minute)
	cutoff := f.clock.Now().Add(-30 * time.Second).Format(time.RFC3339)
	for _, tc := range []struct {
		name, instance, wantReason string
		wantCommand                bool
	}{
		{"not managed", bastion, "not managed by SSM", false},
		{"agent offline", offline, "ConnectionLost", false},
		{"stopped", parked, "the instance is stopped", false},
		{"no role", noRole, "no role: the metadata service has no credentials (404)", true},
		{"script failed", broken, "the credential check Failed (Failed, exit code 7): curl: (7) Failed to connect to 169.254.169.254 port 80", true},
		{"secret in the error output", leakyErr, "the credential check Failed (Failed, exit code 1): <redacted>", true},
		{"stale credentials on windows", win1, "stale credentials: issued 2026-05-04T09:30:01Z, before the cutoff 2026-05-04T09:30:30Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := verify.Do(ctx, f.call("verify-"+tc.instance, params(tc.instance, "after", cutoff)))
			if err != nil {
				t.Fatal(err)
			}
			if out.Bool("verified") || !strings.Contains(out.Str("reason"), tc.wantReason) || (out.Str("command_id") != "") != tc.wantCommand {
				t.Errorf("outputs %v; want not verified, reason containing %q, a command: %v", out, tc.wantReason, tc.wantCommand)
			}
			if strings.Contains(out.String(), leakedSecret) {
				t.Errorf("outputs carry the secret: %v", out)
			}
		})
	}
}

func TestVerifyWindowsSendsPowerShell(t *testing.T) {
	f := newFixture(t)
	if _, err := verify.Do(context.Background(), f.call("verify", params(win1, "after", "2026-01-01T00:00:00Z"))); err != nil {
		t.Fatal(err)
	}
	var doc string
	for _, r := range f.sb.Trail() {
		if r.EventName == "SendCommand" {
			doc = string(r.RequestParameters)
		}
	}
	if !strings.Contains(doc, `"documentName":"AWS-RunPowerShellScript"`) {
		t.Errorf("SendCommand to a Windows instance: %s; want AWS-RunPowerShellScript", doc)
	}
	// platform overrides what SSM reports: the shell script is refused.
	_, err := verify.Do(context.Background(), f.call("verify-linux", params(win1, "after", "2026-01-01T00:00:00Z", "platform", "linux")))
	if action.ErrorCode(err) != "UnsupportedPlatformType" {
		t.Errorf("shell script to Windows: %v; want UnsupportedPlatformType", err)
	}
}

func TestVerifySecretsNeverLeave(t *testing.T) {
	f := newFixture(t)
	out, err := verify.Do(context.Background(), f.call("verify", params(leaky, "after", "2029-01-01T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Bool("verified") || out.Str("access_key_id") != "ASIALEAKYLEAKYLEAKY1" {
		t.Errorf("outputs %v; want verified with the key id", out)
	}
	for _, secret := range []string{leakedSecret, leakedToken} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("outputs carry a secret: %v", out)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		params    action.Values
		wantClass action.Class
		wantText  string
	}{
		{"bad platform", params(web1, "after", "2026-01-01T00:00:00Z", "platform", "macos"), action.Permanent, "param platform"},
		{"bad after", params(web1, "after", "yesterday"), action.Permanent, "param after"},
		{"unknown instance", params("i-0ffffffffffffff00", "after", "2026-01-01T00:00:00Z"), action.Permanent, "i-0ffffffffffffff00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.Do(ctx, f.call("verify", tc.params))
			if err == nil || action.Classify(err) != tc.wantClass || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %v (%s); want %s containing %q", err, action.Classify(err), tc.wantClass, tc.wantText)
			}
		})
	}

	// Still running at the timeout: retry, and the retry polls the same
	// command.
	p := params(slow, "after", "2026-01-01T00:00:00Z")
	p["timeout"] = action.DurationValue(50 * time.Millisecond)
	_, err := verify.Do(ctx, f.call("verify-slow", p))
	if action.Classify(err) != action.Retry || !strings.Contains(err.Error(), "InProgress") {
		t.Fatalf("timeout: %v (%s); want a retry, still InProgress", err, action.Classify(err))
	}
	n := f.sends()
	if _, err := verify.Do(ctx, f.call("verify-slow", p)); action.Classify(err) != action.Retry || f.sends() != n {
		t.Errorf("retry: %v, %d sends (was %d); want the same command polled again", err, f.sends(), n)
	}
}
