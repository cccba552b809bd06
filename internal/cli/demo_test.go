package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// firebreak demo --json prints one object per scenario with the fields
// the README and docs/demo.md promise, and they tell the true story of
// the exposed-key scenario.
func TestDemoJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo")
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"demo", "--json", "--scenario", "exposed-key", "--seed", "3", "--log-level", "error"}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines of output, want 1 JSON object:\n%s", len(lines), out.String())
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[0]), &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"scenario", "incident_id", "contained", "containment_ms", "attacker_blocked_ms", "actions", "top_calls", "attack_succeeded", "persistence", "notifications"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("no field %q in %s", f, lines[0])
		}
	}
	var got struct {
		Scenario          string `json:"scenario"`
		IncidentID        string `json:"incident_id"`
		Contained         bool   `json:"contained"`
		ContainmentMS     int64  `json:"containment_ms"`
		AttackerBlockedMS int64  `json:"attacker_blocked_ms"`
		Actions           []struct {
			Action, Status string
		} `json:"actions"`
		TopCalls []struct {
			API   string `json:"api"`
			Count int    `json:"count"`
		} `json:"top_calls"`
		AttackSucceeded bool     `json:"attack_succeeded"`
		Persistence     []string `json:"persistence"`
		Notifications   []struct {
			Channel string `json:"channel"`
			To      string `json:"to"`
		} `json:"notifications"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Scenario != "exposed-key" || got.IncidentID == "" || !got.Contained || !got.AttackSucceeded {
		t.Errorf("scenario %q, incident %q, contained %v, attack succeeded %v; want exposed-key, an id, true, true",
			got.Scenario, got.IncidentID, got.Contained, got.AttackSucceeded)
	}
	if got.ContainmentMS <= 0 || got.AttackerBlockedMS < got.ContainmentMS-50 {
		t.Errorf("containment %d ms, attacker blocked %d ms: want containment > 0 and the refusal after it", got.ContainmentMS, got.AttackerBlockedMS)
	}
	want := map[string]string{
		"aws.iam.disable_access_key": "succeeded", "aws.iam.revoke_sessions": "succeeded", "aws.iam.delete_access_key": "skipped",
		"aws.cloudtrail.summarize_principal": "succeeded", "aws.investigate.attack_success": "succeeded",
	}
	for _, a := range got.Actions {
		if want[a.Action] != a.Status {
			t.Errorf("action %s %s, want %s", a.Action, a.Status, want[a.Action])
		}
		delete(want, a.Action)
	}
	if len(want) > 0 {
		t.Errorf("actions missing: %v", want)
	}
	apis := map[string]int{}
	for _, c := range got.TopCalls {
		apis[c.API] = c.Count
	}
	for _, api := range []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "ec2:RunInstances", "s3:PutBucketPolicy"} {
		if apis[api] != 1 {
			t.Errorf("top_calls %s = %d, want 1 (the attacker called it once)", api, apis[api])
		}
	}
	if apis["sts:GetCallerIdentity"] < 2 {
		t.Errorf("top_calls sts:GetCallerIdentity = %d: want the recon call and the attacker's polls", apis["sts:GetCallerIdentity"])
	}
	var calls []string
	for _, p := range got.Persistence {
		calls = append(calls, strings.Fields(p)[0])
	}
	if !slices.Contains(calls, "CreateUser") || !slices.Contains(calls, "AttachUserPolicy") {
		t.Errorf("persistence %v: want CreateUser and AttachUserPolicy", got.Persistence)
	}
	var to []string
	for _, n := range got.Notifications {
		to = append(to, n.Channel+" "+n.To)
	}
	if diff := cmp.Diff(to, []string{"email dana@acme.example", "email security@acme.example"}); diff != "" {
		t.Errorf("notifications (-got +want):\n%s", diff)
	}
}

func TestDemoUnknownScenario(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"demo", "--scenario", "nope"}, strings.NewReader(""), &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), `unknown scenario "nope" (want one of ec2-bruteforce, exposed-key)`) {
		t.Errorf("exit %d, stderr %q: want an error naming the scenarios", code, errOut.String())
	}
}

// The EC2 scenario's text says what was kept, blocked and verified, and
// what the auth log showed.
func TestDemoEC2Text(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the whole scenario")
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"demo", "--scenario", "ec2-bruteforce", "--seed", "3", "--log-level", "error"}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	for _, want := range []string{
		"Evidence: 1 snapshot(s). Blocked: 203.0.113.66. Credentials rotated and verified through SSM: yes. Login from the attacker in the auth log: yes.",
		"Verdict: the attacker logged in to the instance: treat it as compromised.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
