package ec2

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the EC2 client the actions call. *ec2.Client
// satisfies it.
type API interface {
	DescribeInstances(ctx context.Context, in *awsec2.DescribeInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
	DescribeInstanceAttribute(ctx context.Context, in *awsec2.DescribeInstanceAttributeInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeInstanceAttributeOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *awsec2.ModifyInstanceAttributeInput, opts ...func(*awsec2.Options)) (*awsec2.ModifyInstanceAttributeOutput, error)
	ModifyNetworkInterfaceAttribute(ctx context.Context, in *awsec2.ModifyNetworkInterfaceAttributeInput, opts ...func(*awsec2.Options)) (*awsec2.ModifyNetworkInterfaceAttributeOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *awsec2.DescribeNetworkInterfacesInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeNetworkInterfacesOutput, error)

	DescribeSecurityGroups(ctx context.Context, in *awsec2.DescribeSecurityGroupsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(ctx context.Context, in *awsec2.CreateSecurityGroupInput, opts ...func(*awsec2.Options)) (*awsec2.CreateSecurityGroupOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *awsec2.RevokeSecurityGroupEgressInput, opts ...func(*awsec2.Options)) (*awsec2.RevokeSecurityGroupEgressOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *awsec2.AuthorizeSecurityGroupIngressInput, opts ...func(*awsec2.Options)) (*awsec2.AuthorizeSecurityGroupIngressOutput, error)

	DescribeNetworkAcls(ctx context.Context, in *awsec2.DescribeNetworkAclsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeNetworkAclsOutput, error)
	CreateNetworkAclEntry(ctx context.Context, in *awsec2.CreateNetworkAclEntryInput, opts ...func(*awsec2.Options)) (*awsec2.CreateNetworkAclEntryOutput, error)
	DeleteNetworkAclEntry(ctx context.Context, in *awsec2.DeleteNetworkAclEntryInput, opts ...func(*awsec2.Options)) (*awsec2.DeleteNetworkAclEntryOutput, error)

	DescribeSnapshots(ctx context.Context, in *awsec2.DescribeSnapshotsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeSnapshotsOutput, error)
	CreateSnapshot(ctx context.Context, in *awsec2.CreateSnapshotInput, opts ...func(*awsec2.Options)) (*awsec2.CreateSnapshotOutput, error)

	DescribeTags(ctx context.Context, in *awsec2.DescribeTagsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeTagsOutput, error)
	CreateTags(ctx context.Context, in *awsec2.CreateTagsInput, opts ...func(*awsec2.Options)) (*awsec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *awsec2.DeleteTagsInput, opts ...func(*awsec2.Options)) (*awsec2.DeleteTagsOutput, error)

	StopInstances(ctx context.Context, in *awsec2.StopInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.StopInstancesOutput, error)
	StartInstances(ctx context.Context, in *awsec2.StartInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.StartInstancesOutput, error)
	RebootInstances(ctx context.Context, in *awsec2.RebootInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.RebootInstancesOutput, error)
	GetConsoleOutput(ctx context.Context, in *awsec2.GetConsoleOutputInput, opts ...func(*awsec2.Options)) (*awsec2.GetConsoleOutputOutput, error)

	DescribeIamInstanceProfileAssociations(ctx context.Context, in *awsec2.DescribeIamInstanceProfileAssociationsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeIamInstanceProfileAssociationsOutput, error)
	ReplaceIamInstanceProfileAssociation(ctx context.Context, in *awsec2.ReplaceIamInstanceProfileAssociationInput, opts ...func(*awsec2.Options)) (*awsec2.ReplaceIamInstanceProfileAssociationOutput, error)
}

var _ API = (*awsec2.Client)(nil)

// client builds the EC2 client for the call's target.
func client(ctx context.Context, id string, call action.Call) (API, error) {
	cfg, err := call.AWSConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return awsec2.NewFromConfig(cfg), nil
}

// instanceParam is the param every instance action takes.
var instanceParam = action.Param{
	Name: "instance_id", Type: action.InstanceID, Required: true, Target: action.TargetInstance,
	Doc: "the EC2 instance to act on",
}

// describe returns the instance; an unknown instance is a permanent error.
func describe(ctx context.Context, api API, id string) (types.Instance, error) {
	out, err := api.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if action.ErrorCode(err) == "InvalidInstanceID.NotFound" || action.ErrorCode(err) == "InvalidInstanceID.Malformed" {
		return types.Instance{}, action.Mark(action.Permanent, fmt.Errorf("instance %s: %w", id, err))
	}
	if err != nil {
		return types.Instance{}, fmt.Errorf("describe instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			if aws.ToString(inst.InstanceId) == id {
				return inst, nil
			}
		}
	}
	return types.Instance{}, action.Mark(action.Permanent, fmt.Errorf("instance %s: not found", id))
}

// volumes lists the EBS volumes attached to inst, sorted.
func volumes(inst types.Instance) []string {
	var out []string
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.VolumeId) != "" {
			out = append(out, aws.ToString(m.Ebs.VolumeId))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// privateIPs lists every private IPv4 address of inst's interfaces, sorted.
func privateIPs(inst types.Instance) []string {
	var out []string
	for _, n := range inst.NetworkInterfaces {
		for _, a := range n.PrivateIpAddresses {
			if ip := aws.ToString(a.PrivateIpAddress); ip != "" {
				out = append(out, ip)
			}
		}
		if ip := aws.ToString(n.PrivateIpAddress); ip != "" {
			out = append(out, ip)
		}
	}
	if ip := aws.ToString(inst.PrivateIpAddress); ip != "" {
		out = append(out, ip)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// groupIDs lists the ids of groups, in their order.
func groupIDs(groups []types.GroupIdentifier) []string {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, aws.ToString(g.GroupId))
	}
	return out
}

// joinKV formats key=value pairs as one sorted, comma-separated detail.
func joinKV(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// incidentTag is the tag key that names the incident an action worked for.
const incidentTag = "firebreak:incident"
