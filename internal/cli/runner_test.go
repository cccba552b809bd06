package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// seededFinding writes a finding about the default world's leaked key, as
// the in-process sandbox of playbook test (seed 1) knows it.
func seededFinding(t *testing.T, kind string) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sb.NewFinding(sandbox.Finding{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	timestamps = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	// Statement ids carry the idempotency key, which holds the incident id.
	keyTokens = regexp.MustCompile(`(FirebreakRevoke)[0-9a-f]{32}`)
)

func TestPlaybookTestEvent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contain.yaml"), []byte(`
name: contain-key
trigger:
  source: [aws.health]
dedup: subjects.access_keys[0].id
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
  - id: sessions
    action: aws.iam.revoke_sessions
    with:
      user: dana
    approval:
      required: true
  - id: tell
    action: core.log
    with:
      message: "disabled a key of ${{ steps.disable.output.user }}"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"health-exposed-key", []string{"--event", seededFinding(t, sandbox.FindingHealthExposedKey), "--playbooks", dir}, 0},
		{"guardduty-iam", []string{"--event", seededFinding(t, sandbox.FindingGuardDutyIAM)}, 0},
		{"protected-by-config", []string{"--event", seededFinding(t, sandbox.FindingHealthExposedKey), "--playbooks", dir, "--config", protectDana(t)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"playbook", "test"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			out = timestamps.ReplaceAllString(out, "<time>")
			out = keyTokens.ReplaceAllString(out, "$1<key>")
			checkRunnerGolden(t, "playbook-test-"+tc.name, out)
		})
	}
}

// protectDana writes a firebreak.yaml whose guardrails protect dana.
func protectDana(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "firebreak.yaml")
	if err := os.WriteFile(path, []byte("aws:\n  region: us-east-1\nguardrails:\n  protected_principals: [\"arn:aws:iam::*:user/dana\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlaybookTestEventErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing event file", []string{"--event", filepath.Join(t.TempDir(), "none.json")}, "no such file"},
		{"bad playbook dir", []string{"--event", seededFinding(t, sandbox.FindingHealthExposedKey), "--playbooks", filepath.Join(t.TempDir(), "none")}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"playbook", "test"}, tc.args...)...)
			if code == 0 || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, output %q %q; want a failure naming %q", code, out, errOut, tc.want)
			}
		})
	}
}

func checkRunnerGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "runner", name+".golden")
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s: output differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// TestApproveDeny drives firebreak approve and deny against a ledger
// with runs waiting for a person.
func TestApproveDeny(t *testing.T) {
	ctx := context.Background()
	db, incidents := waitingIncidents(t, ctx, 2)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no reason", []string{"approve", incidents[0], "disable", "--db", db}, 1, "--reason: required"},
		{"unknown step", []string{"approve", incidents[0], "nope", "--reason", "x", "--db", db}, 1, "step nope[0] has no approval waiting for a decision (waiting: [disable[0]])"},
		{"approve", []string{"approve", incidents[0], "disable", "--reason", "confirmed leak", "--as", "alice", "--db", db}, 0, "approve: incident " + incidents[0] + " step disable[0] by alice (cli)"},
		{"approve twice", []string{"approve", incidents[0], "disable", "--reason", "again", "--db", db}, 1, "none is waiting"},
		{"deny", []string{"deny", incidents[1], "disable", "--reason", "CI key", "--as", "bob", "--db", db}, 0, "deny: incident " + incidents[1] + " step disable[0] by bob (cli)"},
		{"missing ledger", []string{"deny", incidents[1], "disable", "--reason", "x", "--db", filepath.Join(t.TempDir(), "none.db")}, 1, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, output %q %q; want exit %d with %q", code, out, errOut, tc.code, tc.want)
			}
		})
	}
}

// waitingIncidents makes a ledger with n incidents whose step "disable"
// waits for approval, and closes it.
func waitingIncidents(t *testing.T, ctx context.Context, n int) (string, []string) {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 2})
	clients := sandboxClients{sb: sb, creds: sandboxtest.Admin(t, sb)}
	cfg, err := clients.Config(ctx, action.Target{})
	if err != nil {
		t.Fatal(err)
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "ledger.db")
	store, err := ledger.OpenSQLite(ctx, db, ledger.Options{MigrateRiver: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	guard, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: []guardrail.Identity{self}, Clients: clients, Ledger: store})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := playbook.Compile(reg, "approve.yaml", []byte(`
name: approve-first
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
    approval: {required: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.New(runner.Options{Ledger: store, Plans: []*playbook.Plan{plan}, Guard: guard, Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range n {
		ev, err := sb.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ev)
		res, err := r.Ingest(ctx, b)
		if err != nil || len(res) != 1 || res[0].Outcome != runner.NewIncident {
			t.Fatalf("ingest: %v, %v", res, err)
		}
		pass, err := r.Pass(ctx, res[0].RunID, res[0].IncidentID)
		if err != nil || pass.Status != runner.RunWaiting {
			t.Fatalf("pass: %v, %v", pass.Status, err)
		}
		ids = append(ids, res[0].IncidentID)
	}
	return db, ids
}
