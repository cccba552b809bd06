package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// AutoScalingAPI is the part of the Auto Scaling client
// aws.ec2.detach_from_autoscaling calls. *autoscaling.Client satisfies it.
type AutoScalingAPI interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	DetachInstances(ctx context.Context, in *autoscaling.DetachInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DetachInstancesOutput, error)
	AttachInstances(ctx context.Context, in *autoscaling.AttachInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.AttachInstancesOutput, error)
}

var _ AutoScalingAPI = (*autoscaling.Client)(nil)

// DetachFromAutoScaling takes an instance out of its Auto Scaling group
// (aws.ec2.detach_from_autoscaling), so that the group neither terminates
// it on a failed health check (isolation fails the load balancer's checks)
// nor scales it in while it is evidence.
type DetachFromAutoScaling struct{}

var (
	_ action.Action   = DetachFromAutoScaling{}
	_ action.Checker  = DetachFromAutoScaling{}
	_ action.Reverter = DetachFromAutoScaling{}
)

const detachID = "aws.ec2.detach_from_autoscaling"

// Values of the replacement output.
const (
	ReplacementLaunching = "launching" // the group launches a new instance in its place
	ReplacementNone      = "none"      // the group's desired capacity went down by one instead
)

// Meta describes aws.ec2.detach_from_autoscaling.
func (DetachFromAutoScaling) Meta() action.Meta {
	return action.Meta{
		ID:      detachID,
		Summary: "Detach an instance from its Auto Scaling group so the group cannot terminate the evidence",
		Doc: "Looks the instance up with autoscaling:DescribeAutoScalingInstances. An instance in no group (or already " +
			"detaching) needs nothing: the run succeeds with detached=false and makes no call, which also makes a retry " +
			"after a successful detach a no-op. Otherwise it detaches the instance with autoscaling:DetachInstances; the " +
			"instance keeps running and keeps its other tags, and loses the aws:autoscaling:groupName tag. Run it before " +
			"isolating: an isolated instance fails its health checks and the group would terminate and replace it, " +
			"destroying the evidence. decrement_desired_capacity is false by default so that the group launches a " +
			"replacement and the service keeps its capacity; set it to true only when the group must shrink (it cannot " +
			"go below its minimum size: the run then fails before calling DetachInstances). Revert attaches the instance " +
			"back with autoscaling:AttachInstances, which raises the group's desired capacity by one (a replacement stays " +
			"until the group scales in); it fails when the group is gone or at its maximum size, since a person must " +
			"decide then.",
		Risk: action.Reversible,
		Params: []action.Param{
			instanceParam,
			{Name: "decrement_desired_capacity", Type: action.Bool, Default: action.BoolValue(false),
				Doc: "lower the group's desired capacity instead of letting it launch a replacement (default false: the service keeps its capacity)"},
		},
		Outputs: []action.Field{
			{Name: "group", Type: action.String, Doc: "the Auto Scaling group the instance was in; empty when none"},
			{Name: "detached", Type: action.Bool, Doc: "whether this run detached the instance"},
			{Name: "replacement", Type: action.String, Doc: "launching: the group launches a replacement; none: its desired capacity went down; empty when nothing was detached"},
			{Name: "desired_capacity", Type: action.Int, Doc: "the group's desired capacity after the detach; 0 when nothing was detached"},
		},
		IAM:         []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DetachInstances"},
		RevertIAM:   []string{"autoscaling:AttachInstances", "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances"},
		Idempotency: action.Idempotent,
	}
}

func autoScalingClient(ctx context.Context, call action.Call) (AutoScalingAPI, error) {
	cfg, err := call.AWSConfig(ctx, detachID)
	if err != nil {
		return nil, err
	}
	return autoscaling.NewFromConfig(cfg), nil
}

// membership returns the instance's group membership, nil when it is in
// no group.
func membership(ctx context.Context, api AutoScalingAPI, id string) (*astypes.AutoScalingInstanceDetails, error) {
	out, err := api.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return nil, fmt.Errorf("describe auto scaling instance %s: %w", id, err)
	}
	for i := range out.AutoScalingInstances {
		if aws.ToString(out.AutoScalingInstances[i].InstanceId) == id {
			return &out.AutoScalingInstances[i], nil
		}
	}
	return nil, nil
}

// group returns the named group, nil when it does not exist.
func group(ctx context.Context, api AutoScalingAPI, name string) (*astypes.AutoScalingGroup, error) {
	out, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describe auto scaling group %s: %w", name, err)
	}
	for i := range out.AutoScalingGroups {
		if aws.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, nil
}

// detachPlan is what one run found and would do.
type detachPlan struct {
	action.Plan
	group, replacement string
	desired            int64
}

func (DetachFromAutoScaling) plan(ctx context.Context, call action.Call) (*detachPlan, error) {
	id := call.Params.Str("instance_id")
	decrement := call.Params.Bool("decrement_desired_capacity")
	if id == "" {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter instance_id: required", detachID))
	}
	api, err := autoScalingClient(ctx, call)
	if err != nil {
		return nil, err
	}
	p := &detachPlan{}
	p.Read("autoscaling:DescribeAutoScalingInstances", id, "")
	m, err := membership(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", detachID, err)
	}
	if m == nil {
		return p, nil
	}
	p.group = aws.ToString(m.AutoScalingGroupName)
	switch state := aws.ToString(m.LifecycleState); astypes.LifecycleState(state) {
	case astypes.LifecycleStateInService, astypes.LifecycleStateStandby:
	case astypes.LifecycleStateDetaching, astypes.LifecycleStateDetached:
		// A detach is already under way (a retry after it succeeded).
		return p, nil
	case astypes.LifecycleStateTerminating, astypes.LifecycleStateTerminatingWait, astypes.LifecycleStateTerminatingProceed, astypes.LifecycleStateTerminated:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s is %s in group %s: too late to detach it", detachID, id, state, p.group))
	default:
		// Pending, Pending:Wait, EnteringStandby...: Auto Scaling refuses
		// until the instance settles; a retry may succeed.
		return nil, action.Mark(action.Retry, fmt.Errorf("%s: instance %s is %s in group %s; it can be detached once InService or Standby", detachID, id, state, p.group))
	}
	p.Read("autoscaling:DescribeAutoScalingGroups", p.group, "")
	g, err := group(ctx, api, p.group)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", detachID, err)
	}
	if g == nil {
		return nil, action.Mark(action.Retry, fmt.Errorf("%s: group %s of instance %s is not found", detachID, p.group, id))
	}
	p.desired = int64(aws.ToInt32(g.DesiredCapacity))
	detail := "ShouldDecrementDesiredCapacity=false: the group launches a replacement"
	p.replacement = ReplacementLaunching
	if decrement {
		if minSize := int64(aws.ToInt32(g.MinSize)); p.desired-1 < minSize {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: group %s is at its minimum size (min %d, desired %d): detach with decrement_desired_capacity=false, or lower the group's minimum",
				detachID, p.group, minSize, p.desired))
		}
		p.desired--
		detail = fmt.Sprintf("ShouldDecrementDesiredCapacity=true: desired capacity %d to %d", p.desired+1, p.desired)
		p.replacement = ReplacementNone
	}
	name := p.group
	p.Write("autoscaling:DetachInstances", id, "AutoScalingGroupName="+name+", "+detail, func(ctx context.Context) error {
		_, err := api.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
			AutoScalingGroupName: aws.String(name), InstanceIds: []string{id}, ShouldDecrementDesiredCapacity: aws.Bool(decrement),
		})
		if err != nil {
			return fmt.Errorf("%s: detach %s from %s: %w", detachID, id, name, err)
		}
		call.Log().InfoContext(ctx, "instance detached from its auto scaling group", "instance", id, "group", name, "decrement", decrement)
		return nil
	})
	return p, nil
}

// Check reports the calls Do would make, changing nothing.
func (a DetachFromAutoScaling) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	p, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	return p.Calls(), nil
}

// Do detaches the instance when it is in a group.
func (a DetachFromAutoScaling) Do(ctx context.Context, call action.Call) (action.Values, error) {
	p, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := p.Apply(ctx, call); err != nil {
		return nil, err
	}
	detached := p.HasWrites() && !call.DryRun
	out := action.Values{
		"group": action.StringValue(p.group), "detached": action.BoolValue(detached),
		"replacement": action.StringValue(""), "desired_capacity": action.IntValue(0),
	}
	if detached {
		out["replacement"], out["desired_capacity"] = action.StringValue(p.replacement), action.IntValue(p.desired)
	}
	return out, nil
}

// Revert attaches the instance back to the group Do detached it from.
func (DetachFromAutoScaling) Revert(ctx context.Context, call action.Call, done action.Values) error {
	name := done.Str("group")
	if !done.Bool("detached") || name == "" {
		return nil
	}
	id := call.Params.Str("instance_id")
	api, err := autoScalingClient(ctx, call)
	if err != nil {
		return err
	}
	m, err := membership(ctx, api, id)
	if err != nil {
		return fmt.Errorf("%s: revert: %w", detachID, err)
	}
	if m != nil {
		if in := aws.ToString(m.AutoScalingGroupName); in != name {
			return action.Mark(action.Permanent, fmt.Errorf("%s: revert: instance %s is now in group %s, not %s", detachID, id, in, name))
		}
		return nil // attached already (a retried revert)
	}
	g, err := group(ctx, api, name)
	if err != nil {
		return fmt.Errorf("%s: revert: %w", detachID, err)
	}
	if g == nil {
		return action.Mark(action.Permanent, fmt.Errorf("%s: revert: group %s no longer exists; instance %s stays detached", detachID, name, id))
	}
	if desired, most := aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize); desired >= most {
		return action.Mark(action.Permanent, fmt.Errorf("%s: revert: group %s is at its maximum size (%d); raise it or scale in before attaching %s back", detachID, name, most, id))
	}
	if _, err := api.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String(name), InstanceIds: []string{id}}); err != nil {
		return fmt.Errorf("%s: revert: attach %s to %s: %w", detachID, id, name, err)
	}
	call.Log().InfoContext(ctx, "instance attached back to its auto scaling group", "instance", id, "group", name)
	return nil
}
