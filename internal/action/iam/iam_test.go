package iam_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/iam"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account    = "111111111111"
	attackerIP = "203.0.113.66"
)

// fixture is a sandbox with the test world, the responder's clients and
// the ids of the keys the tests play with.
type fixture struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	clients actiontest.Clients
	log     *actiontest.Log
	leaked  string // dana's key that leaks
	spare   string // dana's other key
	erin    string // a bystander's key
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{World: w, Seed: 7})
	f := &fixture{t: t, sb: sb, clients: actiontest.Admin(t, sb), log: actiontest.NewLog(t, sb)}
	var dana []string
	for _, k := range sb.Keys() {
		switch k.UserName {
		case "dana":
			dana = append(dana, k.AccessKeyID)
		case "erin":
			f.erin = k.AccessKeyID
		}
	}
	if len(dana) != 2 || f.erin == "" {
		t.Fatalf("world: dana has keys %v, erin %q; want two and one", dana, f.erin)
	}
	f.leaked, f.spare = dana[0], dana[1]
	return f
}

// call builds a call of the responder in the test account.
func (f *fixture) call(params action.Values) action.Call {
	return actiontest.Caller{Clients: f.clients, Target: action.Target{Account: account, Region: "us-east-1"}, Incident: "inc-1", Log: f.log}.Call("contain", params)
}

// creds returns the credentials of an issued key.
func (f *fixture) creds(keyID string) sandbox.Credentials {
	f.t.Helper()
	c, err := f.sb.KeyCredentials(keyID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// iamAs returns an IAM client signing with creds from ip.
func (f *fixture) iamAs(creds sandbox.Credentials, ip string) *awsiam.Client {
	return awsiam.NewFromConfig(sandboxtest.Config(f.t, f.sb, creds, sandbox.WithSourceIP(ip)))
}

func (f *fixture) stsAs(creds sandbox.Credentials, ip string) *sts.Client {
	return sts.NewFromConfig(sandboxtest.Config(f.t, f.sb, creds, sandbox.WithSourceIP(ip)))
}

// status returns a key's status in the sandbox, "" when it is gone.
func (f *fixture) status(keyID string) string {
	for _, k := range f.sb.Keys() {
		if k.AccessKeyID == keyID {
			return k.Status
		}
	}
	return ""
}

// keys returns the status of every key, by id.
func (f *fixture) keys() map[string]string {
	out := map[string]string{}
	for _, k := range f.sb.Keys() {
		out[k.AccessKeyID] = k.Status
	}
	return out
}

// mark is the position in the trail; writesSince lists the names of the
// successful calls that change something recorded after it.
func (f *fixture) mark() int { return len(f.sb.Trail()) }

func (f *fixture) writesSince(mark int) []string { return actiontest.WritesSince(f.sb, mark) }

// errorCode returns the AWS error code of err, "" when there is none.
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestCompromisedKeyResponse plays the exposed-key scenario: an attacker
// uses one of dana's two keys, assumes a role and gets a session; the
// responder disables the key and revokes sessions.
func TestCompromisedKeyResponse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	leaked := f.creds(f.leaked)
	attacker := f.iamAs(leaked, attackerIP)
	if _, err := attacker.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Fatalf("attacker recon: %v", err)
	}
	if _, err := attacker.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("backup-svc")}); err != nil {
		t.Fatalf("attacker persistence: %v", err)
	}
	roleOut, err := f.stsAs(leaked, attackerIP).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/deploy"), RoleSessionName: aws.String("ops-1")})
	if err != nil {
		t.Fatalf("attacker assume role: %v", err)
	}
	c := roleOut.Credentials
	session := f.iamAs(sandbox.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, attackerIP)

	// Disable exactly the leaked key.
	mark := f.mark()
	got, err := (iam.DisableAccessKey{}).Do(ctx, f.call(action.Values{"access_key_id": action.StringValue(f.leaked)}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.writesSince(mark), []string{"UpdateAccessKey"}); diff != "" {
		t.Errorf("writes (-got +want):\n%s", diff)
	}
	for _, k := range []struct{ id, want string }{{f.leaked, "Inactive"}, {f.spare, "Active"}, {f.erin, "Active"}} {
		if got := f.status(k.id); got != k.want {
			t.Errorf("key %s is %s, want %s", k.id, got, k.want)
		}
	}
	if got.Str("user") != "dana" || got.Str("previous_status") != "Active" || got.Str("last_used_service") != "sts" || got.Str("last_used_region") != "us-east-1" {
		t.Errorf("outputs = %v; want user dana, previous_status Active, last used sts in us-east-1", got)
	}
	if _, err := time.Parse(time.RFC3339, got.Str("last_used_time")); err != nil {
		t.Errorf("last_used_time: %v", err)
	}
	if _, err := attacker.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Errorf("attacker's call after disable: err %v, want InvalidClientTokenId", err)
	}
	if _, err := f.iamAs(f.creds(f.spare), "127.0.0.1").ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("dana's other key stopped working: %v", err)
	}

	// The role session outlives the key until sessions are revoked.
	if _, err := session.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Fatalf("role session before revoke: %v", err)
	}
	rv, err := (iam.RevokeSessions{}).Do(ctx, f.call(action.Values{"role": action.StringValue("deploy")}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := session.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("role session issued before revoke: err %v, want AccessDenied", err)
	}
	// A session issued after the cutoff works.
	cutoff, err := time.Parse(time.RFC3339, rv.Str("cutoff"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(cutoff.Add(50 * time.Millisecond)))
	fresh, err := f.stsAs(f.creds(f.spare), "127.0.0.1").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/deploy"), RoleSessionName: aws.String("ops-2")})
	if err != nil {
		t.Fatal(err)
	}
	fc := fresh.Credentials
	if _, err := f.iamAs(sandbox.Credentials{AccessKeyID: *fc.AccessKeyId, SecretAccessKey: *fc.SecretAccessKey, SessionToken: *fc.SessionToken}, "127.0.0.1").ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("session issued after the cutoff: %v", err)
	}
	// The bystander's key was never touched.
	if _, err := f.iamAs(f.creds(f.erin), "127.0.0.1").ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("erin's key: %v", err)
	}
}

// TestRevokeUserSessions: on a user the policy refuses sessions issued
// from the user's keys before the cutoff, and leaves the keys working.
func TestRevokeUserSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	spare := f.creds(f.spare)
	tok, err := f.stsAs(spare, "127.0.0.1").GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	tc := tok.Credentials
	session := f.iamAs(sandbox.Credentials{AccessKeyID: *tc.AccessKeyId, SecretAccessKey: *tc.SecretAccessKey, SessionToken: *tc.SessionToken}, "127.0.0.1")
	if _, err := (iam.RevokeSessions{}).Do(ctx, f.call(action.Values{"user": action.StringValue("dana")})); err != nil {
		t.Fatal(err)
	}
	if _, err := session.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("user session issued before revoke: err %v, want AccessDenied", err)
	}
	if _, err := f.iamAs(spare, "127.0.0.1").ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("dana's long-term key after revoke: %v", err)
	}
}

// TestRevokeCutoffOnlyMovesForward: a later run moves the cutoff forward;
// a run whose clock is behind the policy's cutoff leaves it.
func TestRevokeCutoffOnlyMovesForward(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	base := time.Now().UTC().Truncate(time.Second)
	run := func(now time.Time, incident string) action.Values {
		t.Helper()
		call := f.call(action.Values{"role": action.StringValue("deploy")})
		call.Key.Incident = incident
		vs, err := iam.RevokeSessions{Now: func() time.Time { return now }}.Do(ctx, call)
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	tests := []struct {
		name        string
		now         time.Time
		incident    string
		wantCutoff  time.Time
		wantChanged bool
	}{
		{"first run", base, "a", base.Add(time.Second), true},
		{"later run moves it forward", base.Add(10 * time.Second), "b", base.Add(11 * time.Second), true},
		{"earlier clock leaves it", base.Add(3 * time.Second), "c", base.Add(11 * time.Second), false},
		{"retry of the same step leaves it", base.Add(20 * time.Second), "b", base.Add(11 * time.Second), false},
	}
	type result struct {
		Cutoff  string
		Changed bool
	}
	for _, tt := range tests {
		vs := run(tt.now, tt.incident)
		got := result{vs.Str("cutoff"), vs.Bool("changed")}
		want := result{tt.wantCutoff.Format(time.RFC3339), tt.wantChanged}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}
}

// TestIdempotent runs every action twice with the same call: the second
// run writes nothing and the state is the same.
func TestIdempotent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		act    action.Action
		params func(f *fixture) action.Values
		setup  func(f *fixture) // runs before the first run
		want   []string         // the writes of the first run; the second writes nothing
	}{
		{"disable_access_key", iam.DisableAccessKey{}, func(f *fixture) action.Values {
			return action.Values{"access_key_id": action.StringValue(f.leaked)}
		}, nil, []string{"UpdateAccessKey"}},
		{"delete_access_key", iam.DeleteAccessKey{}, func(f *fixture) action.Values {
			return action.Values{"access_key_id": action.StringValue(f.leaked), "user": action.StringValue("dana")}
		}, func(f *fixture) {
			if _, err := (iam.DisableAccessKey{}).Do(ctx, f.call(action.Values{"access_key_id": action.StringValue(f.leaked)})); err != nil {
				f.t.Fatal(err)
			}
		}, []string{"DeleteAccessKey"}},
		{"revoke_sessions", iam.RevokeSessions{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, nil, []string{"PutUserPolicy"}},
		{"quarantine_principal", iam.QuarantinePrincipal{}, func(*fixture) action.Values {
			return action.Values{"role": action.StringValue("deploy")}
		}, nil, []string{"PutRolePolicy"}},
		{"require_mfa", iam.RequireMFA{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, nil, []string{"PutUserPolicy"}},
		{"delete_login_profile", iam.DeleteLoginProfile{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, nil, []string{"DeleteLoginProfile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			call := f.call(tt.params(f))
			if err := tt.act.Meta().CheckParams(call.Params); err != nil {
				t.Fatal(err)
			}
			mark := f.mark()
			first, err := tt.act.Do(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(f.writesSince(mark), tt.want); diff != "" {
				t.Errorf("first run's writes (-got +want):\n%s", diff)
			}
			keys := f.keys()
			mark = f.mark()
			second, err := tt.act.Do(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.writesSince(mark); len(got) != 0 {
				t.Errorf("second run wrote %v", got)
			}
			if diff := cmp.Diff(f.keys(), keys); diff != "" {
				t.Errorf("keys changed on the second run (-got +want):\n%s", diff)
			}
			for _, name := range []string{"user", "policy_name", "cutoff", "principal_arn"} {
				if !first[name].Equal(second[name]) {
					t.Errorf("output %s: first run %v, second %v", name, first[name], second[name])
				}
			}
		})
	}
}

// TestCheck: Check reports the exact calls Do then makes, and changes
// nothing: no write in the trail, no key changed.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	userARN := "arn:aws:iam::" + account + ":user/dana"
	roleARN := "arn:aws:iam::" + account + ":role/deploy"
	tests := []struct {
		name   string
		act    action.Action
		params func(f *fixture) action.Values
		want   func(f *fixture) []action.PlannedCall
	}{
		{"disable_access_key finds the user", iam.DisableAccessKey{}, func(f *fixture) action.Values {
			return action.Values{"access_key_id": action.StringValue(f.leaked)}
		}, func(f *fixture) []action.PlannedCall {
			return []action.PlannedCall{
				{Operation: "iam:GetAccessKeyLastUsed", Resource: f.leaked},
				{Operation: "iam:ListAccessKeys", Resource: userARN, Detail: "UserName=dana"},
				{Operation: "iam:UpdateAccessKey", Resource: f.leaked, Detail: "UserName=dana Status=Inactive"},
			}
		}},
		{"revoke_sessions on a role", iam.RevokeSessions{Now: func() time.Time { return now }}, func(*fixture) action.Values {
			return action.Values{"role": action.StringValue("deploy")}
		}, func(*fixture) []action.PlannedCall {
			return []action.PlannedCall{
				{Operation: "iam:GetRolePolicy", Resource: roleARN, Detail: "PolicyName=AWSRevokeOlderSessions"},
				{Operation: "iam:PutRolePolicy", Resource: roleARN, Detail: "PolicyName=AWSRevokeOlderSessions PolicyDocument=" +
					iam.RevokeDocument(now.Add(time.Second), "FirebreakRevoke"+action.Key{Incident: "inc-1", Step: "contain"}.Token())},
			}
		}},
		{"quarantine_principal on a user", iam.QuarantinePrincipal{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, func(*fixture) []action.PlannedCall {
			return []action.PlannedCall{
				{Operation: "iam:GetUserPolicy", Resource: userARN, Detail: "PolicyName=FirebreakQuarantine"},
				{Operation: "iam:PutUserPolicy", Resource: userARN, Detail: "PolicyName=FirebreakQuarantine PolicyDocument=" + iam.QuarantineDocument},
			}
		}},
		{"require_mfa on a user", iam.RequireMFA{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, func(*fixture) []action.PlannedCall {
			return []action.PlannedCall{
				{Operation: "iam:GetUserPolicy", Resource: userARN, Detail: "PolicyName=FirebreakRequireMFA"},
				{Operation: "iam:PutUserPolicy", Resource: userARN, Detail: "PolicyName=FirebreakRequireMFA PolicyDocument=" + iam.RequireMFADocument},
			}
		}},
		{"delete_login_profile", iam.DeleteLoginProfile{}, func(*fixture) action.Values {
			return action.Values{"user": action.StringValue("dana")}
		}, func(*fixture) []action.PlannedCall {
			return []action.PlannedCall{
				{Operation: "iam:GetLoginProfile", Resource: userARN, Detail: "UserName=dana"},
				{Operation: "iam:DeleteLoginProfile", Resource: userARN, Detail: "UserName=dana"},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			checker, ok := tt.act.(action.Checker)
			if !ok {
				t.Fatalf("%s does not implement Checker", tt.act.Meta().ID)
			}
			call := f.call(tt.params(f))
			keys, mark := f.keys(), f.mark()
			got, err := checker.Check(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want(f)); diff != "" {
				t.Errorf("planned calls (-got +want):\n%s", diff)
			}
			if w := f.writesSince(mark); len(w) != 0 {
				t.Errorf("Check wrote %v", w)
			}
			if diff := cmp.Diff(f.keys(), keys); diff != "" {
				t.Errorf("Check changed keys (-got +want):\n%s", diff)
			}
			// A dry-run Do changes nothing either.
			call.DryRun = true
			if _, err := tt.act.Do(ctx, call); err != nil {
				t.Fatal(err)
			}
			if w := f.writesSince(mark); len(w) != 0 {
				t.Errorf("dry-run Do wrote %v", w)
			}
			// Do makes the calls Check planned, reads and writes, in order.
			call.DryRun = false
			mark = f.mark()
			if _, err := tt.act.Do(ctx, call); err != nil {
				t.Fatal(err)
			}
			var made, planned []string
			for _, r := range f.sb.Trail()[mark:] {
				made = append(made, "iam:"+r.EventName)
			}
			for _, p := range tt.want(f) {
				planned = append(planned, p.Operation)
			}
			if diff := cmp.Diff(made, planned); diff != "" {
				t.Errorf("Do's calls differ from the plan (-got +want):\n%s", diff)
			}
		})
	}
}

// TestDeleteAccessKeyRefusesActive: an Active key is never deleted.
func TestDeleteAccessKeyRefusesActive(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mark := f.mark()
	_, err := (iam.DeleteAccessKey{}).Do(ctx, f.call(action.Values{"access_key_id": action.StringValue(f.leaked)}))
	if !errors.Is(err, iam.ErrKeyActive) {
		t.Fatalf("err = %v, want ErrKeyActive", err)
	}
	if got := action.Classify(err); got != action.Permanent {
		t.Errorf("class = %v, want permanent", got)
	}
	if !strings.Contains(err.Error(), f.leaked) || !strings.Contains(err.Error(), "dana") {
		t.Errorf("error %q does not name the key and its user", err)
	}
	if w := f.writesSince(mark); len(w) != 0 {
		t.Errorf("refused delete wrote %v", w)
	}
	if got := f.status(f.leaked); got != "Active" {
		t.Errorf("key is %q, want Active", got)
	}
}

// TestDeleteAccessKeyRecordsLastUse: the last use is read before the key
// is gone.
func TestDeleteAccessKeyRecordsLastUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.iamAs(f.creds(f.leaked), attackerIP).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	params := action.Values{"access_key_id": action.StringValue(f.leaked)}
	if _, err := (iam.DisableAccessKey{}).Do(ctx, f.call(params)); err != nil {
		t.Fatal(err)
	}
	got, err := (iam.DeleteAccessKey{}).Do(ctx, f.call(params))
	if err != nil {
		t.Fatal(err)
	}
	want := action.Values{
		"user": action.StringValue("dana"), "deleted": action.BoolValue(true),
		"last_used_time": got["last_used_time"], "last_used_service": action.StringValue("iam"), "last_used_region": action.StringValue("us-east-1"),
	}
	if diff := cmp.Diff(got.String(), want.String()); diff != "" {
		t.Errorf("outputs (-got +want):\n%s", diff)
	}
	if got.Str("last_used_time") == "" {
		t.Error("no last_used_time")
	}
	if f.status(f.leaked) != "" || f.status(f.spare) != "Active" || f.status(f.erin) != "Active" {
		t.Errorf("keys after delete: leaked %q spare %q erin %q; want gone, Active, Active", f.status(f.leaked), f.status(f.spare), f.status(f.erin))
	}
}

// TestPolicyEffects: the policies do what they say on the sandbox, and
// Revert takes them away.
func TestPolicyEffects(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		act  interface {
			action.Action
			action.Reverter
		}
		allowed string // an operation that still works under the policy, "" for none
	}{
		{"quarantine", iam.QuarantinePrincipal{}, ""},
		{"require MFA", iam.RequireMFA{}, "ListMFADevices"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			dana := f.iamAs(f.creds(f.spare), "127.0.0.1")
			call := f.call(action.Values{"user": action.StringValue("dana")})
			done, err := tt.act.Do(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dana.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
				t.Errorf("ListUsers under the policy: err %v, want AccessDenied", err)
			}
			_, err = dana.ListMFADevices(ctx, &awsiam.ListMFADevicesInput{})
			if got, want := errorCode(err), map[bool]string{true: "", false: "AccessDenied"}[tt.allowed == "ListMFADevices"]; got != want {
				t.Errorf("ListMFADevices under the policy: error code %q, want %q", got, want)
			}
			if _, err := f.iamAs(f.creds(f.erin), "127.0.0.1").ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
				t.Errorf("erin is affected: %v", err)
			}
			for range 2 { // Revert is idempotent
				if err := tt.act.Revert(ctx, call, done); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := dana.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
				t.Errorf("ListUsers after revert: %v", err)
			}
		})
	}
}

// TestDisableRevert: Revert re-activates a key this action disabled, and
// leaves alone a key that was inactive before.
func TestDisableRevert(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	call := f.call(action.Values{"access_key_id": action.StringValue(f.leaked), "user": action.StringValue("dana")})
	first, err := (iam.DisableAccessKey{}).Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	second, err := (iam.DisableAccessKey{}).Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if err := (iam.DisableAccessKey{}).Revert(ctx, call, second); err != nil {
		t.Fatal(err)
	}
	if got := f.status(f.leaked); got != "Inactive" {
		t.Errorf("after reverting the run that found it inactive: %s, want Inactive", got)
	}
	if err := (iam.DisableAccessKey{}).Revert(ctx, call, first); err != nil {
		t.Fatal(err)
	}
	if got := f.status(f.leaked); got != "Active" {
		t.Errorf("after reverting the run that disabled it: %s, want Active", got)
	}
}

// TestBadCalls: wrong inputs get a clear, permanent error and change
// nothing.
func TestBadCalls(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tests := []struct {
		name    string
		act     action.Action
		params  action.Values
		wantErr string
	}{
		{"user and role", iam.QuarantinePrincipal{}, action.Values{"user": action.StringValue("dana"), "role": action.StringValue("deploy")},
			`aws.iam.quarantine_principal: give user or role, not both (user "dana", role "deploy")`},
		{"neither user nor role", iam.RevokeSessions{}, action.Values{}, "aws.iam.revoke_sessions: parameter user or role: required"},
		{"key of another user", iam.DisableAccessKey{}, action.Values{"access_key_id": action.StringValue(f.erin), "user": action.StringValue("dana")},
			`aws.iam.disable_access_key: access key ` + f.erin + ` belongs to user "erin", not "dana"`},
		{"temporary key", iam.DisableAccessKey{}, action.Values{"access_key_id": action.StringValue("ASIAEXAMPLEEXAMPLE01")},
			"aws.iam.disable_access_key: access key ASIAEXAMPLEEXAMPLE01 is temporary (ASIA…): it cannot be disabled or deleted"},
		{"no such user", iam.QuarantinePrincipal{}, action.Values{"user": action.StringValue("nobody")}, "aws.iam.quarantine_principal: attach policy FirebreakQuarantine to user nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := f.mark()
			_, err := tt.act.Do(ctx, f.call(tt.params))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to start with %q", err, tt.wantErr)
			}
			if got := action.Classify(err); got != action.Permanent {
				t.Errorf("class = %v, want permanent", got)
			}
			if w := f.writesSince(mark); len(w) != 0 {
				t.Errorf("wrote %v", w)
			}
			actiontest.NoSecrets(t, f.sb, err.Error())
		})
	}
	if got := f.status(f.erin); got != "Active" {
		t.Errorf("erin's key is %s", got)
	}
}

func TestMetadata(t *testing.T) {
	for _, a := range []action.Action{iam.DeleteAccessKey{}, iam.DeleteLoginProfile{}, iam.DisableAccessKey{}, iam.QuarantinePrincipal{}, iam.RequireMFA{}, iam.RevokeSessions{}} {
		if err := action.Validate(a); err != nil {
			t.Error(err)
		}
		if len(a.Meta().Targets()) == 0 {
			t.Errorf("%s declares no target", a.Meta().ID)
		}
		if _, ok := a.(action.Checker); !ok {
			t.Errorf("%s has no Check", a.Meta().ID)
		}
		if !slices.IsSorted(a.Meta().IAM) {
			t.Errorf("%s: IAM actions not sorted: %v", a.Meta().ID, a.Meta().IAM)
		}
	}
}

// TestReferenceDocuments: docs/actions-reference.md shows the policy
// documents the actions attach, verbatim.
func TestReferenceDocuments(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/actions-reference.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{iam.QuarantineDocument, iam.RequireMFADocument, iam.RevokePolicyName, iam.QuarantinePolicyName, iam.RequireMFAPolicyName} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/actions-reference.md lacks %s", want)
		}
	}
}
