package securityhub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/securityhub"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	prod     = "111111111111"
	other    = "222222222222"
	region   = "us-east-1"
	web1     = "i-0fffffffffffffff1"
	web2     = "i-0fffffffffffffff2"
	sshGD    = "5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
	sshASFF  = "arn:aws:guardduty:us-east-1:111111111111:detector/12abc34d567e8fa901bc2d34e56789f0/finding/" + sshGD
	scanner  = "acme-scanner/web-1/openssh"
	gdProd   = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
	sshTitle = "203.0.113.66 is performing SSH brute force attacks against i-0fffffffffffffff1."
)

func newSandbox(t testing.TB) *sandbox.Sandbox {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sandboxtest.New(t, sandbox.Options{Seed: 4, World: w})
}

// call is a call in account as its responder, whose log must show no
// secret of the world.
func call(t testing.TB, sb *sandbox.Sandbox, account string, params action.Values) action.Call {
	return actiontest.Caller{
		Clients: actiontest.UserClients{Sandbox: sb, User: "responder"}, Target: action.Target{Account: account, Region: region},
		Incident: "inc-1", Log: actiontest.NewLog(t, sb),
	}.Call("hub", params)
}

// finding returns the sandbox's copy of a finding.
func finding(t *testing.T, sb *sandbox.Sandbox, id string) sandbox.HubFinding {
	t.Helper()
	for _, f := range sb.SecurityHubFindings(prod, region) {
		if f.ASFF["Id"] == id {
			return f
		}
	}
	t.Fatalf("no finding %s", id)
	return sandbox.HubFinding{}
}

func status(f sandbox.HubFinding) string {
	w, _ := f.ASFF["Workflow"].(map[string]any)
	s, _ := w["Status"].(string)
	return s
}

func note(f sandbox.HubFinding) string {
	n, _ := f.ASFF["Note"].(map[string]any)
	s, _ := n["Text"].(string)
	by, _ := n["UpdatedBy"].(string)
	if s == "" {
		return ""
	}
	return s + " (" + by + ")"
}

func TestMeta(t *testing.T) {
	for _, a := range []action.Action{securityhub.Findings{}, securityhub.UpdateFinding{}} {
		if err := action.Validate(a); err != nil {
			t.Error(err)
		}
	}
}

func TestFindings(t *testing.T) {
	sb := newSandbox(t)
	s := func(v ...string) action.Value { return action.ListValue(v) }
	for _, tt := range []struct {
		name   string
		params action.Values
		want   action.Values
	}{
		{
			name:   "an instance by ARN and by id, archived left out",
			params: action.Values{"instance_id": action.StringValue(web1)},
			want: action.Values{
				"count": action.IntValue(2), "critical": action.IntValue(0), "high": action.IntValue(1),
				"by_severity":  s("HIGH=1", "MEDIUM=1"),
				"top":          s("HIGH Default NEW Outdated OpenSSH on web-1", "MEDIUM GuardDuty NEW "+sshTitle),
				"ids":          s(scanner, sshASFF),
				"product_arns": s("arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default", gdProd),
				"summary": action.StringValue("2 Security Hub findings for instance " + web1 + " (HIGH 1, MEDIUM 1). " +
					"Most severe: Outdated OpenSSH on web-1 (Default, HIGH)."),
				"truncated": action.BoolValue(false),
			},
		},
		{
			name:   "a GuardDuty finding id",
			params: action.Values{"finding_id": action.StringValue(sshGD), "top": action.IntValue(1)},
			want: action.Values{
				"count": action.IntValue(1), "critical": action.IntValue(0), "high": action.IntValue(0),
				"by_severity": s("MEDIUM=1"), "top": s("MEDIUM GuardDuty NEW " + sshTitle),
				"ids": s(sshASFF), "product_arns": s(gdProd),
				"summary":   action.StringValue("1 Security Hub finding for finding " + sshGD + " (MEDIUM 1). Most severe: " + sshTitle + " (GuardDuty, MEDIUM)."),
				"truncated": action.BoolValue(false),
			},
		},
		{
			name:   "an ASFF id about another instance",
			params: action.Values{"finding_id": action.StringValue(scanner), "instance_id": action.StringValue(web2)},
			want: action.Values{
				"count": action.IntValue(0), "critical": action.IntValue(0), "high": action.IntValue(0),
				"by_severity": s(), "top": s(), "ids": s(), "product_arns": s(),
				"summary":   action.StringValue("No Security Hub findings for finding " + scanner + "."),
				"truncated": action.BoolValue(false),
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := securityhub.Findings{}.Do(context.Background(), call(t, sb, prod, tt.params))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want.String(), got.String()); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingsErrorsAndCheck(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	if _, err := (securityhub.Findings{}).Do(ctx, call(t, sb, prod, action.Values{})); action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "instance_id, finding_id") {
		t.Errorf("nothing selected: %v", err)
	}
	_, err := securityhub.Findings{}.Do(ctx, call(t, sb, other, action.Values{"instance_id": action.StringValue(web1)}))
	if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "Security Hub is not enabled in account 222222222222") {
		t.Errorf("not enabled: %v", err)
	}
	before := len(sb.Trail())
	got, err := securityhub.Findings{}.Check(ctx, call(t, sb, prod, action.Values{"instance_id": action.StringValue(web1)}))
	if err != nil {
		t.Fatal(err)
	}
	want := []action.PlannedCall{{Operation: "securityhub:GetFindings", Resource: web1, Detail: "ResourceId=" + web1 + " (id or ARN),RecordState=ACTIVE"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if n := len(sb.Trail()) - before; n != 0 {
		t.Errorf("Check made %d calls", n)
	}
}

func TestUpdateFindingAndRevert(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	params := action.Values{
		"finding_id":  action.StringValue(sshGD),
		"status":      action.StringValue("NOTIFIED"),
		"note":        action.StringValue("Firebreak isolated " + web1 + " and blocked 203.0.113.66 (incident inc-1)."),
		"instance_id": action.StringValue(web1),
	}
	c := call(t, sb, prod, params)

	// Dry run: the plan, and nothing changes.
	plan, err := securityhub.UpdateFinding{}.Check(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	wantPlan := []action.PlannedCall{
		{Operation: "securityhub:GetFindings", Resource: sshGD, Detail: "GuardDuty finding " + sshGD},
		{Operation: "securityhub:BatchUpdateFindings", Resource: sshASFF, Detail: `Workflow.Status=NOTIFIED,Note="Firebreak isolated ` + web1 + ` and blocked 203.0.113.66 (incident inc-1)."`},
	}
	if diff := cmp.Diff(wantPlan, plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	dry := c
	dry.DryRun = true
	out, err := securityhub.UpdateFinding{}.Do(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	if f := finding(t, sb, sshASFF); status(f) != "NEW" || note(f) != "" || len(f.History) != 1 || out.Bool("changed") {
		t.Fatalf("dry run changed the finding: %s %q, %d history entries, changed=%v", status(f), note(f), len(f.History), out.Bool("changed"))
	}

	out, err = securityhub.UpdateFinding{}.Do(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := action.Values{
		"finding_id": action.StringValue(sshASFF), "product_arn": action.StringValue(gdProd),
		"previous_status": action.StringValue("NEW"), "previous_note": action.StringValue(""), "previous_note_by": action.StringValue(""),
		"status": action.StringValue("NOTIFIED"), "note": params["note"], "note_truncated": action.BoolValue(false), "changed": action.BoolValue(true),
	}
	if diff := cmp.Diff(wantOut.String(), out.String()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	f := finding(t, sb, sshASFF)
	if status(f) != "NOTIFIED" || note(f) != params.Str("note")+" (firebreak)" || len(f.History) != 2 {
		t.Fatalf("after update: %s %q, %d history entries", status(f), note(f), len(f.History))
	}

	// Idempotent: the same call again changes nothing.
	again, err := securityhub.UpdateFinding{}.Do(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if again.Bool("changed") || len(finding(t, sb, sshASFF).History) != 2 {
		t.Errorf("second run changed=%v, %d history entries", again.Bool("changed"), len(finding(t, sb, sshASFF).History))
	}

	// Revert: status back to NEW; the finding had no note, so Firebreak's is
	// withdrawn. A second revert does nothing more.
	for range 2 {
		if err := (securityhub.UpdateFinding{}).Revert(ctx, c, out); err != nil {
			t.Fatal(err)
		}
	}
	f = finding(t, sb, sshASFF)
	if status(f) != "NEW" || !strings.Contains(note(f), "withdrawn") || len(f.History) != 3 {
		t.Errorf("after revert: %s %q, %d history entries", status(f), note(f), len(f.History))
	}
}

func TestUpdateFindingRevertRestoresNote(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c := call(t, sb, prod, action.Values{"finding_id": action.StringValue(scanner), "status": action.StringValue("RESOLVED"), "note": action.StringValue("Patched by Firebreak."), "account_id": action.StringValue(prod)})
	out, err := securityhub.UpdateFinding{}.Do(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if out.Str("previous_note") != "Ticket SEC-42 opened." || out.Str("previous_note_by") != "alice" {
		t.Errorf("previous note %q by %q", out.Str("previous_note"), out.Str("previous_note_by"))
	}
	// A person moves the finding on; revert leaves the status alone but
	// restores the note, which is still Firebreak's.
	person := call(t, sb, prod, action.Values{"finding_id": action.StringValue(scanner), "status": action.StringValue("SUPPRESSED")})
	if _, err := (securityhub.UpdateFinding{}).Do(ctx, person); err != nil {
		t.Fatal(err)
	}
	if err := (securityhub.UpdateFinding{}).Revert(ctx, c, out); err != nil {
		t.Fatal(err)
	}
	f := finding(t, sb, scanner)
	if status(f) != "SUPPRESSED" || note(f) != "Ticket SEC-42 opened. (alice)" {
		t.Errorf("after revert: %s %q, want SUPPRESSED and alice's note back", status(f), note(f))
	}
}

func TestUpdateFindingLongNote(t *testing.T) {
	sb := newSandbox(t)
	long := strings.Repeat("Firebreak did many things. ", 40)
	out, err := securityhub.UpdateFinding{}.Do(context.Background(), call(t, sb, prod, action.Values{"finding_id": action.StringValue(sshASFF), "note": action.StringValue(long)}))
	if err != nil {
		t.Fatal(err)
	}
	n := out.Str("note")
	if !out.Bool("note_truncated") || len([]rune(n)) > securityhub.NoteLimit || !strings.HasSuffix(n, "…[truncated]") || !strings.HasPrefix(long, strings.TrimSuffix(n, " …[truncated]")) {
		t.Errorf("note of %d characters, truncated=%v: %q", len([]rune(n)), out.Bool("note_truncated"), n)
	}
	if got := note(finding(t, sb, sshASFF)); got != n+" (firebreak)" {
		t.Errorf("stored note %q", got)
	}
	if status(finding(t, sb, sshASFF)) != "NEW" {
		t.Error("a note-only update changed the status")
	}
}

func TestUpdateFindingErrors(t *testing.T) {
	sb := newSandbox(t)
	for _, tt := range []struct {
		name    string
		account string
		params  action.Values
		want    string
	}{
		{"unknown finding", prod, action.Values{"finding_id": action.StringValue("nope"), "status": action.StringValue("NOTIFIED")}, "no Security Hub finding nope"},
		{"unknown GuardDuty id", prod, action.Values{"finding_id": action.StringValue("0000000000000000000000000000abcd"), "status": action.StringValue("NOTIFIED")}, "no Security Hub finding"},
		{"bad status", prod, action.Values{"finding_id": action.StringValue(sshGD), "status": action.StringValue("DONE")}, "parameter status"},
		{"nothing to set", prod, action.Values{"finding_id": action.StringValue(sshGD)}, "give status, note or both"},
		{"another instance", prod, action.Values{"finding_id": action.StringValue(sshGD), "status": action.StringValue("NOTIFIED"), "instance_id": action.StringValue(web2)}, "not about instance " + web2},
		{"another account", prod, action.Values{"finding_id": action.StringValue(sshGD), "status": action.StringValue("NOTIFIED"), "account_id": action.StringValue(other)}, "not the target account"},
		{"not enabled", other, action.Values{"finding_id": action.StringValue(sshGD), "status": action.StringValue("NOTIFIED")}, "Security Hub is not enabled in account 222222222222"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := securityhub.UpdateFinding{}.Do(context.Background(), call(t, sb, tt.account, tt.params))
			if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (%s), want a permanent one containing %q", err, action.Classify(err), tt.want)
			}
		})
	}
	if f := finding(t, sb, sshASFF); status(f) != "NEW" || len(f.History) != 1 {
		t.Errorf("a refused update changed the finding: %s, %d history entries", status(f), len(f.History))
	}
}

// TestUpdateFindingManyGuardDutyFindings resolves GuardDuty ids among more
// findings than the actions read.
func TestUpdateFindingManyGuardDutyFindings(t *testing.T) {
	sb := newSandbox(t)
	base := sb.Now().Add(-time.Hour)
	for i := range 2050 {
		g := sandbox.GuardDutyASFF{Account: prod, Region: region, DetectorID: "12abc34d567e8fa901bc2d34e56789f0", FindingID: fmt.Sprintf("%032x", i+1),
			Type: "Recon:EC2/PortProbeUnprotectedPort", Severity: 2, InstanceID: web2, CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Second)}
		if err := sb.ImportSecurityHubFinding(prod, region, g.ASFF()); err != nil {
			t.Fatal(err)
		}
	}
	// GetFindings returns the most recently updated first: the newest is
	// found, the oldest is beyond what the action reads.
	newest := fmt.Sprintf("%032x", 2050)
	out, err := securityhub.UpdateFinding{}.Do(context.Background(), call(t, sb, prod, action.Values{"finding_id": action.StringValue(newest), "status": action.StringValue("NOTIFIED"), "instance_id": action.StringValue(web2)}))
	if err != nil || !out.Bool("changed") {
		t.Fatalf("newest: %v, changed=%v", err, out.Bool("changed"))
	}
	_, err = securityhub.UpdateFinding{}.Do(context.Background(), call(t, sb, prod, action.Values{"finding_id": action.StringValue(fmt.Sprintf("%032x", 1)), "status": action.StringValue("NOTIFIED")}))
	if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "give its ASFF Id") {
		t.Errorf("oldest: %v, want a permanent error asking for the ASFF Id", err)
	}
}
