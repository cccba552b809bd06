package sandbox_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const prodAccount, prodRegion = "111111111111", "us-east-1"

func asGroup(t testing.TB, sb *sandbox.Sandbox, name string) sandbox.AutoScalingGroupState {
	t.Helper()
	g, ok := sb.AutoScalingGroup(prodAccount, prodRegion, name)
	if !ok {
		t.Fatalf("no group %s", name)
	}
	return g
}

func TestAutoScalingDescribe(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	as := autoscaling.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	web1, web2, web3 := fleetInstance(t, sb, "web-1"), fleetInstance(t, sb, "web-2"), fleetInstance(t, sb, "web-3")

	out, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AutoScalingGroups) != 2 {
		t.Fatalf("%d groups, want 2", len(out.AutoScalingGroups))
	}
	batch, web := out.AutoScalingGroups[0], out.AutoScalingGroups[1]
	var ids []string
	for _, in := range web.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
		if in.LifecycleState != astypes.LifecycleStateInService || aws.ToString(in.HealthStatus) != "Healthy" {
			t.Errorf("%s: %s %s", aws.ToString(in.InstanceId), in.LifecycleState, aws.ToString(in.HealthStatus))
		}
	}
	got := fmt.Sprintf("%s min=%d max=%d desired=%d template=%s azs=%v tags=%d", aws.ToString(web.AutoScalingGroupName), aws.ToInt32(web.MinSize), aws.ToInt32(web.MaxSize),
		aws.ToInt32(web.DesiredCapacity), aws.ToString(web.LaunchTemplate.LaunchTemplateName), web.AvailabilityZones, len(web.Tags))
	if want := "web min=2 max=4 desired=3 template=web azs=[us-east-1a us-east-1b] tags=2"; got != want {
		t.Errorf("group = %s\nwant    %s", got, want)
	}
	if !slices.Equal(ids, []string{web1, web2, web3}) || !strings.Contains(aws.ToString(web.AutoScalingGroupARN), ":autoScalingGroupName/web") {
		t.Errorf("instances %v arn %s", ids, aws.ToString(web.AutoScalingGroupARN))
	}
	// batch declares no instance but a desired capacity of 1: the group
	// launched one at seed, tagged with its name.
	if aws.ToString(batch.AutoScalingGroupName) != "batch" || len(batch.Instances) != 1 {
		t.Fatalf("batch = %+v", batch)
	}
	launched, ok := sb.EC2Instance(prodAccount, prodRegion, aws.ToString(batch.Instances[0].InstanceId))
	if !ok || launched.State != "running" || launched.Tags["aws:autoscaling:groupName"] != "batch" {
		t.Errorf("batch instance = %+v", launched)
	}
	if tag := sb.EC2Instances(prodAccount, prodRegion)[0].Tags["aws:autoscaling:groupName"]; tag != "web" {
		t.Errorf("web-1 group tag = %q", tag)
	}

	named, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web", "nope"}})
	if err != nil || len(named.AutoScalingGroups) != 1 {
		t.Errorf("by name: %v %v", named, err)
	}
	tagged, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:env"), Values: []string{"prod"}}}})
	if err != nil || len(tagged.AutoScalingGroups) != 1 || aws.ToString(tagged.AutoScalingGroups[0].AutoScalingGroupName) != "web" {
		t.Errorf("by tag: %v %v", tagged, err)
	}
	paged, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(1)})
	if err != nil || len(paged.AutoScalingGroups) != 1 || aws.ToString(paged.NextToken) == "" {
		t.Errorf("page of 1: %v %v", paged, err)
	}

	inst, err := as.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{web2, fleetInstance(t, sb, "bastion")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.AutoScalingInstances) != 1 {
		t.Fatalf("instances = %+v, want web-2 only (the bastion is in no group)", inst.AutoScalingInstances)
	}
	d := inst.AutoScalingInstances[0]
	if aws.ToString(d.AutoScalingGroupName) != "web" || aws.ToString(d.LifecycleState) != "InService" || aws.ToString(d.HealthStatus) != "HEALTHY" || aws.ToString(d.AvailabilityZone) != "us-east-1b" {
		t.Errorf("web-2 = %s %s %s %s", aws.ToString(d.AutoScalingGroupName), aws.ToString(d.LifecycleState), aws.ToString(d.HealthStatus), aws.ToString(d.AvailabilityZone))
	}
}

func TestAutoScalingDetachAndAttach(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	as := autoscaling.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	web1, web2, web3 := fleetInstance(t, sb, "web-1"), fleetInstance(t, sb, "web-2"), fleetInstance(t, sb, "web-3")
	bastion := fleetInstance(t, sb, "bastion")
	before := len(sb.EC2Instances(prodAccount, prodRegion))

	// Without decrementing, the group keeps three instances: it launches a
	// replacement like its first instance.
	out, err := as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web1}, ShouldDecrementDesiredCapacity: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Activities) != 1 || !strings.Contains(aws.ToString(out.Activities[0].Description), web1) || out.Activities[0].StatusCode != astypes.ScalingActivityStatusCodeInProgress {
		t.Errorf("activities = %+v", out.Activities)
	}
	g := asGroup(t, sb, "web")
	if g.Desired != 3 || len(g.Instances) != 3 || slices.Contains(g.Instances, web1) {
		t.Fatalf("after detach: %+v", g)
	}
	replacement := g.Instances[2]
	all := sb.EC2Instances(prodAccount, prodRegion)
	if len(all) != before+1 {
		t.Errorf("%d instances, want %d (one replacement)", len(all), before+1)
	}
	old, _ := sb.EC2Instance(prodAccount, prodRegion, web1)
	repl, _ := sb.EC2Instance(prodAccount, prodRegion, replacement)
	gotRepl := fmt.Sprintf("%s %s %v %v %s %s %s", repl.State, repl.Type, repl.Subnet == old.Subnet, slices.Equal(repl.SecurityGroups, old.SecurityGroups),
		repl.InstanceProfileARN, repl.Tags["aws:autoscaling:groupName"], repl.Tags["env"])
	if want := "running m5.large true true arn:aws:iam::111111111111:instance-profile/web-app web prod"; gotRepl != want {
		t.Errorf("replacement = %s\nwant          %s", gotRepl, want)
	}
	if _, tagged := old.Tags["aws:autoscaling:groupName"]; tagged || old.State != "running" || old.Tags["team"] != "web" {
		t.Errorf("detached web-1 = %s %v; want running, without the group tag, other tags kept", old.State, old.Tags)
	}
	left, err := as.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{web1}})
	if err != nil || len(left.AutoScalingInstances) != 0 {
		t.Errorf("web-1 still in a group: %v %v", left, err)
	}

	// Decrementing shrinks the group, down to its minimum.
	if _, err := as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web2}, ShouldDecrementDesiredCapacity: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if g := asGroup(t, sb, "web"); g.Desired != 2 || len(g.Instances) != 2 {
		t.Errorf("after decrementing detach: %+v", g)
	}
	if len(sb.EC2Instances(prodAccount, prodRegion)) != before+1 {
		t.Error("a decrementing detach launched an instance")
	}

	if _, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web1}}); err != nil {
		t.Fatal(err)
	}
	if g := asGroup(t, sb, "web"); g.Desired != 3 || !slices.Contains(g.Instances, web1) {
		t.Errorf("after attach: %+v", g)
	}
	if st, _ := sb.EC2Instance(prodAccount, prodRegion, web1); st.Tags["aws:autoscaling:groupName"] != "web" || st.Tags["env"] != "prod" {
		t.Errorf("re-attached web-1 tags = %v", st.Tags)
	}

	for _, tt := range []struct {
		name string
		call func() error
		want string
	}{
		{"detach an instance of no group", func() error {
			_, err := as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web2}, ShouldDecrementDesiredCapacity: aws.Bool(false)})
			return err
		}, "The instance " + web2 + " is not part of Auto Scaling group web."},
		{"detach below the minimum", func() error {
			_, err := as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web3, web1}, ShouldDecrementDesiredCapacity: aws.Bool(true)})
			return err
		}, "AutoScalingGroup web has min-size=2, max-size=4, and desired-size=3. To detach 2 instances, please update the AutoScalingGroup sizes appropriately."},
		{"unknown group", func() error {
			_, err := as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("nope"), InstanceIds: []string{web1}, ShouldDecrementDesiredCapacity: aws.Bool(false)})
			return err
		}, "AutoScalingGroup name not found - AutoScalingGroup nope not found"},
		{"attach above the maximum", func() error {
			_, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web2, bastion}})
			return err
		}, "AutoScalingGroup web has min-size=2, max-size=4, and desired-size=3. To attach 2 instances, please update the AutoScalingGroup sizes appropriately."},
		{"attach a member", func() error {
			_, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String("batch"), InstanceIds: []string{web3}})
			return err
		}, "The instance " + web3 + " is already part of Auto Scaling group web."},
		{"attach an unknown instance", func() error {
			_, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{"i-0000000000000000f"}})
			return err
		}, "Invalid Instance ID(s) specified"},
		{"exit standby of an instance in service", func() error {
			_, err := as.ExitStandby(ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web3}})
			return err
		}, "The instance " + web3 + " is not in Standby."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant ValidationError: %s", err, tt.want)
			}
		})
	}
	if g := asGroup(t, sb, "web"); g.Desired != 3 || len(g.Instances) != 3 {
		t.Errorf("failed calls changed the group: %+v", g)
	}

	// Standby and protection.
	if _, err := as.EnterStandby(ctx, &autoscaling.EnterStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web3}, ShouldDecrementDesiredCapacity: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if g := asGroup(t, sb, "web"); g.Desired != 2 || !slices.Equal(g.Standby, []string{web3}) {
		t.Errorf("after EnterStandby: %+v", g)
	}
	if _, err := as.ExitStandby(ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{web3}, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	g = asGroup(t, sb, "web")
	if diff := cmp.Diff(fmt.Sprint(g.Desired, g.Standby, g.Protected), fmt.Sprint(3, []string(nil), []string{web3})); diff != "" {
		t.Errorf("after ExitStandby and SetInstanceProtection (-got +want):\n%s", diff)
	}
	var trail []string
	for _, r := range sb.Trail() {
		if r.EventSource == "autoscaling.amazonaws.com" && !r.ReadOnly && r.ErrorCode == "" {
			trail = append(trail, r.EventName)
		}
	}
	want := []string{"DetachInstances", "DetachInstances", "AttachInstances", "EnterStandby", "ExitStandby", "SetInstanceProtection"}
	if diff := cmp.Diff(trail, want); diff != "" {
		t.Errorf("CloudTrail (-got +want):\n%s", diff)
	}
}

// TestAutoScalingConcurrentDetach detaches every instance of the group at
// once, each without decrementing: each call succeeds once, and the group
// ends with its desired capacity of replacements. Run with -race.
func TestAutoScalingConcurrentDetach(t *testing.T) {
	ctx := context.Background()
	sb := fleetSandbox(t)
	as := autoscaling.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	ids := asGroup(t, sb, "web").Instances
	var wg sync.WaitGroup
	errs := make([]error, len(ids)*2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = as.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String("web"), InstanceIds: []string{ids[i%len(ids)]}, ShouldDecrementDesiredCapacity: aws.Bool(false)})
			_, _ = as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if apiCode(err) != "ValidationError" {
			t.Errorf("unexpected error %v", err)
		}
	}
	g := asGroup(t, sb, "web")
	if ok != len(ids) || g.Desired != 3 || len(g.Instances) != 3 {
		t.Errorf("%d detaches succeeded (want %d); group %+v", ok, len(ids), g)
	}
	for _, id := range ids {
		if slices.Contains(g.Instances, id) {
			t.Errorf("%s still in the group", id)
		}
	}
}
