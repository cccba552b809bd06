package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

func init() {
	// Other test files in this package may define -update too.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/ledger/<name>.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "ledger", name+".golden")
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", path, diff)
	}
}

// ledgerFixture is a ledger file with three incidents, the last one with
// a run, steps, approvals, guardrail decisions and evidence.
type ledgerFixture struct {
	path string
	ids  map[string]string // real id → placeholder, for golden files
	last string            // the full incident's id
}

func (f ledgerFixture) scrub(s string) string {
	for id, name := range f.ids {
		s = strings.ReplaceAll(s, id, name)
	}
	return s
}

var fixtureT0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func newLedgerFixture(t *testing.T) ledgerFixture {
	t.Helper()
	ctx := context.Background()
	now := fixtureT0
	f := ledgerFixture{path: filepath.Join(t.TempDir(), "firebreak.db"), ids: map[string]string{}}
	s, err := ledger.OpenSQLite(ctx, f.path, ledger.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	// Placeholders as wide as the ids they replace keep columns aligned.
	name := func(id, placeholder string) {
		if _, ok := f.ids[id]; !ok {
			f.ids[id] = placeholder + strings.Repeat(".", max(0, len(id)-len(placeholder)))
		}
	}
	key := ledger.Subject{Kind: ledger.SubjectAccessKey, Value: "AKIAIOSFODNN7EXAMPLE"}
	user := ledger.Subject{Kind: ledger.SubjectUser, Value: "ci-deployer"}
	ip := ledger.Subject{Kind: ledger.SubjectIP, Value: "198.51.100.7"}
	findings := []ledger.Finding{
		{DedupKey: "health/AWS_RISK_CREDENTIALS_EXPOSED/AKIAIOSFODNN7EXAMPLE", Playbook: "exposed-key", Source: "aws.health", FindingType: "AWS_RISK_CREDENTIALS_EXPOSED",
			Title: "Access key AKIAIOSFODNN7EXAMPLE exposed", Severity: 9, SeverityLabel: "critical", Account: "123456789012", Region: "us-east-1",
			Seen: fixtureT0, Subjects: []ledger.Subject{key, user}},
		{DedupKey: "guardduty/abc123", Playbook: "ec2-attack", Source: "aws.guardduty", FindingType: "UnauthorizedAccess:EC2/SSHBruteForce",
			Title: "SSH brute force against i-0abc", Severity: 5, SeverityLabel: "medium", Account: "123456789012", Region: "eu-west-1",
			Seen: fixtureT0.Add(time.Hour), Subjects: []ledger.Subject{{Kind: ledger.SubjectInstance, Value: "i-0abc"}, ip}},
		{DedupKey: "guardduty/def456", Playbook: "exposed-key", Source: "aws.guardduty", FindingType: "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
			Title: "API calls from a known malicious IP", Severity: 8, SeverityLabel: "high", Account: "123456789012", Region: "us-east-1",
			Seen: fixtureT0.Add(2 * time.Hour), Subjects: []ledger.Subject{key, user, ip}},
	}
	err = s.Update(ctx, func(tx ledger.Tx) error {
		for i, fd := range findings {
			inc, _, err := tx.RecordFinding(ctx, fd)
			if err != nil {
				return err
			}
			name(inc.ID, "<incident-"+string(rune('1'+i))+">")
			f.last = inc.ID
		}
		// The last finding repeats twice.
		for range 2 {
			repeat := findings[2]
			repeat.Seen = repeat.Seen.Add(10 * time.Minute)
			if _, _, err := tx.RecordFinding(ctx, repeat); err != nil {
				return err
			}
		}
		return tx.SetIncidentStatus(ctx, f.idOf("<incident-1>"), ledger.StatusOpen, ledger.StatusResolved, "key deleted")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx ledger.Tx) error {
		run, err := tx.EnsureRun(ctx, f.last, "exposed-key")
		if err != nil {
			return err
		}
		name(run.ID, "<run-1>")
		disable := ledger.StepKey{RunID: run.ID, StepID: "disable_key"}
		del := ledger.StepKey{RunID: run.ID, StepID: "delete_key"}
		notify := ledger.StepKey{RunID: run.ID, StepID: "notify", Item: 1}
		if _, err := tx.EnsureStep(ctx, disable, "aws.iam.disable_access_key", map[string]string{"access_key_id": "AKIAIOSFODNN7EXAMPLE"}); err != nil {
			return err
		}
		if _, err := tx.EnsureStep(ctx, del, "aws.iam.delete_access_key", nil); err != nil {
			return err
		}
		if _, err := tx.EnsureStep(ctx, notify, "notify.slack", nil); err != nil {
			return err
		}
		for _, tr := range []ledger.Transition{
			{StepKey: disable, From: ledger.StepPending, To: ledger.StepRunning},
			{StepKey: disable, From: ledger.StepRunning, To: ledger.StepSucceeded, Attempt: 1, Output: map[string]string{"status": "Inactive"}},
			{StepKey: del, From: ledger.StepPending, To: ledger.StepAwaitingApproval},
			{StepKey: notify, From: ledger.StepPending, To: ledger.StepRunning},
			{StepKey: notify, From: ledger.StepRunning, To: ledger.StepFailed, Attempt: 1, Error: "slack: channel_not_found"},
		} {
			if _, err := tx.TransitionStep(ctx, tr); err != nil {
				return err
			}
		}
		if _, err := tx.RecordGuardrail(ctx, ledger.GuardrailDecision{IncidentID: f.last, Step: del, Rule: "protected-principals", Verdict: ledger.VerdictNeedsApproval, Reason: "ci-deployer is a CI/CD user"}); err != nil {
			return err
		}
		a, err := tx.RequestApproval(ctx, ledger.ApprovalRequest{IncidentID: f.last, Step: del, RequestedBy: "playbook exposed-key", What: "delete access key AKIAIOSFODNN7EXAMPLE", Why: "severity critical", Expires: now.Add(time.Hour)})
		if err != nil {
			return err
		}
		name(a.ID, "<approval-1>")
		if _, err := tx.DecideApproval(ctx, ledger.ApprovalDecision{ApprovalID: a.ID, Decision: ledger.Deny, By: "bob", Channel: ledger.ChannelSlack, Reason: "CI pipeline still needs it"}); err != nil {
			return err
		}
		if _, err := tx.AddEvidence(ctx, ledger.Evidence{IncidentID: f.last, Step: disable, Kind: "cloudtrail-summary", Inline: json.RawMessage(`{"top_calls":[{"event":"ListBuckets","count":40}]}`)}); err != nil {
			return err
		}
		_, err = tx.AddEvidence(ctx, ledger.Evidence{IncidentID: f.last, Kind: "snapshot", URI: "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0123"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f ledgerFixture) idOf(placeholder string) string {
	for id, p := range f.ids {
		if strings.TrimRight(p, ".") == placeholder {
			return id
		}
	}
	return ""
}

func TestIncidentList(t *testing.T) {
	f := newLedgerFixture(t)
	tests := []struct {
		name string
		args []string
	}{
		{"list-all", nil},
		{"list-open", []string{"--status", "open"}},
		{"list-subject-ip", []string{"--subject", "ip=198.51.100.7"}},
		{"list-limit", []string{"--limit", "1"}},
		{"list-none", []string{"--subject", "bucket=nothing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"incident", "list", "--db", f.path}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, errOut)
			}
			checkGolden(t, tt.name, f.scrub(out))
		})
	}
}

func TestIncidentListJSONAndSince(t *testing.T) {
	f := newLedgerFixture(t)
	code, out, errOut := run(t, "", "incident", "list", "--db", f.path, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var got []ledger.Incident
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output is not a JSON list of incidents: %v\n%s", err, out)
	}
	var ids []string
	for _, inc := range got {
		ids = append(ids, strings.TrimRight(f.ids[inc.ID], "."))
	}
	if diff := cmp.Diff(ids, []string{"<incident-3>", "<incident-2>", "<incident-1>"}); diff != "" {
		t.Errorf("--json ids (-got +want):\n%s", diff)
	}
	// The fixture is dated 2026-11-01; --since counts back from now.
	since := time.Since(fixtureT0.Add(90*time.Minute)).Round(time.Minute) / time.Minute
	code, out, errOut = run(t, "", "incident", "list", "--db", f.path, "--json", "--since", strconv.Itoa(int(since))+"m")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	got = nil
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || f.idOf("<incident-3>") != got[0].ID {
		t.Errorf("--since %dm: got %d incidents, want only <incident-3>", since, len(got))
	}
}

func TestIncidentShow(t *testing.T) {
	f := newLedgerFixture(t)
	code, out, errOut := run(t, "", "incident", "show", f.last, "--db", f.path)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	checkGolden(t, "show", f.scrub(out))

	code, out, errOut = run(t, "", "incident", "show", f.last, "--db", "sqlite://"+f.path, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var r ledger.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json is not a report: %v", err)
	}
	if r.Incident.ID != f.last || len(r.Runs) != 1 || len(r.Runs[0].Steps) != 3 || len(r.SeenBefore) != 2 || len(r.Evidence) != 2 {
		t.Errorf("--json report: incident %s, %d runs, seen before %d, evidence %d", r.Incident.ID, len(r.Runs), len(r.SeenBefore), len(r.Evidence))
	}
}

func TestIncidentErrors(t *testing.T) {
	f := newLedgerFixture(t)
	missing := filepath.Join(t.TempDir(), "nope.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown incident", []string{"incident", "show", "no-such-id", "--db", f.path}, "incident no-such-id: not found"},
		{"missing ledger", []string{"incident", "list", "--db", missing}, missing + " does not exist"},
		{"bad status", []string{"incident", "list", "--db", f.path, "--status", "burning"}, `status "burning": unknown`},
		{"bad since", []string{"incident", "list", "--db", f.path, "--since", "yesterday"}, `--since "yesterday": want a positive duration`},
		{"bad subject kind", []string{"incident", "list", "--db", f.path, "--subject", "planet=mars"}, `unknown kind "planet"`},
		{"subject without value", []string{"incident", "list", "--db", f.path, "--subject", "ip"}, `--subject "ip": want kind=value`},
		{"show without id", []string{"incident", "show", "--db", f.path}, "accepts 1 arg"},
		{"verify missing ledger", []string{"ledger", "verify", "--db", missing}, missing + " does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("a read command created %s", missing)
	}
}

func TestLedgerVerify(t *testing.T) {
	f := newLedgerFixture(t)
	code, out, errOut := run(t, "", "ledger", "verify", "--db", f.path)
	if code != 0 || out != "ok: 20 entries, chain intact\n" {
		t.Fatalf("intact ledger: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	s, err := ledger.OpenSQLite(context.Background(), f.path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TRIGGER audit_log_no_update`,
		`UPDATE audit_log SET payload = replace(payload, 'CI pipeline still needs it', 'approved after all') WHERE action = 'approval.decided'`,
	} {
		if err := ledgertest.Exec(t, s, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = s.Close()

	code, out, errOut = run(t, "", "ledger", "verify", "--db", f.path)
	if code != 1 || out != "" || !strings.Contains(errOut, "audit chain broken at entry 18 (of 20): hash: expected ") {
		t.Errorf("tampered ledger: exit %d, stdout %q, stderr %q; want 1 naming entry 18", code, out, errOut)
	}
	code, out, _ = run(t, "", "ledger", "verify", "--db", f.path, "--json")
	var v ledger.Verification
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 || v.Broken == nil || v.Broken.Seq != 18 {
		t.Errorf("tampered ledger --json: exit %d, %+v, %v", code, v, err)
	}
}

func TestLedgerCommandsReadConfig(t *testing.T) {
	f := newLedgerFixture(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("firebreak.yaml", "ledger:\n  path: "+f.path+"\naws:\n  region: us-east-1\n")
	elsewhere := write("elsewhere.yaml", "ledger:\n  path: "+filepath.Join(dir, "missing.db")+"\naws:\n  region: us-east-1\n")
	bad := write("bad.yaml", "ledger:\n  driver: mysql\naws:\n  region: us-east-1\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"verify from config", []string{"ledger", "verify", "--config", good}, 0, "ok: 20 entries, chain intact\n", ""},
		{"list from config", []string{"incident", "list", "--config", good, "--status", "resolved", "--json"}, 0, `"status": "resolved"`, ""},
		{"--db overrides config", []string{"ledger", "verify", "--config", elsewhere, "--db", f.path}, 0, "ok: 20 entries", ""},
		{"config's ledger missing", []string{"ledger", "verify", "--config", elsewhere}, 1, "", "missing.db does not exist"},
		{"invalid config", []string{"incident", "list", "--config", bad}, 1, "", `bad.yaml:2:11: ledger.driver: must be one of sqlite, postgres, got "mysql"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestLedgerCommandsOnPostgres(t *testing.T) {
	dsn := ledgertest.PostgresDSN(t)
	ctx := context.Background()
	schema := ledgertest.NewSchemaName()
	t.Cleanup(func() { ledgertest.DropSchema(t, dsn, schema) })
	s, err := ledger.OpenPostgres(ctx, dsn, ledger.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	err = s.Update(ctx, func(tx ledger.Tx) error {
		inc, _, err := tx.RecordFinding(ctx, ledger.Finding{DedupKey: "pg", Title: "on PostgreSQL", Subjects: []ledger.Subject{{Kind: ledger.SubjectIP, Value: "203.0.113.1"}}})
		id = inc.ID
		return err
	})
	_ = s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// pgx passes unknown DSN keys to the server as run-time parameters.
	db := dsn + " search_path=" + schema
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db = dsn + sep + "search_path=" + schema
	}
	code, out, errOut := run(t, "", "ledger", "verify", "--db", db)
	if code != 0 || out != "ok: 1 entries, chain intact\n" {
		t.Errorf("verify: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run(t, "", "incident", "list", "--db", db, "--subject", "ip=203.0.113.1")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "on PostgreSQL") {
		t.Errorf("list: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
