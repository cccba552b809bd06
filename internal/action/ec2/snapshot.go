package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// SnapshotVolumes snapshots every EBS volume attached to an instance, as
// evidence (aws.ec2.snapshot_volumes).
type SnapshotVolumes struct{}

var (
	_ action.Action  = SnapshotVolumes{}
	_ action.Checker = SnapshotVolumes{}
)

const snapshotID = "aws.ec2.snapshot_volumes"

// Meta describes aws.ec2.snapshot_volumes.
func (SnapshotVolumes) Meta() action.Meta {
	return action.Meta{
		ID:      snapshotID,
		Summary: "Snapshot every EBS volume attached to an instance, tagged with the incident",
		Doc: "Creates one snapshot of each attached volume, tagged " + incidentTag + "=<incident> and firebreak:instance=<id>. " +
			"Before creating, it looks for snapshots of the volume already tagged with the incident, so a retried step or a " +
			"second playbook for the same incident makes each snapshot once. It changes nothing that exists (it only adds " +
			"evidence), so it is read-only for guardrails, and it has no revert: Firebreak never deletes evidence.",
		Risk:   action.ReadOnly,
		Params: []action.Param{instanceParam, {Name: "description", Type: action.String, Default: action.StringValue("Firebreak evidence"), Doc: "the snapshots' description"}},
		Outputs: []action.Field{
			{Name: "volume_ids", Type: action.StringList, Doc: "the attached volumes, sorted"},
			{Name: "snapshot_ids", Type: action.StringList, Doc: "one snapshot per volume, in the order of volume_ids"},
			{Name: "changed", Type: action.Bool, Doc: "false when every volume already had its snapshot for the incident"},
		},
		IAM:         []string{"ec2:CreateSnapshot", "ec2:CreateTags", "ec2:DescribeInstances", "ec2:DescribeSnapshots"},
		Idempotency: action.Idempotent,
	}
}

type snapshots struct {
	action.Plan
	vols  []string
	snaps []string
}

func (SnapshotVolumes) planSnapshots(ctx context.Context, call action.Call) (*snapshots, error) {
	id := call.Params.Str("instance_id")
	api, err := client(ctx, snapshotID, call)
	if err != nil {
		return nil, err
	}
	s := &snapshots{}
	s.Read("ec2:DescribeInstances", id, "")
	inst, err := describe(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", snapshotID, err)
	}
	s.vols = volumes(inst)
	s.snaps = make([]string, len(s.vols))
	incident := call.Key.Incident
	tags := []types.Tag{{Key: aws.String("firebreak:instance"), Value: aws.String(id)}}
	if incident != "" {
		tags = append(tags, types.Tag{Key: aws.String(incidentTag), Value: aws.String(incident)})
	}
	for i, vol := range s.vols {
		if incident != "" {
			s.Read("ec2:DescribeSnapshots", vol, "tag:"+incidentTag+"="+incident)
			out, err := api.DescribeSnapshots(ctx, &awsec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{
				{Name: aws.String("volume-id"), Values: []string{vol}},
				{Name: aws.String("tag:" + incidentTag), Values: []string{incident}},
			}})
			if err != nil {
				return nil, fmt.Errorf("%s: find snapshots of %s for incident %s: %w", snapshotID, vol, incident, err)
			}
			if len(out.Snapshots) > 0 {
				s.snaps[i] = aws.ToString(out.Snapshots[0].SnapshotId)
				continue
			}
		}
		s.Write("ec2:CreateSnapshot", vol, "tags "+incidentTag+"="+incident, func(ctx context.Context) error {
			out, err := api.CreateSnapshot(ctx, &awsec2.CreateSnapshotInput{
				VolumeId: aws.String(vol), Description: aws.String(call.Params.Str("description") + " " + incident + " " + id),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: tags}},
			})
			if err != nil {
				return fmt.Errorf("%s: snapshot %s of %s: %w", snapshotID, vol, id, err)
			}
			s.snaps[i] = aws.ToString(out.SnapshotId)
			call.Log().InfoContext(ctx, "snapshot started", "volume", vol, "snapshot", s.snaps[i])
			return nil
		})
	}
	return s, nil
}

// Check reports the calls Do would make, changing nothing.
func (a SnapshotVolumes) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	s, err := a.planSnapshots(ctx, call)
	if err != nil {
		return nil, err
	}
	return s.Calls(), nil
}

// Do snapshots the volumes that have no snapshot for the incident yet.
func (a SnapshotVolumes) Do(ctx context.Context, call action.Call) (action.Values, error) {
	s, err := a.planSnapshots(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := s.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{
		"volume_ids":   action.ListValue(s.vols),
		"snapshot_ids": action.ListValue(s.snaps),
		"changed":      action.BoolValue(s.HasWrites() && !call.DryRun),
	}, nil
}
