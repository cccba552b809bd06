package demo

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The EC2 scenario end to end through the demo: the story in order, and
// the --json fields, each matching the sandbox's state.
func TestEC2BruteForceDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo")
	}
	var out lockedBuffer
	res, err := Run(context.Background(), Options{Scenario: "ec2-bruteforce", Out: &out, Seed: 5, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(res) != 1 || res[0].Outcome != Finished || res[0].EC2 == nil {
		t.Fatalf("results %+v\n%s", res, out.String())
	}
	r := res[0]
	text := out.String()
	order := []string{
		`attacker at 203\.0\.113\.66 brute-forces SSH on i-\w+ \(web-1,`,
		`\d+ passwords refused, then ec2-user's accepted`,
		`reads the role credentials from the instance metadata service: ASIA\w+`,
		`\+0\.\d{3}s  GuardDuty UnauthorizedAccess:EC2/SSHBruteForce against i-\w+ from 203\.0\.113\.66 published`,
		`incident \S+ opened: UnauthorizedAccess:EC2/SSHBruteForce, severity 2, playbook ec2-compromise`,
		`snapshot\s+aws\.ec2\.snapshot_volumes\s+succeeded`,
		`detach\s+aws\.ec2\.detach_from_autoscaling\s+succeeded in \d+ms: out of group web`,
		`isolate\s+aws\.ec2\.isolate_instance\s+awaiting approval`,
		`InstanceCredentialExfiltration\.OutsideAWS for ASIA\w+ used from 203\.0\.113\.66 published`,
		`isolate\s+approved by on-call@acme\.example`,
		`isolate\s+aws\.ec2\.isolate_instance\s+succeeded`,
		`verify\s+aws\.ssm\.verify_credentials_rotated\s+succeeded in \d+ms: the instance holds credentials issued`,
		`logins\s+aws\.logs\.successful_logins\s+succeeded in \d+ms: LOGIN SUCCEEDED: \S+ ec2-user 203\.0\.113\.66`,
		`block\s+aws\.vpc\.block_ip\s+succeeded`,
	}
	pos := 0
	for _, pat := range order {
		loc := regexp.MustCompile(pat).FindStringIndex(text[pos:])
		if loc == nil {
			t.Fatalf("after offset %d, no line matching %s in:\n%s", pos, pat, text)
		}
		pos += loc[1]
	}
	if !strings.Contains(text, "attacker's read with the stolen credentials refused (AccessDenied)") || r.AttackerBlockedMS < 0 {
		t.Errorf("the stolen credentials were not refused (attacker_blocked_ms %d):\n%s", r.AttackerBlockedMS, text)
	}

	// The fields (each checked against the sandbox by fillEC2).
	e := r.EC2
	if !r.Contained || !e.Isolated || r.ContainmentMS <= 0 {
		t.Errorf("contained %v, isolated %v in %d ms; want isolated", r.Contained, e.Isolated, r.ContainmentMS)
	}
	if diff := cmp.Diff(e.BlockedIPs, []string{"203.0.113.66"}); diff != "" {
		t.Errorf("blocked_ips (-got +want):\n%s", diff)
	}
	if len(e.Snapshots) != 1 || !strings.HasPrefix(e.Snapshots[0], "snap-") {
		t.Errorf("snapshots %v; want one", e.Snapshots)
	}
	if !e.LoginSucceeded || !r.AttackSucceeded {
		t.Errorf("login_succeeded %v, attack_succeeded %v; want the accepted password found", e.LoginSucceeded, r.AttackSucceeded)
	}
	if !e.CredentialsRotatedVerified {
		t.Error("credentials_rotated_verified false; want the rotation verified through SSM")
	}
	var raw map[string]any
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "incident_id", "contained", "containment_ms", "attacker_blocked_ms", "actions", "notifications",
		"isolated", "snapshots", "blocked_ips", "login_succeeded", "credentials_rotated_verified"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("--json lacks %s: %s", k, b)
		}
	}
	var steps []string
	for _, a := range r.Actions {
		steps = append(steps, a.Step+"="+a.Status)
	}
	for _, want := range []string{"snapshot=succeeded", "protect=succeeded", "detach=succeeded", "isolate=succeeded", "rotate=succeeded", "verify=succeeded",
		"logins=succeeded", "vulnerabilities=succeeded", "findings=succeeded", "block=succeeded", "notified=succeeded"} {
		if !slices.Contains(steps, want) {
			t.Errorf("actions %v lack %s", steps, want)
		}
	}
}

// Exposed-key results print none of the EC2 fields.
func TestResultJSONWithoutEC2(t *testing.T) {
	b, err := json.Marshal(Result{Scenario: "exposed-key"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "isolated") || !strings.Contains(string(b), `"scenario":"exposed-key"`) {
		t.Errorf("json %s", b)
	}
	b, err = json.Marshal(Result{Scenario: "ec2-bruteforce", EC2: &EC2Result{Isolated: true, Snapshots: []string{}, BlockedIPs: []string{"203.0.113.66"}}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("json %s: %v", b, err)
	}
	if m["isolated"] != true || m["scenario"] != "ec2-bruteforce" || len(m["blocked_ips"].([]any)) != 1 {
		t.Errorf("json %s", b)
	}
}
