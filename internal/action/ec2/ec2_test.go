package ec2_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/actiontest"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const (
	account = "111111111111"
	region  = "us-east-1"
)

// fixture is the sandbox's default world (the web fleet) and the
// responder's clients.
type fixture struct {
	t       testing.TB
	sb      *sandbox.Sandbox
	clients actiontest.Clients
	log     *actiontest.Log
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 11})
	return fixtureOn(t, sb)
}

// fixtureOn is the fixture on sb, whose log must show none of sb's
// secrets.
func fixtureOn(t testing.TB, sb *sandbox.Sandbox) *fixture {
	return &fixture{t: t, sb: sb, clients: actiontest.Admin(t, sb), log: actiontest.NewLog(t, sb)}
}

func (f *fixture) call(incident string, params action.Values) action.Call {
	return actiontest.Caller{Clients: f.clients, Target: action.Target{Account: account, Region: region}, Incident: incident, Log: f.log}.Call("contain", params)
}

// instance returns the world's instance with the Name tag name.
func (f *fixture) instance(name string) sandbox.EC2InstanceState {
	f.t.Helper()
	for _, inst := range f.sb.EC2Instances(account, region) {
		if inst.Tags["Name"] == name {
			return inst
		}
	}
	f.t.Fatalf("world has no instance %s", name)
	return sandbox.EC2InstanceState{}
}

func (f *fixture) state(id string) sandbox.EC2InstanceState {
	f.t.Helper()
	st, ok := f.sb.EC2Instance(account, region, id)
	if !ok {
		f.t.Fatalf("instance %s gone", id)
	}
	return st
}

// denies lists the subnet's NACL deny entries, as direction:rule:cidr.
func (f *fixture) denies(subnet string) []string {
	f.t.Helper()
	return actiontest.Denies(f.t, f.sb, account, region, subnet)
}

// mark is the position in the trail; writesSince lists the successful
// changing calls after it.
func (f *fixture) mark() int { return len(f.sb.Trail()) }

func (f *fixture) writesSince(mark int) []string { return actiontest.WritesSince(f.sb, mark) }

func TestIsolateInstance(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	before := web1.SecurityGroups
	params := action.Values{
		"instance_id": action.StringValue(web1.ID), "quarantine_group": action.StringValue("firebreak-quarantine"),
		"nacl_rule_min": action.IntValue(ec2.IsolateRuleMin), "nacl_rule_max": action.IntValue(ec2.IsolateRuleMax),
	}
	call := f.call("inc-1", params)
	a := ec2.IsolateInstance{}

	m := f.mark()
	planned, err := a.Check(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	ops := actiontest.Operations(planned)
	wantOps := []string{
		"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls",
		"ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags", "ec2:ModifyNetworkInterfaceAttribute",
		"ec2:CreateNetworkAclEntry", "ec2:CreateNetworkAclEntry",
	}
	if diff := cmp.Diff(ops, wantOps); diff != "" {
		t.Errorf("Check planned (-got +want):\n%s", diff)
	}

	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	group := out.Str("quarantine_group_id")
	after := f.state(web1.ID)
	if diff := cmp.Diff(after.SecurityGroups, []string{group}); diff != "" {
		t.Errorf("groups after isolation (-got +want):\n%s", diff)
	}
	if rules, _ := f.sb.EC2SecurityGroupRules(account, region, group); len(rules) != 0 {
		t.Errorf("quarantine group has rules %+v; want none", rules)
	}
	ip := web1.PrivateIP + "/32"
	wantDenies := []string{"egress:20:" + ip, "ingress:20:" + ip}
	if diff := cmp.Diff(f.denies(web1.Subnet), wantDenies); diff != "" {
		t.Errorf("NACL denies after isolation (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(out.List("original_groups"), []string{web1.NetworkInterface + "=" + strings.Join(before, ",")}); diff != "" {
		t.Errorf("original_groups (-got +want):\n%s", diff)
	}
	if !out.Bool("changed") {
		t.Error("changed = false on the first run")
	}

	// A retried step (the same call) finds everything in place.
	m = f.mark()
	again, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("second run wrote %v", got)
	}
	if again.Bool("changed") {
		t.Error("second run: changed = true")
	}
	delete(again, "changed")
	delete(out, "changed")
	if diff := cmp.Diff(again, out, cmp.Comparer(func(x, y action.Value) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("second run's outputs differ, changed aside (-got +want):\n%s", diff)
	}

	// A second instance reuses the group and takes the next rule number.
	web3 := f.instance("web-3")
	out3, err := a.Do(context.Background(), f.call("inc-2", action.Values{
		"instance_id": action.StringValue(web3.ID), "quarantine_group": action.StringValue("firebreak-quarantine"),
		"nacl_rule_min": action.IntValue(ec2.IsolateRuleMin), "nacl_rule_max": action.IntValue(ec2.IsolateRuleMax),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if out3.Str("quarantine_group_id") != group {
		t.Errorf("second instance got group %s; want the existing %s", out3.Str("quarantine_group_id"), group)
	}
	ip3 := web3.PrivateIP + "/32"
	wantDenies = []string{"egress:20:" + ip, "egress:21:" + ip3, "ingress:20:" + ip, "ingress:21:" + ip3}
	if diff := cmp.Diff(f.denies(web1.Subnet), wantDenies); diff != "" {
		t.Errorf("NACL denies with two isolated (-got +want):\n%s", diff)
	}

	// Revert restores web-1 and removes its entries only.
	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.state(web1.ID).SecurityGroups, before); diff != "" {
		t.Errorf("groups after revert (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.denies(web1.Subnet), []string{"egress:21:" + ip3, "ingress:21:" + ip3}); diff != "" {
		t.Errorf("NACL denies after revert (-got +want):\n%s", diff)
	}
	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Errorf("second revert: %v", err)
	}
}

func TestIsolateForensicAccess(t *testing.T) {
	f := newFixture(t)
	web2 := f.instance("web-2")
	call := f.call("inc-1", action.Values{
		"instance_id": action.StringValue(web2.ID), "quarantine_group": action.StringValue("quarantine"),
		"forensic_cidr": action.StringValue("198.51.100.7/32"),
		"nacl_rule_min": action.IntValue(30), "nacl_rule_max": action.IntValue(31),
	})
	out, err := ec2.IsolateInstance{}.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := f.sb.EC2SecurityGroupRules(account, region, out.Str("quarantine_group_id"))
	want := []sandbox.EC2SecurityGroupRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "198.51.100.7/32"}}
	if diff := cmp.Diff(rules, want); diff != "" {
		t.Errorf("quarantine rules (-got +want):\n%s", diff)
	}
	ip := web2.PrivateIP + "/32"
	if diff := cmp.Diff(f.denies(web2.Subnet), []string{"egress:30:" + ip, "ingress:30:" + ip}); diff != "" {
		t.Errorf("NACL denies (-got +want):\n%s", diff)
	}
}

func TestSnapshotVolumesOncePerIncident(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	params := action.Values{"instance_id": action.StringValue(web1.ID), "description": action.StringValue("evidence")}
	a := ec2.SnapshotVolumes{}

	m := f.mark()
	if _, err := a.Check(context.Background(), f.call("inc-1", params)); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	first, err := a.Do(context.Background(), f.call("inc-1", params))
	if err != nil {
		t.Fatal(err)
	}
	// The step is retried (say the process died before recording it).
	retry, err := a.Do(context.Background(), f.call("inc-1", params))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(retry.List("snapshot_ids"), first.List("snapshot_ids")); diff != "" {
		t.Errorf("retry's snapshots (-got +want):\n%s", diff)
	}
	if retry.Bool("changed") {
		t.Error("retry changed = true")
	}
	snaps := f.sb.EC2Snapshots(account, region)
	var got []string
	for _, s := range snaps {
		got = append(got, s.Volume+" "+s.Tags["firebreak:incident"]+" "+s.Tags["firebreak:instance"])
	}
	if diff := cmp.Diff(got, []string{web1.RootVolume + " inc-1 " + web1.ID}); diff != "" {
		t.Errorf("snapshots in the sandbox (-got +want):\n%s", diff)
	}
	// Another incident takes its own snapshot.
	other, err := a.Do(context.Background(), f.call("inc-2", params))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.List("snapshot_ids"), first.List("snapshot_ids")) || len(f.sb.EC2Snapshots(account, region)) != 2 {
		t.Errorf("incident inc-2 reused %v; want a new snapshot", other.List("snapshot_ids"))
	}
}

func TestTerminationProtection(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	call := f.call("inc-1", action.Values{"instance_id": action.StringValue(web1.ID)})
	a := ec2.EnableTerminationProtection{}
	m := f.mark()
	planned, err := a.Check(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 || len(planned) != 2 {
		t.Fatalf("Check wrote %v, planned %v", got, planned)
	}
	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if !f.state(web1.ID).TerminationProtection || out.Bool("was_protected") || !out.Bool("changed") {
		t.Fatalf("after Do: protection %t, outputs %v", f.state(web1.ID).TerminationProtection, out)
	}
	again, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Bool("was_protected") || again.Bool("changed") {
		t.Errorf("second run outputs %v; want was_protected, unchanged", again)
	}
	// Reverting the second run (protection was already on) leaves it on.
	if err := a.Revert(context.Background(), call, again); err != nil {
		t.Fatal(err)
	}
	if !f.state(web1.ID).TerminationProtection {
		t.Error("revert of a run that found protection on turned it off")
	}
	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if f.state(web1.ID).TerminationProtection {
		t.Error("protection still on after revert")
	}
}

func TestTag(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	call := f.call("inc-1", action.Values{
		"instance_id": action.StringValue(web1.ID),
		"tags":        action.ListValue([]string{"firebreak:incident=inc-1", "env=quarantined", "team=web"}),
	})
	a := ec2.Tag{}
	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	got := f.state(web1.ID).Tags
	want := map[string]string{"Name": "web-1", "team": "web", "env": "quarantined", "firebreak:incident": "inc-1"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("tags (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(out.List("previous"), []string{"firebreak:incident", "env=prod"}); diff != "" {
		t.Errorf("previous (-got +want):\n%s", diff)
	}
	snap := f.sb.EC2Snapshots(account, region) // none: tags go on the volume, not snapshots
	if len(snap) != 0 {
		t.Errorf("tagging made snapshots %v", snap)
	}
	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.state(web1.ID).Tags, web1.Tags); diff != "" {
		t.Errorf("tags after revert (-got +want):\n%s", diff)
	}
}

func TestBadCalls(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	tests := []struct {
		name   string
		a      action.Action
		params action.Values
		want   string
	}{
		{"unknown instance", ec2.IsolateInstance{}, action.Values{"instance_id": action.StringValue("i-0123456789abcdef0"), "quarantine_group": action.StringValue("q"), "nacl_rule_min": action.IntValue(20), "nacl_rule_max": action.IntValue(39)}, "i-0123456789abcdef0"},
		{"rule range upside down", ec2.IsolateInstance{}, action.Values{"instance_id": action.StringValue(web1.ID), "quarantine_group": action.StringValue("q"), "nacl_rule_min": action.IntValue(39), "nacl_rule_max": action.IntValue(20)}, "nacl rule range 39–20"},
		{"tag without value", ec2.Tag{}, action.Values{"instance_id": action.StringValue(web1.ID), "tags": action.ListValue([]string{"env"})}, `tags[0] "env": want key=value`},
		{"reserved tag", ec2.Tag{}, action.Values{"instance_id": action.StringValue(web1.ID), "tags": action.ListValue([]string{"aws:x=1"})}, "reserved"},
		{"unknown instance snapshot", ec2.SnapshotVolumes{}, action.Values{"instance_id": action.StringValue("i-0123456789abcdef0")}, "i-0123456789abcdef0"},
		{"unknown instance protect", ec2.EnableTerminationProtection{}, action.Values{"instance_id": action.StringValue("i-0123456789abcdef0")}, "i-0123456789abcdef0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := f.mark()
			_, err := tt.a.Do(context.Background(), f.call("inc-1", tt.params))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
			if got := action.Classify(err); got != action.Permanent {
				t.Errorf("class %v; want permanent", got)
			}
			if got := f.writesSince(m); len(got) != 0 {
				t.Errorf("a refused call wrote %v", got)
			}
		})
	}
}

func TestCaptureMetadata(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	m := f.mark()
	out, err := ec2.CaptureMetadata{}.Do(context.Background(), f.call("inc-1", action.Values{"instance_id": action.StringValue(web1.ID)}))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("capture wrote %v", got)
	}
	if diff := cmp.Diff(out.List("security_groups"), web1.SecurityGroups); diff != "" {
		t.Errorf("security_groups (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(out.List("network_interfaces"), []string{web1.NetworkInterface + "=" + web1.PrivateIP + "," + strings.Join(web1.SecurityGroups, ",")}); diff != "" {
		t.Errorf("network_interfaces (-got +want):\n%s", diff)
	}
	if out.Str("instance_profile") != web1.InstanceProfileARN || web1.InstanceProfileARN == "" {
		t.Errorf("instance_profile %q; want %q", out.Str("instance_profile"), web1.InstanceProfileARN)
	}
	for _, want := range []string{`"instance_id":"` + web1.ID + `"`, `"public_ip":"54.0.0.10"`, `"Name":"web-1"`, web1.RootVolume} {
		if !strings.Contains(out.Str("instance"), want) {
			t.Errorf("instance %s lacks %s", out.Str("instance"), want)
		}
	}
	if out.Str("console_output") == "" {
		t.Error("no console output captured")
	}
}

func TestStop(t *testing.T) {
	f := newFixture(t)
	web2 := f.instance("web-2")
	call := f.call("inc-1", action.Values{"instance_id": action.StringValue(web2.ID)})
	a := ec2.Stop{}
	m := f.mark()
	if _, err := a.Check(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.state(web2.ID).State; got != "stopping" && got != "stopped" || out.Str("previous_state") != "running" {
		t.Fatalf("state %s, outputs %v; want stopping or stopped, previous running", got, out)
	}
	m = f.mark()
	again, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if again.Bool("changed") || len(f.writesSince(m)) != 0 {
		t.Errorf("second stop: %v, wrote %v", again, f.writesSince(m))
	}
	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if got := f.state(web2.ID).State; got != "pending" && got != "running" {
		t.Errorf("state after revert %s; want pending or running", got)
	}
}

// TestIsolateConcurrently isolates two instances of one VPC at once, into
// one quarantine group: whichever creates the group or revokes its egress
// first, both end isolated, at worst after one retry.
func TestIsolateConcurrently(t *testing.T) {
	for range 3 {
		f := newFixture(t)
		// Slow revokes: both isolations have read the group's egress rule
		// before either revoke is served.
		if err := f.sb.SetFaults(1, sandbox.Fault{Service: "ec2", Operation: "RevokeSecurityGroupEgress", Latency: sandbox.Duration(200 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		names := []string{"web-1", "web-2"}
		errs := make([]error, len(names))
		calls := make([]action.Call, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			calls[i] = f.call("inc-"+name, action.Values{
				"instance_id": action.StringValue(f.instance(name).ID), "quarantine_group": action.StringValue("firebreak-quarantine"),
				"nacl_rule_min": action.IntValue(ec2.IsolateRuleMin), "nacl_rule_max": action.IntValue(ec2.IsolateRuleMax),
			})
			wg.Go(func() { _, errs[i] = ec2.IsolateInstance{}.Do(context.Background(), calls[i]) })
		}
		wg.Wait()
		var group string
		for i, name := range names {
			if errs[i] != nil {
				if c := action.Classify(errs[i]); c != action.Retry {
					t.Fatalf("%s: %v (%s); want success or a retry", name, errs[i], c)
				}
				if _, err := (ec2.IsolateInstance{}).Do(context.Background(), calls[i]); err != nil {
					t.Fatalf("%s, retried: %v", name, err)
				}
			}
			groups := f.state(f.instance(name).ID).SecurityGroups
			if len(groups) != 1 || (group != "" && groups[0] != group) {
				t.Fatalf("%s is in %v; want the one quarantine group %s", name, groups, group)
			}
			group = groups[0]
		}
		if rules, _ := f.sb.EC2SecurityGroupRules(account, region, group); len(rules) != 0 {
			t.Errorf("quarantine group has rules %+v; want none", rules)
		}
	}
}
