package ec2_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// newFleetFixture is the sandbox of the Auto Scaling world: web-1..3 in
// group web (min 2, max 4), the bastion in no group.
func newFleetFixture(t testing.TB) *fixture {
	t.Helper()
	w, err := sandbox.LoadWorld("../../sandbox/testdata/autoscaling/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{Seed: 11, World: w})
	return fixtureOn(t, sb)
}

func (f *fixture) group(name string) sandbox.AutoScalingGroupState {
	f.t.Helper()
	g, ok := f.sb.AutoScalingGroup(account, region, name)
	if !ok {
		f.t.Fatalf("no group %s", name)
	}
	return g
}

func TestDetachFromAutoScaling(t *testing.T) {
	ctx := context.Background()
	f := newFleetFixture(t)
	web1 := f.instance("web-1").ID
	a := ec2.DetachFromAutoScaling{}
	if err := action.Validate(a); err != nil {
		t.Fatal(err)
	}
	call := f.call("inc-1", action.Values{"instance_id": action.StringValue(web1), "decrement_desired_capacity": action.BoolValue(false)})

	m := f.mark()
	planned, err := a.Check(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range planned {
		ops = append(ops, c.Operation)
	}
	want := []string{"autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups", "autoscaling:DetachInstances"}
	if diff := cmp.Diff(ops, want); diff != "" || !strings.Contains(planned[2].Detail, "launches a replacement") {
		t.Errorf("Check (-got +want):\n%s\ndetail %q", diff, planned[2].Detail)
	}
	dry := call
	dry.DryRun = true
	if out, err := a.Do(ctx, dry); err != nil || out.Bool("detached") {
		t.Errorf("dry run: %v %v", out, err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check and dry run wrote %v", got)
	}

	out, err := a.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{"group": out.Str("group"), "detached": out.Bool("detached"), "replacement": out.Str("replacement"), "desired": out.Int("desired_capacity")}
	if diff := cmp.Diff(got, map[string]any{"group": "web", "detached": true, "replacement": ec2.ReplacementLaunching, "desired": int64(3)}); diff != "" {
		t.Errorf("outputs (-got +want):\n%s", diff)
	}
	g := f.group("web")
	if slices.Contains(g.Instances, web1) || len(g.Instances) != 3 || g.Desired != 3 {
		t.Errorf("group after detach: %+v; want web-1 out and a replacement in", g)
	}
	if st := f.state(web1); st.State != "running" || st.Tags["aws:autoscaling:groupName"] != "" {
		t.Errorf("web-1 after detach: %s %v", st.State, st.Tags)
	}

	// A retry (the step ran, the result was lost) finds nothing to do.
	m = f.mark()
	again, err := a.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if again.Bool("detached") || len(f.writesSince(m)) != 0 {
		t.Errorf("retry: %v, wrote %v", again, f.writesSince(m))
	}

	// Revert attaches it back; a second revert changes nothing.
	if err := a.Revert(ctx, call, out); err != nil {
		t.Fatal(err)
	}
	m = f.mark()
	if err := a.Revert(ctx, call, out); err != nil {
		t.Fatal(err)
	}
	if g := f.group("web"); !slices.Contains(g.Instances, web1) || g.Desired != 4 || len(f.writesSince(m)) != 0 {
		t.Errorf("after revert: %+v, second revert wrote %v", g, f.writesSince(m))
	}
	if st := f.state(web1); st.Tags["aws:autoscaling:groupName"] != "web" {
		t.Errorf("web-1 tags after revert: %v", st.Tags)
	}

	// The group is now at its maximum: detaching web-1 again and reverting
	// has no room.
	out, err = a.Do(ctx, f.call("inc-2", action.Values{"instance_id": action.StringValue(web1), "decrement_desired_capacity": action.BoolValue(false)}))
	if err != nil {
		t.Fatal(err)
	}
	if g := f.group("web"); g.Desired != 4 || len(g.Instances) != 4 {
		t.Fatalf("group: %+v", g)
	}
	err = a.Revert(ctx, call, out)
	if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "maximum size (4)") {
		t.Errorf("revert into a full group: %v", err)
	}
}

func TestDetachFromAutoScalingDecrement(t *testing.T) {
	ctx := context.Background()
	f := newFleetFixture(t)
	a := ec2.DetachFromAutoScaling{}
	before := len(f.sb.EC2Instances(account, region))
	detach := func(name string) (action.Values, error) {
		return a.Do(ctx, f.call("inc-"+name, action.Values{"instance_id": action.StringValue(f.instance(name).ID), "decrement_desired_capacity": action.BoolValue(true)}))
	}
	out, err := detach("web-2")
	if err != nil {
		t.Fatal(err)
	}
	if out.Str("replacement") != ec2.ReplacementNone || out.Int("desired_capacity") != 2 || f.group("web").Desired != 2 {
		t.Errorf("outputs %v, group %+v", out, f.group("web"))
	}
	if n := len(f.sb.EC2Instances(account, region)); n != before {
		t.Errorf("%d instances, want %d: a decrementing detach launches nothing", n, before)
	}
	// web is at its minimum (2) now.
	m := f.mark()
	_, err = detach("web-3")
	if action.Classify(err) != action.Permanent || !strings.Contains(err.Error(), "minimum size (min 2, desired 2)") || len(f.writesSince(m)) != 0 {
		t.Errorf("detach below the minimum: %v, wrote %v", err, f.writesSince(m))
	}
}

func TestDetachFromAutoScalingNotInAGroup(t *testing.T) {
	ctx := context.Background()
	f := newFleetFixture(t)
	a := ec2.DetachFromAutoScaling{}
	call := f.call("inc-1", action.Values{"instance_id": action.StringValue(f.instance("bastion").ID), "decrement_desired_capacity": action.BoolValue(false)})
	planned, err := a.Check(ctx, call)
	if err != nil || len(planned) != 1 {
		t.Errorf("Check: %v %v; want the one read", planned, err)
	}
	m := f.mark()
	out, err := a.Do(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if out.Bool("detached") || out.Str("group") != "" || len(f.writesSince(m)) != 0 {
		t.Errorf("outputs %v, wrote %v", out, f.writesSince(m))
	}
	if err := a.Revert(ctx, call, out); err != nil {
		t.Errorf("revert of nothing: %v", err)
	}
	// No clients at all is a permanent error, not a crash.
	call.Clients = nil
	if _, err := a.Do(ctx, call); action.Classify(err) != action.Permanent {
		t.Errorf("without clients: %v", err)
	}
}

// TestIsolateThenDetach isolates web-1 and then detaches it: the group's
// replacement is launched like the fleet, not into the quarantine group.
func TestIsolateThenDetach(t *testing.T) {
	ctx := context.Background()
	f := newFleetFixture(t)
	web1 := f.instance("web-1")
	iso, err := ec2.IsolateInstance{}.Do(ctx, f.call("inc-1", action.Values{
		"instance_id": action.StringValue(web1.ID), "quarantine_group": action.StringValue("firebreak-quarantine"),
		"nacl_rule_min": action.IntValue(ec2.IsolateRuleMin), "nacl_rule_max": action.IntValue(ec2.IsolateRuleMax),
	}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ec2.DetachFromAutoScaling{}.Do(ctx, f.call("inc-1", action.Values{"instance_id": action.StringValue(web1.ID), "decrement_desired_capacity": action.BoolValue(false)}))
	if err != nil || !out.Bool("detached") {
		t.Fatalf("detach: %v %v", out, err)
	}
	g := f.group("web")
	repl := f.state(g.Instances[len(g.Instances)-1])
	if slices.Contains(repl.SecurityGroups, iso.Str("quarantine_group_id")) || !slices.Equal(repl.SecurityGroups, web1.SecurityGroups) {
		t.Errorf("replacement groups %v; want the fleet's %v, not the quarantine group %s", repl.SecurityGroups, web1.SecurityGroups, iso.Str("quarantine_group_id"))
	}
	if got := f.state(web1.ID).SecurityGroups; !slices.Equal(got, []string{iso.Str("quarantine_group_id")}) {
		t.Errorf("web-1 groups after detach %v; want it still quarantined", got)
	}
}
