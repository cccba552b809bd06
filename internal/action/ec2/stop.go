package ec2

import (
	"context"
	"fmt"

	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// Stop stops an instance (aws.ec2.stop).
type Stop struct{}

var (
	_ action.Action   = Stop{}
	_ action.Checker  = Stop{}
	_ action.Reverter = Stop{}
)

const stopID = "aws.ec2.stop"

// Meta describes aws.ec2.stop.
func (Stop) Meta() action.Meta {
	return action.Meta{
		ID:      stopID,
		Summary: "Stop an instance (its memory is lost: capture and snapshot first)",
		Doc: "Stops a running or pending instance; one already stopping or stopped is left alone. Stopping loses the " +
			"memory and, for instance-store volumes, the disks: run aws.ec2.capture_metadata and aws.ec2.snapshot_volumes " +
			"first. Revert starts the instance again when this action stopped it.",
		Risk:   action.Reversible,
		Params: []action.Param{instanceParam},
		Outputs: []action.Field{
			{Name: "previous_state", Type: action.String, Doc: "the instance's state before (running, stopped, …)"},
			{Name: "changed", Type: action.Bool, Doc: "whether this run asked EC2 to stop it"},
		},
		IAM:         []string{"ec2:DescribeInstances", "ec2:StopInstances"},
		RevertIAM:   []string{"ec2:StartInstances"},
		Idempotency: action.Idempotent,
	}
}

func (Stop) planStop(ctx context.Context, call action.Call) (*action.Plan, string, error) {
	id := call.Params.Str("instance_id")
	api, err := client(ctx, stopID, call)
	if err != nil {
		return nil, "", err
	}
	p := &action.Plan{}
	p.Read("ec2:DescribeInstances", id, "")
	inst, err := describe(ctx, api, id)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", stopID, err)
	}
	var state types.InstanceStateName
	if inst.State != nil {
		state = inst.State.Name
	}
	switch state {
	case types.InstanceStateNameRunning, types.InstanceStateNamePending:
		p.Write("ec2:StopInstances", id, "", func(ctx context.Context) error {
			if _, err := api.StopInstances(ctx, &awsec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
				return fmt.Errorf("%s: stop %s: %w", stopID, id, err)
			}
			call.Log().InfoContext(ctx, "instance stopping", "instance", id)
			return nil
		})
	case types.InstanceStateNameTerminated, types.InstanceStateNameShuttingDown:
		return nil, "", action.Mark(action.Permanent, fmt.Errorf("%s: instance %s is %s", stopID, id, state))
	}
	return p, string(state), nil
}

// Check reports the calls Do would make, changing nothing.
func (a Stop) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	p, _, err := a.planStop(ctx, call)
	if err != nil {
		return nil, err
	}
	return p.Calls(), nil
}

// Do stops the instance.
func (a Stop) Do(ctx context.Context, call action.Call) (action.Values, error) {
	p, state, err := a.planStop(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := p.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{"previous_state": action.StringValue(state), "changed": action.BoolValue(p.HasWrites() && !call.DryRun)}, nil
}

// Revert starts the instance when Do stopped it.
func (Stop) Revert(ctx context.Context, call action.Call, done action.Values) error {
	if !done.Bool("changed") {
		return nil
	}
	api, err := client(ctx, stopID, call)
	if err != nil {
		return err
	}
	id := call.Params.Str("instance_id")
	if _, err := api.StartInstances(ctx, &awsec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		return fmt.Errorf("%s: revert: start %s: %w", stopID, id, err)
	}
	return nil
}
