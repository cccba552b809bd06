package sweep_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/sweep"
)

const (
	account  = "111111111111"
	region   = "us-east-1"
	attacker = "203.0.113.66"
)

// fixture is the default world, a ledger, and one clock both follow.
type fixture struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	clients actiontest.Clients
	store   ledger.Store
	log     *actiontest.Log
	now     *actiontest.Clock
	subnet  string
	n       int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 5})
	f := &fixture{t: t, sb: sb, clients: actiontest.Admin(t, sb), log: actiontest.NewLog(t, sb), now: actiontest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))}
	f.store = ledgertest.SQLite()(t, ledger.Options{Now: f.clock})
	for _, inst := range sb.EC2Instances(account, region) {
		if inst.Tags["Name"] == "web-1" {
			f.subnet = inst.Subnet
		}
	}
	if f.subnet == "" {
		t.Fatal("world has no web-1")
	}
	return f
}

func (f *fixture) clock() time.Time { return f.now.Now() }

func (f *fixture) advance(d time.Duration) { f.now.Advance(d) }

func (f *fixture) logger() *slog.Logger { return f.log.Logger() }

// sweeper is one process's sweeper, with its own metrics.
func (f *fixture) sweeper(reg prometheus.Registerer, dry bool) *sweep.Sweeper {
	return sweep.New(sweep.Options{Ledger: f.store, Clients: f.clients, Logger: f.logger(), Registerer: reg, Now: f.clock, DryRun: dry})
}

// block runs aws.vpc.block_ip for a new incident and records the step as
// the runner does: pending, running, succeeded with the action's output.
// It returns the incident id.
func (f *fixture) block(params action.Values) string {
	f.t.Helper()
	ctx := context.Background()
	f.n++
	var incID string
	var key ledger.StepKey
	err := f.store.Update(ctx, func(tx ledger.Tx) error {
		inc, _, err := tx.RecordFinding(ctx, ledger.Finding{
			DedupKey: "finding-" + string(rune('a'+f.n)), Playbook: "ec2-compromise", Source: "aws.guardduty",
			Title: "SSH brute force", Severity: 5, Account: account, Region: region,
		})
		if err != nil {
			return err
		}
		run, err := tx.EnsureRun(ctx, inc.ID, "ec2-compromise")
		if err != nil {
			return err
		}
		incID, key = inc.ID, ledger.StepKey{RunID: run.ID, StepID: "block"}
		if _, err := tx.EnsureStep(ctx, key, "aws.vpc.block_ip", encode(params)); err != nil {
			return err
		}
		_, err = tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := vpc.BlockIP{Now: f.clock}.Do(ctx, action.Call{
		Params: params, Key: action.Key{Incident: incID, Step: "block"}, Target: action.Target{Account: account, Region: region},
		Logger: f.logger(), Clients: f.clients,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	err = f.store.Update(ctx, func(tx ledger.Tx) error {
		_, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepRunning, To: ledger.StepSucceeded, Attempt: 1, Output: encode(out)})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return incID
}

// encode stores action values the way the runner does.
func encode(vs action.Values) map[string]any {
	out := map[string]any{}
	for name, v := range vs {
		if v.Kind() == action.KindDuration {
			out[name] = v.Duration().String()
		} else {
			out[name] = v.Native()
		}
	}
	return out
}

func (f *fixture) naclParams(ip string, ttl time.Duration) action.Values {
	return action.Values{
		"ip": action.StringValue(ip), "subnet_ids": action.ListValue([]string{f.subnet}), "ttl": action.DurationValue(ttl),
		"rule_min": action.IntValue(vpc.BlockRuleMin), "rule_max": action.IntValue(vpc.BlockRuleMax), "quota": action.IntValue(vpc.Quota),
	}
}

func (f *fixture) plParams(ip, pl string, ttl time.Duration) action.Values {
	p := f.naclParams(ip, ttl)
	delete(p, "subnet_ids")
	p["prefix_list_id"] = action.StringValue(pl)
	return p
}

// denies lists the deny entries of the subnet's ACL as rule:cidr, both
// directions.
func (f *fixture) denies() []string {
	f.t.Helper()
	_, entries, ok := f.sb.EC2SubnetNACL(account, region, f.subnet)
	if !ok {
		f.t.Fatal("subnet has no network ACL")
	}
	var out []string
	for _, e := range entries {
		if e.Action == "deny" {
			out = append(out, e.CIDR)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fixture) ec2() *awsec2.Client {
	cfg, err := f.clients.Config(context.Background(), action.Target{Account: account, Region: region})
	if err != nil {
		f.t.Fatal(err)
	}
	return awsec2.NewFromConfig(cfg)
}

// prefixList makes an untagged customer-managed prefix list: only the
// ledger can tell the sweep about it.
func (f *fixture) prefixList() string {
	out, err := f.ec2().CreateManagedPrefixList(context.Background(), &awsec2.CreateManagedPrefixListInput{
		PrefixListName: aws.String("firebreak-blocklist"), AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(10),
		Entries: []types.AddPrefixListEntry{{Cidr: aws.String("192.0.2.0/24"), Description: aws.String("office")}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.PrefixList.PrefixListId)
}

func (f *fixture) plEntries(id string) []string {
	out, err := f.ec2().GetManagedPrefixListEntries(context.Background(), &awsec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
	if err != nil {
		f.t.Fatal(err)
	}
	var got []string
	for _, e := range out.Entries {
		got = append(got, aws.ToString(e.Cidr))
	}
	slices.Sort(got)
	return got
}

// unblocked returns the ip_unblocked evidence of an incident.
func (f *fixture) unblocked(incID string) []map[string]any {
	f.t.Helper()
	rep, err := f.store.Report(context.Background(), incID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range rep.Evidence {
		if e.Kind != sweep.EvidenceKind {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(e.Inline, &m); err != nil {
			f.t.Fatal(err)
		}
		if e.Step.StepID != "block" {
			f.t.Errorf("evidence on step %q; want block", e.Step.StepID)
		}
		out = append(out, m)
	}
	return out
}

// counter reads a counter of reg by name and label value ("" for none).
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetValue() == label
			}
			if !match {
				continue
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// writes lists the successful changing calls since mark.
func (f *fixture) writes(mark int) []string { return actiontest.WritesSince(f.sb, mark) }

func TestSweepRemovesAfterTTL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inc := f.block(f.naclParams(attacker, time.Hour))
	if diff := cmp.Diff(f.denies(), []string{attacker + "/32", attacker + "/32"}); diff != "" {
		t.Fatalf("denies after block (-got +want):\n%s", diff)
	}
	reg := prometheus.NewRegistry()
	s := f.sweeper(reg, false)

	f.advance(time.Hour - time.Second)
	mark := len(f.sb.Trail())
	res, err := s.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Swept) != 0 || len(f.denies()) != 2 || len(f.unblocked(inc)) != 0 {
		t.Errorf("before the TTL: %+v, denies %v, evidence %v", res, f.denies(), f.unblocked(inc))
	}
	if got := len(f.sb.Trail()) - mark; got != 0 {
		t.Errorf("a sweep with nothing expired made %d AWS calls", got)
	}

	f.advance(time.Second)
	mark = len(f.sb.Trail())
	res, err = s.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acl, _, _ := f.sb.EC2SubnetNACL(account, region, f.subnet)
	want := sweep.Result{Swept: []string{account + "/" + region}, Removed: []string{account + "/" + region + "/" + acl + ":1:" + attacker + "/32"}, Recorded: 1}
	if diff := cmp.Diff(res, want); diff != "" {
		t.Errorf("result (-got +want):\n%s", diff)
	}
	if got := f.denies(); len(got) != 0 {
		t.Errorf("entries left after the TTL: %v", got)
	}
	if diff := cmp.Diff(f.writes(mark), []string{"DeleteNetworkAclEntry", "DeleteNetworkAclEntry", "DeleteTags"}); diff != "" {
		t.Errorf("the sweep changed more than the block (-got +want):\n%s", diff)
	}
	ev := f.unblocked(inc)
	if len(ev) != 1 || ev[0]["cidr"] != attacker+"/32" || !slices.Equal(anyStrings(ev[0]["removed"]), []string{acl + ":1:" + attacker + "/32"}) {
		t.Errorf("ledger evidence %v; want one ip_unblocked naming the removal", ev)
	}
	for _, line := range []string{"expired block removed", "block end recorded", "sweep done"} {
		if !strings.Contains(f.log.String(), line) {
			t.Errorf("the log lacks %q:\n%s", line, f.log.String())
		}
	}
	if got := counter(t, reg, "firebreak_sweep_blocks_removed_total", "nacl"); got != 1 {
		t.Errorf("removed counter = %v; want 1", got)
	}
	if got := counter(t, reg, "firebreak_sweep_runs_total", "ok"); got != 2 {
		t.Errorf("ok runs = %v; want 2", got)
	}

	// Recorded: the next sweep does not go there again.
	f.advance(time.Hour)
	mark = len(f.sb.Trail())
	if res, err := s.RunOnce(ctx); err != nil || len(res.Swept) != 0 {
		t.Errorf("after recording: %+v, %v", res, err)
	}
	if got := len(f.sb.Trail()) - mark; got != 0 {
		t.Errorf("a sweep of recorded blocks made %d AWS calls", got)
	}
}

// The prefix list is untagged: the sweep learns of it from the ledger.
func TestSweepPrefixListBlockExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pl := f.prefixList()
	inc := f.block(f.plParams(attacker, pl, 30*time.Minute))
	if diff := cmp.Diff(f.plEntries(pl), []string{"192.0.2.0/24", attacker + "/32"}); diff != "" {
		t.Fatalf("entries after block (-got +want):\n%s", diff)
	}
	reg := prometheus.NewRegistry()
	s := f.sweeper(reg, false)
	f.advance(29 * time.Minute)
	if _, err := s.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.plEntries(pl)) != 2 {
		t.Errorf("removed before the TTL: %v", f.plEntries(pl))
	}
	f.advance(time.Minute)
	res, err := s.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res.Removed, []string{account + "/" + region + "/" + pl + ":" + attacker + "/32"}); diff != "" {
		t.Errorf("removed (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.plEntries(pl), []string{"192.0.2.0/24"}); diff != "" {
		t.Errorf("entries after the TTL (-got +want):\n%s", diff)
	}
	if ev := f.unblocked(inc); len(ev) != 1 {
		t.Errorf("evidence %v; want one", ev)
	}
	if got := counter(t, reg, "firebreak_sweep_blocks_removed_total", "prefix_list"); got != 1 {
		t.Errorf("prefix-list removals = %v; want 1", got)
	}
}

// Two processes sweep at once: every block goes, each exactly once, and
// each removal is recorded once.
func TestSweepConcurrent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pl := f.prefixList()
	var incs []string
	for _, ip := range []string{"198.18.0.1", "198.18.0.2", "198.18.0.3"} {
		incs = append(incs, f.block(f.naclParams(ip, time.Hour)))
		incs = append(incs, f.block(f.plParams(ip, pl, time.Hour)))
	}
	f.advance(2 * time.Hour)
	a, b := f.sweeper(prometheus.NewRegistry(), false), f.sweeper(prometheus.NewRegistry(), false)
	var wg sync.WaitGroup
	var resA, resB sweep.Result
	var errA, errB error
	wg.Go(func() { resA, errA = a.RunOnce(ctx) })
	wg.Go(func() { resB, errB = b.RunOnce(ctx) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("sweeps: %v; %v", errA, errB)
	}
	if got := f.denies(); len(got) != 0 {
		t.Errorf("entries left: %v", got)
	}
	if diff := cmp.Diff(f.plEntries(pl), []string{"192.0.2.0/24"}); diff != "" {
		t.Errorf("prefix list (-got +want):\n%s", diff)
	}
	removed := append(slices.Clone(resA.Removed), resB.Removed...)
	slices.Sort(removed)
	if len(removed) != 6 || len(slices.Compact(slices.Clone(removed))) != 6 {
		t.Errorf("removed between them %v; want 6, each once", removed)
	}
	if resA.Recorded+resB.Recorded != 6 {
		t.Errorf("recorded %d + %d; want 6", resA.Recorded, resB.Recorded)
	}
	for _, inc := range incs {
		if ev := f.unblocked(inc); len(ev) != 1 {
			t.Errorf("incident %s: evidence %v; want one", inc, ev)
		}
	}
}

// A block reverted before its expiry leaves nothing to remove: once the
// expiry is an interval past, the sweep records that and stops visiting.
func TestSweepRecordsBlockGoneElsewhere(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	params := f.naclParams(attacker, time.Hour)
	inc := f.block(params)
	call := action.Call{Params: params, Target: action.Target{Account: account, Region: region}, Clients: f.clients}
	rep, err := f.store.Report(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	var done action.Values
	out := rep.Runs[0].Steps[0].Output
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	done = action.Values{"cidr": action.StringValue(raw["cidr"].(string)), "entries": action.ListValue(anyStrings(raw["entries"]))}
	if err := (vpc.BlockIP{}).Revert(ctx, call, done); err != nil {
		t.Fatal(err)
	}
	s := f.sweeper(nil, false)
	f.advance(time.Hour + time.Minute)
	if res, err := s.RunOnce(ctx); err != nil || res.Recorded != 0 {
		t.Errorf("within an interval of the expiry: %+v, %v; want nothing recorded yet", res, err)
	}
	f.advance(sweep.DefaultInterval)
	if res, err := s.RunOnce(ctx); err != nil || res.Recorded != 1 || len(res.Removed) != 0 {
		t.Errorf("an interval later: %+v, %v; want the end recorded, nothing removed", res, err)
	}
	ev := f.unblocked(inc)
	if len(ev) != 1 || !strings.Contains(ev[0]["note"].(string), "nothing of the block was left") {
		t.Errorf("evidence %v", ev)
	}
}

func TestSweepDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	inc := f.block(f.naclParams(attacker, time.Hour))
	f.advance(2 * time.Hour)
	mark := len(f.sb.Trail())
	res, err := f.sweeper(nil, true).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Recorded != 0 {
		t.Errorf("dry run %+v; want one planned removal, nothing recorded", res)
	}
	if got := f.writes(mark); len(got) != 0 {
		t.Errorf("dry run wrote %v", got)
	}
	if len(f.denies()) != 2 || len(f.unblocked(inc)) != 0 {
		t.Errorf("dry run removed %v or recorded %v", f.denies(), f.unblocked(inc))
	}
}

// Run sweeps at once and every interval, and returns when ctx ends.
func TestRunStopsWithContext(t *testing.T) {
	f := newFixture(t)
	f.block(f.naclParams(attacker, time.Hour))
	f.advance(2 * time.Hour)
	reg := prometheus.NewRegistry()
	s := sweep.New(sweep.Options{Ledger: f.store, Clients: f.clients, Registerer: reg, Now: f.clock, Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for counter(t, reg, "firebreak_sweep_runs_total", "ok") < 3 {
		if time.Now().After(deadline) {
			t.Fatal("fewer than 3 sweeps in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(f.denies()) != 0 {
		t.Errorf("Run left %v", f.denies())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v; want nil on cancellation", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

func TestMissingOptions(t *testing.T) {
	if err := sweep.New(sweep.Options{}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Options.Ledger is required") {
		t.Errorf("Run without a ledger: %v", err)
	}
	f := newFixture(t)
	if _, err := sweep.New(sweep.Options{Ledger: f.store}).RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "Options.Clients is required") {
		t.Errorf("RunOnce without clients: %v", err)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
