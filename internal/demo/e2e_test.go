package demo

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

const (
	world    = "111111111111"
	victim   = "dana"
	attackIP = "203.0.113.66"
)

func start(t *testing.T) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := Start(ctx, EnvOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// keyOf returns the first access key of a world user.
func keyOf(t *testing.T, e *Env, user string) string {
	t.Helper()
	for _, k := range e.Sandbox.Keys() {
		if k.Account == world && k.UserName == user {
			return k.AccessKeyID
		}
	}
	t.Fatalf("no key for %s", user)
	return ""
}

func status(t *testing.T, e *Env, keyID string) string {
	t.Helper()
	for _, k := range e.Sandbox.Keys() {
		if k.AccessKeyID == keyID {
			return k.Status
		}
	}
	t.Fatalf("no key %s", keyID)
	return ""
}

// fromSample publishes a real sample with the world's key, user and
// account substituted for the sample's placeholders.
func fromSample(t *testing.T, name, keyID, user string) sandbox.BusEvent {
	t.Helper()
	raw, err := samples.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, r := range [][2]string{{"ACCESS_KEY_ID_HERE", keyID}, {"test-user", user}, {"123456789012", world}, {"111222333444", world}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	var env struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Region     string          `json:"region"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		t.Fatal(err)
	}
	return sandbox.BusEvent{ID: "sample-" + keyID, Source: env.Source, DetailType: env.DetailType, Account: world, Region: env.Region,
		Time: time.Now().UTC(), Detail: env.Detail}
}

// attacker makes a known set of calls with the leaked key from the
// attacker's address and returns how often it called each API, as the
// CloudTrail summary names them.
func attack(t *testing.T, e *Env, keyID string) map[string]int {
	t.Helper()
	ctx := context.Background()
	creds, err := e.Sandbox.KeyCredentials(keyID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.AWSConfig(ctx, creds, sandbox.WithSourceIP(attackIP))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	ok := func(api string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("attacker %s: %v", api, err)
		}
		calls[api]++
	}
	sc, ic := sts.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	for range 3 {
		_, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		ok("sts:GetCallerIdentity", err)
	}
	for range 2 {
		_, err := ic.ListUsers(ctx, &iam.ListUsersInput{})
		ok("iam:ListUsers", err)
	}
	_, err = ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backup-svc")})
	ok("iam:CreateUser", err)
	_, err = ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("backup-svc")})
	ok("iam:CreateAccessKey", err)
	_, err = ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("backup-svc"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	ok("iam:AttachUserPolicy", err)
	return calls
}

// refused checks that the leaked key no longer works.
func refused(t *testing.T, e *Env, creds sandbox.Credentials) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := e.AWSConfig(ctx, creds, sandbox.WithSourceIP(attackIP))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "not refused"
	}
	return ae.ErrorCode()
}

func follow(t *testing.T, e *Env, eventID string) (ledger.Report, Outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, out, err := e.Follow(ctx, eventID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep, out
}

func steps(rep ledger.Report) map[string]string {
	got := map[string]string{}
	for _, run := range rep.Runs {
		for _, st := range run.Steps {
			got[st.StepID] = string(st.Status)
		}
	}
	return got
}

func output(t *testing.T, rep ledger.Report, step string, v any) {
	t.Helper()
	for _, run := range rep.Runs {
		for _, st := range run.Steps {
			if st.StepID == step {
				if err := json.Unmarshal(st.Output, v); err != nil {
					t.Fatalf("step %s output: %v", step, err)
				}
				return
			}
		}
	}
	t.Fatalf("no step %s", step)
}

// Every trigger the credential playbooks accept, end to end on the
// sandbox: the event goes through the queue, the key named is disabled and
// only it, the user's sessions are revoked, the attacker is refused, the
// CloudTrail summary counts exactly the attacker's calls, and the verdict
// names the persistence.
func TestTriggersEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	cases := []struct {
		name     string
		playbook string
		event    func(t *testing.T, e *Env, keyID string) sandbox.BusEvent
	}{
		{"health sample", "exposed-access-key", func(t *testing.T, e *Env, keyID string) sandbox.BusEvent {
			return fromSample(t, "health/risk-credentials-exposed-aws-health-tools.json", keyID, victim)
		}},
		{"health compromised", "exposed-access-key", func(t *testing.T, e *Env, keyID string) sandbox.BusEvent {
			ev, err := e.Sandbox.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, AccessKeyID: keyID, Type: "AWS_RISK_CREDENTIALS_COMPROMISED"})
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}},
		{"trusted advisor sample", "exposed-access-key", func(t *testing.T, e *Env, keyID string) sandbox.BusEvent {
			return fromSample(t, "trustedadvisor/exposed-access-keys-ta-tools-readme.json", keyID, victim)
		}},
		{"guardduty iam finding", "compromised-iam-credentials", func(t *testing.T, e *Env, keyID string) sandbox.BusEvent {
			ev, err := e.Sandbox.NewFinding(sandbox.Finding{Kind: sandbox.FindingGuardDutyIAM, AccessKeyID: keyID, Type: "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom"})
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			ctx := context.Background()
			leaked := keyOf(t, e, victim)
			admin, err := e.AWSConfig(ctx, e.Responder)
			if err != nil {
				t.Fatal(err)
			}
			// A second key of the same user, which must stay untouched.
			other, err := iam.NewFromConfig(admin).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(victim)})
			if err != nil {
				t.Fatal(err)
			}
			otherID := aws.ToString(other.AccessKey.AccessKeyId)
			want := attack(t, e, leaked)
			creds, err := e.Sandbox.KeyCredentials(leaked) // the attacker keeps it, even once deleted
			if err != nil {
				t.Fatal(err)
			}

			ev := tc.event(t, e, leaked)
			if _, err := e.PublishEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			rep, out := follow(t, e, ev.ID)
			if out != Finished {
				t.Fatalf("run %s; steps %v", out, steps(rep))
			}
			if rep.Incident.Playbook != tc.playbook {
				t.Errorf("playbook %q, want %q", rep.Incident.Playbook, tc.playbook)
			}
			if steps(rep)["delete"] == "succeeded" {
				if slices.ContainsFunc(e.Sandbox.Keys(), func(k sandbox.KeyInfo) bool { return k.AccessKeyID == leaked }) {
					t.Errorf("delete succeeded but the leaked key %s still exists", leaked)
				}
			} else if got := status(t, e, leaked); got != "Inactive" {
				t.Errorf("leaked key %s is %s, want Inactive", leaked, got)
			}
			if got := status(t, e, otherID); got != "Active" {
				t.Errorf("the user's other key %s is %s, want Active", otherID, got)
			}
			if got := refused(t, e, creds); got != "InvalidClientTokenId" {
				t.Errorf("attacker's call after the response: %s, want InvalidClientTokenId", got)
			}
			for step, st := range steps(rep) {
				if st != "succeeded" && st != "skipped" {
					t.Errorf("step %s %s", step, st)
				}
			}
			var revoke struct {
				PolicyName string `json:"policy_name"`
			}
			output(t, rep, "revoke", &revoke)
			pol, err := iam.NewFromConfig(admin).GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(victim), PolicyName: aws.String(revoke.PolicyName)})
			if err != nil || !strings.Contains(aws.ToString(pol.PolicyDocument), "TokenIssueTime") {
				t.Errorf("sessions not revoked: policy %q: %v", revoke.PolicyName, err)
			}

			var res Result
			res.fillFromReport(e, rep)
			got := map[string]int{}
			for _, c := range res.TopCalls {
				got[c.API] = c.Count
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("CloudTrail summary (-got +want):\n%s", diff)
			}
			if !res.AttackSucceeded {
				t.Error("verdict: attacker did not succeed; want succeeded (persistence from a foreign address)")
			}
			deliveries, err := e.Notify(ctx, rep)
			if err != nil {
				t.Fatal(err)
			}
			if len(deliveries) != 1 || !deliveries[0].OK {
				t.Errorf("deliveries %+v, want one email sent", deliveries)
			}
			outbox := e.Sandbox.Outbox()
			if len(outbox) != 1 {
				t.Fatalf("outbox holds %d emails, want 1", len(outbox))
			}
			mail := outbox[0]
			if diff := cmp.Diff(mail.To, []string{"dana@acme.example", "security@acme.example"}); diff != "" {
				t.Errorf("email recipients (-got +want):\n%s", diff)
			}
			if !strings.Contains(mail.Subject, rep.Incident.FindingType) || !strings.Contains(mail.Text, leaked) {
				t.Errorf("email %q does not name the finding %s and the key %s:\n%s", mail.Subject, rep.Incident.FindingType, leaked, mail.Text)
			}
			if strings.Contains(mail.Text+mail.HTML+mail.Subject, creds.SecretAccessKey) {
				t.Error("the email carries the key's secret")
			}
			var calls []string
			for _, p := range res.Persistence {
				calls = append(calls, strings.Fields(p)[0])
			}
			for _, c := range []string{"CreateUser", "CreateAccessKey", "AttachUserPolicy"} {
				if !slices.Contains(calls, c) {
					t.Errorf("persistence %v lacks %s", res.Persistence, c)
				}
			}
		})
	}
}

// Keys Firebreak must never touch, through the whole pipeline: its own,
// and a CI user's tagged firebreak/exempt (refused by the guardrail when
// the event does not say whose key it is; waiting for a person when it
// does, by the playbook's approval).
func TestProtectedKeysUntouched(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	cases := []struct {
		name    string
		user    string
		sample  string
		outcome Outcome
		disable string // the disable step's status
		rule    string // the guardrail rule that decided, when it refused
	}{
		{"responder itself", "responder", "health/risk-credentials-exposed-aws-health-tools.json", Finished, "denied", "self"},
		{"ci user by tag", "ci-deploy", "health/risk-credentials-exposed-aws-health-tools.json", Finished, "denied", "protected_tag"},
		{"tagged ci user named in the event", "ci-deploy", "trustedadvisor/exposed-access-keys-ta-tools-readme.json", Finished, "denied", "protected_tag"},
		{"untagged ci user named in the event", "ci-builder", "trustedadvisor/exposed-access-keys-ta-tools-readme.json", Waiting, "awaiting_approval", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			if tc.user == "ci-builder" { // a CI user nobody tagged: only the playbook's name rule knows it
				ctx := context.Background()
				admin, err := e.AWSConfig(ctx, e.Responder)
				if err != nil {
					t.Fatal(err)
				}
				client := iam.NewFromConfig(admin)
				if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(tc.user)}); err != nil {
					t.Fatal(err)
				}
				if _, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(tc.user)}); err != nil {
					t.Fatal(err)
				}
			}
			key := keyOf(t, e, tc.user)
			ev := fromSample(t, tc.sample, key, tc.user)
			if _, err := e.PublishEvent(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			rep, out := follow(t, e, ev.ID)
			if out != tc.outcome {
				t.Errorf("run %s, want %s", out, tc.outcome)
			}
			if got := steps(rep); got["disable"] != tc.disable || got["revoke"] != "" {
				t.Errorf("steps %v; want disable %s and nothing after it", got, tc.disable)
			}
			if got := status(t, e, key); got != "Active" {
				t.Errorf("key of %s is %s, want Active", tc.user, got)
			}
			var rules []string
			for _, d := range rep.Guardrails {
				if d.Verdict == ledger.VerdictDeny {
					rules = append(rules, d.Rule)
				}
			}
			var want []string
			if tc.rule != "" {
				want = []string{tc.rule}
			}
			if diff := cmp.Diff(rules, want); diff != "" {
				t.Errorf("guardrail refusals (-got +want):\n%s", diff)
			}
		})
	}
}
