package ec2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

const attackerIP = "203.0.113.66"

// bruteForce is the real GuardDuty SSH brute-force sample with the
// sandbox world's values: the instance, the account, the attacker's
// address, a severity and a finding id of our choosing.
func bruteForce(t testing.TB, instance, findingID string, severity float64) []byte {
	t.Helper()
	data, err := samples.Read("guardduty/unauthorizedaccess-ec2-sshbruteforce-gd2acl.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	ev["account"] = account
	ev["id"] = "evt-" + findingID
	d := ev["detail"].(map[string]any)
	d["id"] = findingID
	d["accountId"] = account
	d["region"] = region
	d["severity"] = severity
	d["resource"].(map[string]any)["instanceDetails"].(map[string]any)["instanceId"] = instance
	conn := d["service"].(map[string]any)["action"].(map[string]any)["networkConnectionAction"].(map[string]any)
	conn["remoteIpDetails"].(map[string]any)["ipAddressV4"] = attackerIP
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// playbookRunner runs the built-in ec2-compromise playbook on the
// fixture's sandbox with a SQLite ledger and the given budgets.
func (f *fixture) playbookRunner(budgets ...guardrail.Budget) (*runner.Runner, ledger.Store) {
	f.t.Helper()
	ctx := context.Background()
	store, err := ledger.OpenSQLite(ctx, filepath.Join(f.t.TempDir(), "ledger.db"), ledger.Options{MigrateRiver: true})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = store.Close() })
	reg, err := catalog.Registry()
	if err != nil {
		f.t.Fatal(err)
	}
	plans, err := playbook.Builtin(reg)
	if err != nil {
		f.t.Fatal(err)
	}
	i := slices.IndexFunc(plans, func(p *playbook.Plan) bool { return p.Name() == "ec2-compromise" })
	if i < 0 {
		f.t.Fatal("no built-in ec2-compromise playbook")
	}
	cfg, err := f.clients.Config(ctx, action.Target{Account: account, Region: region})
	if err != nil {
		f.t.Fatal(err)
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	g, err := guardrail.New(guardrail.Config{Budgets: budgets}, guardrail.Options{Self: []guardrail.Identity{self}, Clients: f.clients, Ledger: store})
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := runner.New(runner.Options{
		Ledger: store, Plans: plans[i : i+1], Guard: g, Clients: f.clients, Concurrency: 4,
		Logger: slog.New(slog.NewTextHandler(f.log, nil)), PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	if err := r.Start(runCtx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { cancel(); _ = r.Stop(context.Background()) })
	return r, store
}

// settled waits until step of every incident has finished or waits for a
// person, and no step is pending or running, and returns
// "step[item]=status" of each incident's steps.
func settled(t *testing.T, store ledger.Store, step string, incidents ...string) map[string]map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := map[string]map[string]string{}
		busy := false
		for _, id := range incidents {
			rep, err := store.Report(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = map[string]string{}
			for _, run := range rep.Runs {
				for _, s := range run.Steps {
					out[id][fmt.Sprintf("%s[%d]", s.StepID, s.Item)] = string(s.Status)
					if s.Status == ledger.StepPending || s.Status == ledger.StepRunning {
						busy = true
					}
				}
			}
			switch ledger.StepStatus(out[id][step]) {
			case ledger.StepSucceeded, ledger.StepFailed, ledger.StepSkipped, ledger.StepDenied, ledger.StepAwaitingApproval:
			default:
				busy = true
			}
		}
		if !busy {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("steps still running after 30s: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The built-in playbook, on the real GuardDuty sample aimed at web-1 at
// high severity: every step succeeds, and the sandbox shows the evidence
// kept and the instance contained.
func TestPlaybookEC2Compromise(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the playbook through the runner")
	}
	f := newFixture(t)
	web1 := f.instance("web-1")
	r, store := f.playbookRunner()
	res, err := r.Ingest(context.Background(), bruteForce(t, web1.ID, "gd-1", 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != runner.NewIncident {
		t.Fatalf("ingest: %+v; want one new incident", res)
	}
	steps := settled(t, store, "block[0]", res[0].IncidentID)[res[0].IncidentID]
	want := map[string]string{}
	for _, s := range []string{"evidence", "snapshot", "tag", "protect", "isolate", "rotate", "block"} {
		want[s+"[0]"] = string(ledger.StepSucceeded)
	}
	if diff := cmp.Diff(steps, want); diff != "" {
		t.Fatalf("steps (-got +want):\n%s\nlog:\n%s", diff, f.log)
	}

	st := f.state(web1.ID)
	if len(st.SecurityGroups) != 1 || slices.Equal(st.SecurityGroups, web1.SecurityGroups) {
		t.Errorf("web-1's groups %v; want the quarantine group alone", st.SecurityGroups)
	}
	if !st.TerminationProtection {
		t.Error("termination protection is off")
	}
	if st.Tags["firebreak:incident"] != res[0].IncidentID || st.Tags["firebreak:finding"] != "UnauthorizedAccess:EC2/SSHBruteForce" {
		t.Errorf("tags %v", st.Tags)
	}
	snaps := f.sb.EC2Snapshots(account, region)
	if len(snaps) != 1 || snaps[0].Volume != web1.RootVolume || snaps[0].Tags["firebreak:incident"] != res[0].IncidentID {
		t.Errorf("snapshots %+v; want one of %s for the incident", snaps, web1.RootVolume)
	}
	if f.revokePolicy("web-app") == "" {
		t.Error("web-app's sessions are not revoked")
	}
	denies := strings.Join(f.denies(web1.Subnet), " ")
	for _, want := range []string{"ingress:1:" + attackerIP + "/32", "egress:1:" + attackerIP + "/32", "ingress:20:" + web1.PrivateIP + "/32", "egress:20:" + web1.PrivateIP + "/32"} {
		if !strings.Contains(denies, want) {
			t.Errorf("NACL denies %s lack %s", denies, want)
		}
	}
}

// A flood of brute-force findings across the web fleet, at a severity
// that needs no person, never isolates more instances than the budget:
// the sandbox sees group swaps on exactly that many interfaces.
func TestPlaybookIsolationBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the playbook through the runner")
	}
	const budget = 2
	f := newFixture(t)
	var fleet []sandbox.EC2InstanceState
	for _, name := range []string{"web-1", "web-2", "web-3", "bastion"} {
		fleet = append(fleet, f.instance(name))
	}
	r, store := f.playbookRunner(guardrail.Budget{
		Name: "isolations", Actions: []string{"aws.ec2.isolate_instance"}, Window: time.Hour, Max: budget, OnExceed: guardrail.NeedsApproval,
	})
	incidents := map[string]bool{}
	for i := range 200 {
		inst := fleet[i%len(fleet)]
		res, err := r.Ingest(context.Background(), bruteForce(t, inst.ID, fmt.Sprintf("gd-%d", i), 8))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			if x.IncidentID != "" {
				incidents[x.IncidentID] = true
			}
		}
	}
	if len(incidents) != len(fleet) {
		t.Fatalf("%d incidents; want one per instance, %d", len(incidents), len(fleet))
	}
	ids := make([]string, 0, len(incidents))
	for id := range incidents {
		ids = append(ids, id)
	}
	all := settled(t, store, "isolate[0]", ids...)
	isolated, waiting := 0, 0
	for _, steps := range all {
		switch steps["isolate[0]"] {
		case string(ledger.StepSucceeded):
			isolated++
		case string(ledger.StepAwaitingApproval):
			waiting++
		}
	}
	swaps := 0
	for _, rec := range f.sb.Trail() {
		if (rec.EventName == "ModifyNetworkInterfaceAttribute" || rec.EventName == "ModifyInstanceAttribute" && strings.Contains(string(rec.RequestParameters), "roupId")) && rec.ErrorCode == "" {
			swaps++
		}
	}
	quarantined := 0
	for _, inst := range fleet {
		if !slices.Equal(f.state(inst.ID).SecurityGroups, inst.SecurityGroups) {
			quarantined++
		}
	}
	if isolated != budget || waiting != len(fleet)-budget || swaps != budget || quarantined != budget {
		t.Errorf("isolated %d, awaiting approval %d, group swaps %d, instances quarantined %d; want %d, %d, %d, %d\nsteps: %v",
			isolated, waiting, swaps, quarantined, budget, len(fleet)-budget, budget, budget, all)
	}
}
