package ec2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/action/inspector"
	"github.com/firebreak-sec/firebreak/internal/action/logs"
	"github.com/firebreak-sec/firebreak/internal/action/ssm"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/sweep"
)

const attackerIP = "203.0.113.66"

// bruteForce is the real GuardDuty SSH brute-force sample with the
// sandbox world's values: the instance, the account, the attacker's
// address, a severity and a finding id of our choosing, seen now.
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
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	d["createdAt"], d["updatedAt"] = now, now
	ev["time"] = now[:19] + "Z"
	d["resource"].(map[string]any)["instanceDetails"].(map[string]any)["instanceId"] = instance
	conn := d["service"].(map[string]any)["action"].(map[string]any)["networkConnectionAction"].(map[string]any)
	conn["remoteIpDetails"].(map[string]any)["ipAddressV4"] = attackerIP
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// builtinPlan is the built-in ec2-compromise playbook, compiled with
// every action.
func builtinPlan(t testing.TB) *playbook.Plan {
	t.Helper()
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	plans, err := playbook.Builtin(reg)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(plans, func(p *playbook.Plan) bool { return p.Name() == "ec2-compromise" })
	if i < 0 {
		t.Fatal("no built-in ec2-compromise playbook")
	}
	return plans[i]
}

// planSteps lists the playbook's step ids in order.
func planSteps(p *playbook.Plan) []string {
	var out []string
	for _, st := range p.Stages() {
		for _, s := range st.Steps() {
			out = append(out, s.ID())
		}
	}
	return out
}

// playbookOpts configure playbookRunner.
type playbookOpts struct {
	budgets []guardrail.Budget
	// probe is the runner's step-boundary probe (runner.Options.Probe).
	probe func(step string, at runner.Point)
}

// playbookRunner runs the built-in ec2-compromise playbook on the
// fixture's sandbox with a SQLite ledger and the given budgets.
func (f *fixture) playbookRunner(o playbookOpts) (*runner.Runner, ledger.Store) {
	f.t.Helper()
	ctx := context.Background()
	store, err := ledger.OpenSQLite(ctx, filepath.Join(f.t.TempDir(), "ledger.db"), ledger.Options{MigrateRiver: true})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = store.Close() })
	plan := builtinPlan(f.t)
	cfg, err := f.clients.Config(ctx, action.Target{Account: account, Region: region})
	if err != nil {
		f.t.Fatal(err)
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	g, err := guardrail.New(guardrail.Config{Budgets: o.budgets}, guardrail.Options{Self: []guardrail.Identity{self}, Clients: f.clients, Ledger: store})
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := runner.New(runner.Options{
		Ledger: store, Plans: []*playbook.Plan{plan}, Guard: g, Clients: f.clients, Concurrency: 4,
		Logger: slog.New(slog.NewTextHandler(f.log, nil)), PollInterval: 20 * time.Millisecond, Probe: o.probe,
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
	deadline := time.Now().Add(60 * time.Second)
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
			t.Fatalf("steps still running after 60s: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stepRow returns the ledger's row of a step of an incident.
func stepRow(t *testing.T, store ledger.Store, incident, step string, item int) ledger.Step {
	t.Helper()
	rep, err := store.Report(context.Background(), incident)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range rep.Runs {
		for _, s := range run.Steps {
			if s.StepID == step && s.Item == item {
				return s
			}
		}
	}
	t.Fatalf("incident %s has no step %s[%d]", incident, step, item)
	return ledger.Step{}
}

// stepOutputs decodes a step's recorded outputs with its action's
// declared outputs.
func stepOutputs(t *testing.T, store ledger.Store, incident, step string, a action.Action) action.Values {
	t.Helper()
	out, err := a.Meta().DecodeOutputs(stepRow(t, store, incident, step, 0).Output)
	if err != nil {
		t.Fatalf("step %s: %v", step, err)
	}
	return out
}

// toSecurityHub sends the GuardDuty finding of an EventBridge event to
// the sandbox's Security Hub, as GuardDuty's integration does.
func (f *fixture) toSecurityHub(event []byte) {
	f.t.Helper()
	var ev struct {
		ID     string         `json:"id"`
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		f.t.Fatal(err)
	}
	// The sample names no detector: the account's.
	detector, ok := f.sb.GuardDutyDetector(account, region)
	if !ok {
		f.t.Fatal("the world has no GuardDuty detector")
	}
	ev.Detail["service"].(map[string]any)["detectorId"] = detector
	detail, err := json.Marshal(ev.Detail)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.sb.SendToSecurityHub(sandbox.BusEvent{ID: ev.ID, Source: "aws.guardduty", Detail: detail}); err != nil {
		f.t.Fatal(err)
	}
}

// readsWith reports the error code of an S3 read with creds from the
// attacker's address, "" when it worked.
func (f *fixture) readsWith(creds sandbox.Credentials) string {
	f.t.Helper()
	cfg := sandboxtest.Config(f.t, f.sb, creds, sandbox.WithSourceIP(attackerIP))
	out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(context.Background(),
		&s3.GetObjectInput{Bucket: aws.String("acme-customer-data"), Key: aws.String("customers.csv")})
	if err != nil {
		return action.ErrorCode(err)
	}
	_ = out.Body.Close()
	return ""
}

// The built-in playbook end to end, on the real GuardDuty sample aimed
// at web-1 at high severity (no approval): every step succeeds and the
// sandbox shows it: the evidence kept (one snapshot, tags, termination
// protection), the instance isolated (quarantine group, NACL denies),
// the role's sessions revoked (credentials stolen before are refused),
// the attacker blocked until the sweep runs after the TTL,
// and a revert of the isolation giving the instance its groups back.
func TestPlaybookEC2Compromise(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the playbook through the runner")
	}
	ctx := context.Background()
	f := newIncidentFixture(t)
	web1 := f.instance("web-1")
	stolen, err := f.sb.StealInstanceCredentials(web1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if code := f.readsWith(stolen); code != "" {
		t.Fatalf("the stolen role credentials do not work before the response: %s", code)
	}
	// The brute force's auth log, with its one accepted password.
	if _, err := f.sb.SSHBruteForce(ctx, web1.ID, attackerIP, 5); err != nil {
		t.Fatal(err)
	}
	plan := builtinPlan(t)
	r, store := f.playbookRunner(playbookOpts{})
	const findingID = "5c1f0e2d3a4b5c6d7e8f90a1b2c3d4e5"
	event := bruteForce(t, web1.ID, findingID, 8)
	f.toSecurityHub(event)
	res, err := r.Ingest(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != runner.NewIncident {
		t.Fatalf("ingest: %+v; want one new incident", res)
	}
	inc := res[0].IncidentID
	ids := planSteps(plan)
	steps := settled(t, store, ids[len(ids)-1]+"[0]", inc)[inc]
	want := map[string]string{}
	for _, s := range ids {
		want[s+"[0]"] = string(ledger.StepSucceeded)
	}
	if diff := cmp.Diff(steps, want); diff != "" {
		t.Fatalf("steps (-got +want):\n%s\nlog:\n%s", diff, f.log)
	}

	// Evidence.
	st := f.state(web1.ID)
	if !st.TerminationProtection {
		t.Error("termination protection is off")
	}
	if st.Tags["firebreak:incident"] != inc || st.Tags["firebreak:finding"] != "UnauthorizedAccess:EC2/SSHBruteForce" {
		t.Errorf("tags %v", st.Tags)
	}
	snaps := f.sb.EC2Snapshots(account, region)
	if len(snaps) != 1 || snaps[0].Volume != web1.RootVolume || snaps[0].Tags["firebreak:incident"] != inc {
		t.Errorf("snapshots %+v; want one of %s for the incident", snaps, web1.RootVolume)
	}
	// Isolation: the groups swapped, the NACL denies in place.
	isolate := stepRow(t, store, inc, "isolate", 0)
	isoOut, err := ec2.IsolateInstance{}.Meta().DecodeOutputs(isolate.Output)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.SecurityGroups, []string{isoOut.Str("quarantine_group_id")}); diff != "" || slices.Equal(st.SecurityGroups, web1.SecurityGroups) {
		t.Errorf("web-1's groups (-got +want the quarantine group alone):\n%s", diff)
	}
	blockAttacker := []string{"egress:1:" + attackerIP + "/32", "ingress:1:" + attackerIP + "/32"}
	isolation := []string{"egress:20:" + web1.PrivateIP + "/32", "ingress:20:" + web1.PrivateIP + "/32"}
	denies := f.denies(web1.Subnet)
	for _, want := range append(append([]string{}, blockAttacker...), isolation...) {
		if !slices.Contains(denies, want) {
			t.Errorf("NACL denies %v lack %s", denies, want)
		}
	}
	// Out of its Auto Scaling group before the isolation, which would have
	// made the group replace it.
	if g, ok := f.sb.AutoScalingGroup(account, region, "web"); !ok || slices.Contains(g.Instances, web1.ID) {
		t.Errorf("group web %+v still holds web-1 %s", g, web1.ID)
	}
	// The rotation verified through SSM.
	verify := stepOutputs(t, store, inc, "verify", ssm.VerifyCredentialsRotated{})
	if !verify.Bool("verified") || verify.Str("role") != "web-app" {
		t.Errorf("verify: verified %v, role %q, reason %q; want verified for web-app", verify.Bool("verified"), verify.Str("role"), verify.Str("reason"))
	}
	// Inspector's finding for web-1.
	if vulns := stepOutputs(t, store, inc, "vulnerabilities", inspector.Findings{}); vulns.Int("critical") != 1 || !strings.Contains(strings.Join(vulns.List("top"), " "), "CVE-2024-6387") {
		t.Errorf("vulnerabilities: %d critical, top %v; want CVE-2024-6387", vulns.Int("critical"), vulns.List("top"))
	}
	// GuardDuty's finding in Security Hub: NOTIFIED, with what was done.
	var hub map[string]any
	for _, h := range f.sb.SecurityHubFindings(account, region) {
		if id, _ := h.ASFF["Id"].(string); strings.HasSuffix(id, "/finding/"+findingID) {
			hub = h.ASFF
		}
	}
	workflow, _ := hub["Workflow"].(map[string]any)
	note, _ := hub["Note"].(map[string]any)
	text, _ := note["Text"].(string)
	if workflow["Status"] != "NOTIFIED" || !strings.Contains(text, inc) || !strings.Contains(text, snaps[0].ID) || !strings.Contains(text, attackerIP) {
		t.Errorf("Security Hub finding: workflow %v, note %q; want NOTIFIED and a note naming the incident, the snapshot and the attacker", workflow, text)
	}
	// The accepted password found in the auth log.
	logins := stepOutputs(t, store, inc, "logins", logs.SuccessfulLogins{})
	if !logins.Bool("login_succeeded") || len(logins.List("logins")) != 1 || !strings.Contains(logins.List("logins")[0], "ec2-user "+attackerIP) {
		t.Errorf("logins step: succeeded %v, logins %v; want ec2-user's from %s", logins.Bool("login_succeeded"), logins.List("logins"), attackerIP)
	}
	// Credentials: the role's sessions revoked, the stolen ones refused.
	if pol, err := url.QueryUnescape(f.revokePolicy("web-app")); err != nil || !strings.Contains(pol, `"Effect":"Deny"`) || !strings.Contains(pol, "aws:TokenIssueTime") {
		t.Errorf("web-app's revoke policy %q; want a deny on aws:TokenIssueTime", pol)
	}
	if code := f.readsWith(stolen); code != "AccessDenied" {
		t.Errorf("the stolen role credentials after the response: %q; want AccessDenied", code)
	}

	// The block expires: the sweep `firebreak serve` runs finds it in the
	// ledger and removes it, not an hour later, but once the day is over.
	sweepAt := func(after time.Duration) []string {
		t.Helper()
		now := time.Now().Add(after)
		res, err := sweep.New(sweep.Options{Ledger: store, Clients: f.clients, Now: func() time.Time { return now }}).RunOnce(ctx)
		if err != nil {
			t.Fatalf("sweep %s later: %v", after, err)
		}
		return res.Removed
	}
	if removed := sweepAt(time.Hour); len(removed) != 0 {
		t.Errorf("an hour later the sweep removed %v; want nothing", removed)
	}
	if !slices.Contains(f.denies(web1.Subnet), blockAttacker[1]) {
		t.Errorf("an hour later the NACL no longer denies the attacker: %v", f.denies(web1.Subnet))
	}
	if removed := sweepAt(25 * time.Hour); len(removed) != 1 || !strings.HasSuffix(removed[0], ":"+attackerIP+"/32") {
		t.Errorf("a day later the sweep removed %v; want the attacker's block", removed)
	}
	denies = f.denies(web1.Subnet)
	for _, gone := range blockAttacker {
		if slices.Contains(denies, gone) {
			t.Errorf("after the TTL the NACL still denies %s: %v", gone, denies)
		}
	}
	for _, kept := range isolation {
		if !slices.Contains(denies, kept) {
			t.Errorf("unblock_expired removed the isolation's %s: %v", kept, denies)
		}
	}

	// Reverting the isolation, as compensation would: the original groups
	// come back and the isolation's denies go.
	call := f.call(inc, action.Values{"instance_id": action.StringValue(web1.ID)})
	call.Key.Step = "isolate"
	if err := (ec2.IsolateInstance{}).Revert(ctx, call, isoOut); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.state(web1.ID).SecurityGroups, web1.SecurityGroups); diff != "" {
		t.Errorf("groups after the revert (-got +want the original):\n%s", diff)
	}
	for _, gone := range isolation {
		if slices.Contains(f.denies(web1.Subnet), gone) {
			t.Errorf("after the revert the NACL still denies %s", gone)
		}
	}
}

// A flood of brute-force findings across the web fleet's Auto Scaling
// group, at a severity that needs no person, never isolates more
// instances than the budget: the sandbox sees group swaps on exactly that
// many interfaces, and the other instances wait for a person or are
// refused, as the budget's on_exceed says.
func TestPlaybookIsolationBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the playbook through the runner")
	}
	const budget = 2
	for _, tc := range []struct {
		onExceed guardrail.Verdict
		rest     ledger.StepStatus
	}{
		{guardrail.NeedsApproval, ledger.StepAwaitingApproval},
		{guardrail.Deny, ledger.StepDenied},
	} {
		t.Run(string(tc.onExceed), func(t *testing.T) {
			f := newIncidentFixture(t)
			group, ok := f.sb.AutoScalingGroup(account, region, "web")
			if !ok || len(group.Instances) <= budget {
				t.Fatalf("the world's group web is %+v; want more than %d instances", group, budget)
			}
			var fleet []sandbox.EC2InstanceState
			for _, id := range group.Instances {
				fleet = append(fleet, f.state(id))
			}
			r, store := f.playbookRunner(playbookOpts{budgets: []guardrail.Budget{{
				Name: "isolations", Actions: []string{"aws.ec2.isolate_instance"}, Window: time.Hour, Max: budget, OnExceed: tc.onExceed,
			}}})
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
			isolated, rest := 0, 0
			for _, steps := range all {
				switch steps["isolate[0]"] {
				case string(ledger.StepSucceeded):
					isolated++
				case string(tc.rest):
					rest++
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
			if isolated != budget || rest != len(fleet)-budget || swaps != budget || quarantined != budget {
				t.Errorf("isolated %d, %s %d, group swaps %d, instances quarantined %d; want %d, %d, %d, %d\nsteps: %v",
					isolated, tc.rest, rest, swaps, quarantined, budget, len(fleet)-budget, budget, budget, all)
			}
		})
	}
}
