package sandbox

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
)

// TestEC2DefaultVPC covers calls that lean on the default VPC: launching
// without a subnet or group, and naming groups by name.
func TestEC2DefaultVPC(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "eu-west-1") // a region the world leaves empty
	ctx := context.Background()
	vpc := ts.sb.EC2DefaultVPC(prodAccount, "eu-west-1")
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	inst := run.Instances[0]
	if aws.ToString(inst.PublicIpAddress) == "" {
		t.Errorf("instance in a default subnet has no public address")
	}
	if aws.ToString(inst.VpcId) != vpc || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" {
		t.Errorf("instance in VPC %s with group %s, want the default VPC %s and its default group", aws.ToString(inst.VpcId), aws.ToString(inst.SecurityGroups[0].GroupName), vpc)
	}
	if _, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ops"), Description: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	private, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: inst.SubnetId,
			AssociatePublicIpAddress: aws.Bool(false), Groups: []string{aws.ToString(inst.SecurityGroups[0].GroupId)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := private.Instances[0]; aws.ToString(got.PublicIpAddress) != "" || aws.ToString(got.SubnetId) != aws.ToString(inst.SubnetId) {
		t.Errorf("NetworkInterfaces launch: public %q, subnet %s", aws.ToString(got.PublicIpAddress), aws.ToString(got.SubnetId))
	}
	// By name, in the default VPC: egress rules, then the group goes.
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	ops := groups.SecurityGroups[0].GroupId
	if _, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: ops, IpPermissions: []types.IpPermission{{IpProtocol: aws.String("udp"),
		FromPort: aws.Int32(53), ToPort: aws.Int32(53), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.2/32")}}}}}); err != nil {
		t.Fatal(err)
	}
	rules, _ := ts.sb.EC2SecurityGroupRules(prodAccount, "eu-west-1", aws.ToString(ops))
	want := []EC2SecurityGroupRule{{Egress: true, Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"}, {Egress: true, Protocol: "udp", FromPort: 53, ToPort: 53, CIDR: "10.0.0.2/32"}}
	if diff := cmp.Diff(rules, want); diff != "" {
		t.Errorf("ops rules (-got +want):\n%s", diff)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Errorf("DeleteSecurityGroup by name: %v", err)
	}
	if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"ops"}}); errorCode(err) != "InvalidGroup.NotFound" {
		t.Errorf("deleted group by name: got %q", errorCode(err))
	}
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].VpcId) != vpc || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "172.31.0.0/16" {
		t.Errorf("default VPC = %+v, %v", vpcs, err)
	}
	if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0000000000000beef"}}); errorCode(err) != "InvalidVpcID.NotFound" {
		t.Errorf("unknown VPC: got %q", errorCode(err))
	}
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil || len(subnets.Subnets) != 2 {
		t.Errorf("default subnets = %d, %v", len(subnets.Subnets), err)
	}
	lists, err := c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{})
	if err != nil || len(lists.PrefixLists) != 0 {
		t.Errorf("prefix lists of a new region = %+v, %v", lists, err)
	}
	if _, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("blocked"), MaxEntries: aws.Int32(5), AddressFamily: aws.String("IPv4")}); err != nil {
		t.Fatal(err)
	}
	lists, err = c.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{Filters: []types.Filter{{Name: aws.String("prefix-list-name"), Values: []string{"blocked"}}}})
	if err != nil || len(lists.PrefixLists) != 1 || aws.ToInt32(lists.PrefixLists[0].MaxEntries) != 5 {
		t.Errorf("DescribeManagedPrefixLists = %+v, %v", lists, err)
	}
	regions, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "us-east-1"}})
	var names []string
	for _, r := range regions.Regions {
		names = append(names, aws.ToString(r.RegionName))
	}
	if err != nil || !slices.Equal(names, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("DescribeRegions by name = %v, %v", names, err)
	}
	if _, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"mars-north-1"}}); errorCode(err) != "InvalidParameterValue" {
		t.Errorf("unknown region: got %q", errorCode(err))
	}
}
