package investigate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/cloudtrail"
	"github.com/firebreak-sec/firebreak/internal/action/iam"
	"github.com/firebreak-sec/firebreak/internal/action/investigate"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account    = "111111111111"
	attackerIP = "203.0.113.66"
	homeIP     = "198.51.100.10"
)

type world struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	clients actiontest.Clients
	leaked  string
	spare   string
	erin    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{World: w, Seed: 11})
	wd := &world{t: t, sb: sb, clients: actiontest.Admin(t, sb)}
	for _, k := range sb.Keys() {
		switch {
		case k.UserName == "dana" && wd.leaked == "":
			wd.leaked = k.AccessKeyID
		case k.UserName == "dana":
			wd.spare = k.AccessKeyID
		case k.UserName == "erin":
			wd.erin = k.AccessKeyID
		}
	}
	return wd
}

func (w *world) call(step string, params action.Values) action.Call {
	return actiontest.Caller{Clients: w.clients, Target: action.Target{Account: account, Region: "us-east-1"}, Incident: "inc-7"}.Call(step, params)
}

func (w *world) creds(id string) sandbox.Credentials {
	c, err := w.sb.KeyCredentials(id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) config(c sandbox.Credentials, ip string, opts ...sandbox.ClientOption) aws.Config {
	return sandboxtest.Config(w.t, w.sb, c, append([]sandbox.ClientOption{sandbox.WithSourceIP(ip)}, opts...)...)
}

func (w *world) status(id string) string {
	for _, k := range w.sb.Keys() {
		if k.AccessKeyID == id {
			return k.Status
		}
	}
	return ""
}

// recorded waits until the trail holds n calls of the key (the sandbox
// records a call just after answering it) and returns the trail's length.
func (w *world) recorded(keyID string, n int) int {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		trail := w.sb.Trail()
		got := 0
		for _, r := range trail {
			if r.UserIdentity.AccessKeyID == keyID {
				got++
			}
		}
		if got == n {
			return len(trail)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the trail holds %d calls of %s, want %d", got, keyID, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestLeakedKeyScenario plays the whole exposed-key response on the
// sandbox with real SDK clients: the attacker uses one of dana's two keys
// for recon and persistence from its own address and assumes a role; the
// responder disables exactly that key, revokes the role's sessions,
// summarises the key's calls and decides whether the attack succeeded.
func TestLeakedKeyScenario(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	leaked := w.creds(w.leaked)
	us, eu := w.config(leaked, attackerIP), w.config(leaked, attackerIP, sandbox.WithRegion("eu-west-1"))
	attacker := awsiam.NewFromConfig(us)
	made := map[string]int{} // eventSource:eventName -> count
	failed := 0
	do := func(call string, err error) {
		made[call]++
		if err != nil {
			failed++
		}
	}

	// Dana works from home with her other key.
	if _, err := awsiam.NewFromConfig(w.config(w.creds(w.spare), homeIP)).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	// Recon.
	_, err := sts.NewFromConfig(us).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	do("sts.amazonaws.com:GetCallerIdentity", err)
	_, err = attacker.ListUsers(ctx, &awsiam.ListUsersInput{})
	do("iam.amazonaws.com:ListUsers", err)
	_, err = attacker.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("admin")})
	do("iam.amazonaws.com:GetUser", err)
	_, err = sqs.NewFromConfig(eu).ListQueues(ctx, &sqs.ListQueuesInput{})
	do("sqs.amazonaws.com:ListQueues", err)
	// Persistence.
	_, err = attacker.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("backup-svc")})
	do("iam.amazonaws.com:CreateUser", err)
	key, err := attacker.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("backup-svc")})
	do("iam.amazonaws.com:CreateAccessKey", err)
	_, err = attacker.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("backup-svc"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	do("iam.amazonaws.com:AttachUserPolicy", err)
	role, err := sts.NewFromConfig(us).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/deploy"), RoleSessionName: aws.String("maint")})
	do("sts.amazonaws.com:AssumeRole", err)
	if err != nil || key == nil {
		t.Fatalf("the attack did not go as planned: %v", err)
	}
	if failed != 1 {
		t.Fatalf("%d attacker calls failed, want 1 (GetUser admin)", failed)
	}
	rc := role.Credentials
	session := awsiam.NewFromConfig(w.config(sandbox.Credentials{AccessKeyID: *rc.AccessKeyId, SecretAccessKey: *rc.SecretAccessKey, SessionToken: *rc.SessionToken}, attackerIP))
	total := 0
	for _, n := range made {
		total += n
	}
	w.recorded(w.leaked, total)

	// Dry runs first: Check plans and changes nothing, not even the trail
	// (the read-only actions plan without calling).
	mark := len(w.sb.Trail())
	keyParams := action.Values{"access_key_id": action.StringValue(w.leaked)}
	summaryParams := action.Values{"access_key_id": action.StringValue(w.leaked), "regions": action.ListValue([]string{"eu-west-1"})}
	verdictParams := action.Values{
		"access_key_id": action.StringValue(w.leaked), "regions": action.ListValue([]string{"eu-west-1"}),
		"known_ips": action.ListValue([]string{"198.51.100.0/24"}),
	}
	for _, c := range []struct {
		act    action.Checker
		params action.Values
		calls  int
	}{
		{cloudtrail.SummarizePrincipal{}, summaryParams, 2},
		{investigate.AttackSuccess{}, verdictParams, 4},
	} {
		planned, err := c.act.Check(ctx, w.call("check", c.params))
		if err != nil {
			t.Fatal(err)
		}
		if len(planned) != c.calls {
			t.Errorf("%T planned %d calls, want %d: %v", c.act, len(planned), c.calls, planned)
		}
	}
	if _, err := (iam.DisableAccessKey{}).Check(ctx, w.call("check", keyParams)); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.sb.Trail()[mark:] {
		if !r.ReadOnly {
			t.Errorf("a check wrote: %s", r.EventName)
		}
	}
	if w.status(w.leaked) != "Active" {
		t.Fatal("Check disabled the key")
	}

	// Contain.
	if _, err := (iam.DisableAccessKey{}).Do(ctx, w.call("disable", keyParams)); err != nil {
		t.Fatal(err)
	}
	if got := []string{w.status(w.leaked), w.status(w.spare), w.status(w.erin)}; !cmp.Equal(got, []string{"Inactive", "Active", "Active"}) {
		t.Errorf("keys leaked, spare, erin: %v; want Inactive, Active, Active", got)
	}
	if _, err := attacker.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Errorf("attacker's call after disable: %v, want InvalidClientTokenId", err)
	}
	if _, err := session.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Fatalf("the role session should outlive the key until revoked: %v", err)
	}
	if _, err := (iam.RevokeSessions{}).Do(ctx, w.call("revoke", action.Values{"role": action.StringValue("deploy")})); err != nil {
		t.Fatal(err)
	}
	if _, err := session.ListUsers(ctx, &awsiam.ListUsersInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("role session after revoke: %v, want AccessDenied", err)
	}
	if _, err := awsiam.NewFromConfig(w.config(w.creds(w.erin), homeIP)).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("erin's key: %v", err)
	}

	// Summarise: exactly the attacker's calls, through the real 2 req/s
	// limit.
	sum, err := cloudtrail.SummarizePrincipal{}.Do(ctx, w.call("summary", summaryParams))
	if err != nil {
		t.Fatal(err)
	}
	again, err := cloudtrail.SummarizePrincipal{}.Do(ctx, w.call("summary", summaryParams))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again.String(), sum.String()); diff != "" {
		t.Errorf("a second summary differs (-second +first):\n%s", diff)
	}
	if got := sum.Int("total"); got != int64(total) {
		t.Errorf("summary total %d, want the %d calls the attacker made", got, total)
	}
	if got, want := sum.Int("errors"), int64(failed); got != want {
		t.Errorf("summary errors %d, want %d", got, want)
	}
	if got, want := sum.List("source_ips"), []string{fmt.Sprintf("%s (%d)", attackerIP, total)}; !cmp.Equal(got, want) {
		t.Errorf("source_ips %v, want %v", got, want)
	}
	for call, n := range made {
		if want := fmt.Sprintf("%s (%d)", call, n); !strings.Contains(sum.Str("top_calls")+fmt.Sprint(sum.List("top_calls")), want) {
			t.Errorf("top_calls %v lacks %s", sum.List("top_calls"), want)
		}
	}

	// Decide.
	got, err := investigate.AttackSuccess{}.Do(ctx, w.call("verdict", verdictParams))
	if err != nil {
		t.Fatal(err)
	}
	userARN := "arn:aws:iam::" + account + ":user/backup-svc"
	newKey := aws.ToString(key.AccessKey.AccessKeyId)
	wantPersistence := []string{
		"CreateUser " + userARN,
		"CreateAccessKey " + userARN + " " + newKey,
		"AttachUserPolicy " + userARN + " arn:aws:iam::aws:policy/AdministratorAccess",
	}
	if !got.Bool("succeeded") {
		t.Errorf("succeeded = false; reasons %v", got.List("reasons"))
	}
	if diff := cmp.Diff(got.List("persistence"), wantPersistence); diff != "" {
		t.Errorf("persistence (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(got.List("resources_created"), []string{"CreateUser " + userARN, "CreateAccessKey " + newKey}); diff != "" {
		t.Errorf("resources_created (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(got.List("foreign_ips"), []string{fmt.Sprintf("%s (%d)", attackerIP, total-failed)}); diff != "" {
		t.Errorf("foreign_ips (-got +want):\n%s", diff)
	}
	// The account checks see the attacker's policy change and the
	// responder's revoke policy.
	changes := strings.Join(got.List("account_changes"), "\n")
	for _, want := range []string{"IAM policy changed: AttachUserPolicy " + userARN, "from " + attackerIP, "IAM policy changed: PutRolePolicy arn:aws:iam::" + account + ":role/deploy"} {
		if !strings.Contains(changes, want) {
			t.Errorf("account_changes lack %q:\n%s", want, changes)
		}
	}
	for _, r := range got.List("reasons") {
		if strings.Contains(r, leaked.SecretAccessKey) || strings.Contains(r, aws.ToString(key.AccessKey.SecretAccessKey)) {
			t.Errorf("a reason carries a secret: %s", r)
		}
	}
}

// TestBaselineLearnsKnownAddresses: without known_ips, the addresses the
// principal used before the window are the known ones; calls from another
// address in the window make the verdict.
func TestBaselineLearnsKnownAddresses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	leaked := w.creds(w.leaked)
	begin := time.Now()
	for range 3 {
		if _, err := awsiam.NewFromConfig(w.config(leaked, homeIP)).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	w.recorded(w.leaked, 3)
	time.Sleep(50 * time.Millisecond)
	split := time.Now()
	time.Sleep(50 * time.Millisecond)
	for range 2 {
		if _, err := awsiam.NewFromConfig(w.config(leaked, attackerIP)).ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	w.recorded(w.leaked, 5)
	end := time.Now()
	a := investigate.AttackSuccess{Now: func() time.Time { return end }}
	got, err := a.Do(ctx, w.call("verdict", action.Values{
		"access_key_id":  action.StringValue(w.leaked),
		"window":         action.DurationValue(end.Sub(split)),
		"baseline":       action.DurationValue(split.Sub(begin) + time.Second),
		"account_checks": action.BoolValue(false),
	}))
	if err != nil {
		t.Fatal(err)
	}
	reasons := got.List("reasons")
	if len(reasons) < 2 || !strings.HasPrefix(reasons[0], "known addresses, from 3 calls in the") || !strings.HasSuffix(reasons[0], ": "+homeIP) {
		t.Errorf("reasons %q: want the baseline first, 3 calls from %s", reasons, homeIP)
	}
	if !got.Bool("succeeded") || !cmp.Equal(got.List("foreign_ips"), []string{attackerIP + " (2)"}) {
		t.Errorf("succeeded %v, foreign_ips %v; want true and %s (2)", got.Bool("succeeded"), got.List("foreign_ips"), attackerIP)
	}
}

func TestAttackSuccessBadParams(t *testing.T) {
	w := newWorld(t)
	_, err := investigate.AttackSuccess{}.Check(context.Background(), w.call("v", action.Values{
		"user": action.StringValue("dana"), "known_ips": action.ListValue([]string{"10.0.0.0/8", "nope"}),
	}))
	want := `aws.investigate.attack_success: parameter known_ips[1]: "nope" is not an IP address or CIDR range (203.0.113.0/24)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if action.Classify(err) != action.Permanent {
		t.Errorf("class %v, want permanent", action.Classify(err))
	}
	_, err = investigate.AttackSuccess{}.Check(context.Background(), w.call("v", action.Values{}))
	if want := "aws.investigate.attack_success: parameter access_key_id or user: required"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
