package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

// seeded returns the ids the world file gave names to.
type ec2Names struct {
	vpc, webA, webB, web, bastion, webACL string
}

func lookupNames(t *testing.T, c *ec2.Client) ec2Names {
	t.Helper()
	ctx := context.Background()
	name := func(tags []types.Tag) string {
		for _, tg := range tags {
			if aws.ToString(tg.Key) == "Name" {
				return aws.ToString(tg.Value)
			}
		}
		return ""
	}
	var n ec2Names
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"prod"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("DescribeVpcs tag:Name=prod: %v, %d vpcs", err, len(vpcs.Vpcs))
	}
	n.vpc = aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{n.vpc}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subnets.Subnets {
		switch name(s.Tags) {
		case "web-a":
			n.webA = aws.ToString(s.SubnetId)
		case "web-b":
			n.webB = aws.ToString(s.SubnetId)
		}
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{n.vpc}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.SecurityGroups {
		switch aws.ToString(g.GroupName) {
		case "web":
			n.web = aws.ToString(g.GroupId)
		case "bastion":
			n.bastion = aws.ToString(g.GroupId)
		}
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{n.webA}}}})
	if err != nil || len(acls.NetworkAcls) != 1 {
		t.Fatalf("DescribeNetworkAcls association.subnet-id: %v", err)
	}
	n.webACL = aws.ToString(acls.NetworkAcls[0].NetworkAclId)
	if n.webA == "" || n.webB == "" || n.web == "" || n.bastion == "" {
		t.Fatalf("seeded resources missing: %+v", n)
	}
	return n
}

func TestEC2SeededWorld(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	n := lookupNames(t, c)
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{webInstance}})
	if err != nil {
		t.Fatal(err)
	}
	inst := out.Reservations[0].Instances[0]
	got := map[string]string{
		"state":   string(inst.State.Name),
		"subnet":  aws.ToString(inst.SubnetId),
		"vpc":     aws.ToString(inst.VpcId),
		"group":   aws.ToString(inst.SecurityGroups[0].GroupId),
		"eniGrp":  aws.ToString(inst.NetworkInterfaces[0].Groups[0].GroupId),
		"profile": aws.ToString(inst.IamInstanceProfile.Arn),
		"ip":      aws.ToString(inst.PublicIpAddress),
		"volume":  aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId),
	}
	st, ok := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance)
	if !ok {
		t.Fatal("EC2Instance: seeded instance missing")
	}
	want := map[string]string{
		"state": "running", "subnet": n.webA, "vpc": n.vpc, "group": n.web, "eniGrp": n.web,
		"profile": "arn:aws:iam::111111111111:instance-profile/web-app", "ip": "54.0.0.10", "volume": st.RootVolume,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("seeded instance (-got +want):\n%s", diff)
	}
	if st.Tags["Name"] != "web-1" || st.Tags["team"] != "web" {
		t.Errorf("seeded tags = %v", st.Tags)
	}
	// The seeded NACL entries and rule 32767 are visible through the API.
	acls, err := c.DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{n.webACL}})
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, e := range acls.NetworkAcls[0].Entries {
		entries = append(entries, entryString(e))
	}
	wantEntries := []string{"egress 100 -1 allow 0.0.0.0/0", "egress 32767 -1 deny 0.0.0.0/0",
		"ingress 100 6 allow 0.0.0.0/0 443-443", "ingress 32767 -1 deny 0.0.0.0/0"}
	if diff := cmp.Diff(entries, wantEntries); diff != "" {
		t.Errorf("web NACL entries (-got +want):\n%s", diff)
	}
}

func entryString(e types.NetworkAclEntry) string {
	dir := "ingress"
	if aws.ToBool(e.Egress) {
		dir = "egress"
	}
	s := strings.Join([]string{dir, itoa(aws.ToInt32(e.RuleNumber)), aws.ToString(e.Protocol), string(e.RuleAction), aws.ToString(e.CidrBlock)}, " ")
	if e.PortRange != nil {
		s += " " + itoa(aws.ToInt32(e.PortRange.From)) + "-" + itoa(aws.ToInt32(e.PortRange.To))
	}
	return s
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestEC2InstanceLifecycle(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	n := lookupNames(t, c)

	run := &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12345678"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), InstanceType: types.InstanceTypeT3Micro,
		SubnetId: aws.String(n.webB), SecurityGroupIds: []string{n.web, n.bastion}, ClientToken: aws.String("launch-1"),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web-app")},
		TagSpecifications:  []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("shop")}}}},
	}
	first, err := c.RunInstances(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Instances) != 2 || first.Instances[0].State.Name != types.InstanceStateNamePending {
		t.Fatalf("RunInstances gave %d instances, first in state %v", len(first.Instances), first.Instances[0].State)
	}
	again, err := c.RunInstances(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(is []types.Instance) []string {
		var out []string
		for _, i := range is {
			out = append(out, aws.ToString(i.InstanceId))
		}
		return out
	}
	if diff := cmp.Diff(ids(again.Instances), ids(first.Instances)); diff != "" {
		t.Errorf("same ClientToken launched new instances (-again +first):\n%s", diff)
	}
	id := ids(first.Instances)[0]
	st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", id)
	wantSt := EC2InstanceState{ID: id, State: "running", Type: "t3.micro", Image: "ami-12345678", VPC: n.vpc, Subnet: n.webB,
		PrivateIP: st.PrivateIP, NetworkInterface: st.NetworkInterface, RootVolume: st.RootVolume,
		SecurityGroups: []string{n.web, n.bastion}, InstanceProfileARN: "arn:aws:iam::111111111111:instance-profile/web-app",
		Tags: map[string]string{"app": "shop"}}
	if diff := cmp.Diff(st, wantSt); diff != "" {
		t.Errorf("launched instance state (-got +want):\n%s", diff)
	}

	filter := func(name string, values ...string) []types.Filter {
		return []types.Filter{{Name: aws.String(name), Values: values}}
	}
	for _, tc := range []struct {
		name    string
		filters []types.Filter
		want    int
	}{
		{"tag", filter("tag:app", "shop"), 2},
		{"tag wildcard", filter("tag:app", "sh*"), 2},
		{"tag-key", filter("tag-key", "app"), 2},
		{"state running", filter("instance-state-name", "running"), 4},
		{"vpc", filter("vpc-id", n.vpc), 4},
		{"instance-id", filter("instance-id", id, webInstance), 2},
		{"group", filter("instance.group-id", n.bastion), 2},
		{"two filters", append(filter("tag:team", "web"), filter("subnet-id", n.webA)...), 1},
		{"no match", filter("tag:app", "other"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: tc.filters})
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, r := range out.Reservations {
				got += len(r.Instances)
			}
			if got != tc.want {
				t.Errorf("got %d instances, want %d", got, tc.want)
			}
		})
	}

	// Stop, start, reboot: the response shows the in-between state, the
	// instance is in the final one at once.
	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := stop.StoppingInstances[0]; got.CurrentState.Name != types.InstanceStateNameStopping || got.PreviousState.Name != types.InstanceStateNameRunning {
		t.Errorf("StopInstances states = %s ← %s", got.CurrentState.Name, got.PreviousState.Name)
	}
	var states []string
	for _, ev := range ts.sb.Events() {
		if ev.DetailType == "EC2 Instance State-change Notification" && strings.Contains(string(ev.Detail), id) {
			var d struct{ State string }
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			states = append(states, d.State)
		}
	}
	if diff := cmp.Diff(states, []string{"pending", "running", "stopping", "stopped"}); diff != "" {
		t.Errorf("state-change events (-got +want):\n%s", diff)
	}
	if err := ec2.NewInstanceStoppedWaiter(c).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5e9); err != nil {
		t.Errorf("InstanceStopped waiter: %v", err)
	}
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); errorCode(err) != "IncorrectInstanceState" {
		t.Errorf("reboot of a stopped instance: got %q, want IncorrectInstanceState", errorCode(err))
	}
	start, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := start.StartingInstances[0].CurrentState.Name; got != types.InstanceStateNamePending {
		t.Errorf("StartInstances current state = %s, want pending", got)
	}
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Errorf("RebootInstances: %v", err)
	}

	// Attributes: security groups of the primary ENI, termination protection.
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{n.bastion}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	attr, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameDisableApiTermination})
	if err != nil || !aws.ToBool(attr.DisableApiTermination.Value) {
		t.Errorf("DescribeInstanceAttribute disableApiTermination = %v, %v; want true", attr, err)
	}
	groups, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameGroupSet})
	if err != nil || len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupId) != n.bastion {
		t.Errorf("DescribeInstanceAttribute groupSet = %+v, %v; want [%s]", groups, err, n.bastion)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{"sg-0000000000000dead"}}); errorCode(err) != "InvalidGroup.NotFound" {
		t.Errorf("unknown group: got %q, want InvalidGroup.NotFound", errorCode(err))
	}

	// Termination protection holds; lifting it lets the instance go.
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); errorCode(err) != "OperationNotPermitted" {
		t.Fatalf("terminate protected: got %q, want OperationNotPermitted", errorCode(err))
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", id); st.State != "running" {
		t.Errorf("protected instance is %s after refused termination", st.State)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := term.TerminatingInstances[0].CurrentState.Name; got != types.InstanceStateNameShuttingDown {
		t.Errorf("TerminateInstances current state = %s", got)
	}
	st, _ = ts.sb.EC2Instance(prodAccount, "us-east-1", id)
	if st.State != "terminated" || st.RootVolume != "" || st.NetworkInterface != "" || st.InstanceProfileARN != "" {
		t.Errorf("terminated instance kept its resources: %+v", st)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); errorCode(err) != "IncorrectInstanceState" {
		t.Errorf("start terminated: got %q, want IncorrectInstanceState", errorCode(err))
	}
}

func TestEC2Errors(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"unknown instance", func() error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000beef"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"malformed instance", func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"instance-1"}})
			return err
		}, "InvalidInstanceID.Malformed"},
		{"instance in another region", func() error {
			_, err := ts.ec2(prodAccount, "eu-west-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{webInstance}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"instance in another account", func() error {
			_, err := ts.ec2(securityAccount, "us-east-1").TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{webInstance}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"unknown group", func() error {
			_, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0000000000000beef"}})
			return err
		}, "InvalidGroup.NotFound"},
		{"unknown nacl", func() error {
			_, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-0000000000000beef"}})
			return err
		}, "InvalidNetworkAclID.NotFound"},
		{"bad filter", func() error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"red"}}}})
			return err
		}, "InvalidParameterValue"},
		{"MaxResults too small", func() error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
			return err
		}, "InvalidParameterValue"},
		{"unknown instance profile", func() error {
			_, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(webInstance),
				IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("nope")}})
			return err
		}, "InvalidParameterValue"},
		{"unknown volume", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-0000000000000beef")})
			return err
		}, "InvalidVolume.NotFound"},
		{"tag unknown resource", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0000000000000beef"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"reserved tag key", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{webInstance}, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("b")}}})
			return err
		}, "InvalidParameterValue"},
		{"too many instances", func() error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(21)})
			return err
		}, "InstanceLimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorCode(tc.call()); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEC2DescribeInstancesPaginator(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	want := []string{webInstance}
	for _, st := range ts.sb.EC2Instances(prodAccount, "us-east-1") {
		if st.ID != webInstance {
			want = append(want, st.ID)
		}
	}
	for range 2 {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(6)})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range out.Instances {
			want = append(want, aws.ToString(i.InstanceId))
		}
	}
	var got []string
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				got = append(got, aws.ToString(i.InstanceId))
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("paged instances (-got +want):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("got %d pages of 5 for %d instances, want 3", pages, len(want))
	}
}

func TestEC2SecurityGroups(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	n := lookupNames(t, c)

	created, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("quarantine"), Description: aws.String("no traffic"), VpcId: aws.String(n.vpc),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("firebreak"), Value: aws.String("quarantine")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	q := aws.ToString(created.GroupId)
	if _, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("quarantine"), Description: aws.String("x"), VpcId: aws.String(n.vpc)}); errorCode(err) != "InvalidGroup.Duplicate" {
		t.Errorf("duplicate group name: got %q", errorCode(err))
	}
	// A new group allows all egress; quarantine removes it.
	if _, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(q),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	perm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges:         []types.IpRange{{CidrIp: aws.String("10.9.9.9/32"), Description: aws.String("forensics")}},
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(n.bastion)}}}
	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(q), IpPermissions: []types.IpPermission{perm}})
	if err != nil {
		t.Fatal(err)
	}
	if len(auth.SecurityGroupRules) != 2 || !aws.ToBool(auth.Return) {
		t.Errorf("AuthorizeSecurityGroupIngress returned %d rules, return=%v", len(auth.SecurityGroupRules), aws.ToBool(auth.Return))
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(q), IpPermissions: []types.IpPermission{perm}}); errorCode(err) != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: got %q", errorCode(err))
	}
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{q}})
	if err != nil {
		t.Fatal(err)
	}
	g := out.SecurityGroups[0]
	if len(g.IpPermissionsEgress) != 0 || len(g.IpPermissions) != 1 {
		t.Fatalf("quarantine group permissions: ingress %d, egress %d", len(g.IpPermissions), len(g.IpPermissionsEgress))
	}
	p := g.IpPermissions[0]
	gotPerm := []string{aws.ToString(p.IpProtocol), itoa(aws.ToInt32(p.FromPort)), aws.ToString(p.IpRanges[0].CidrIp), aws.ToString(p.IpRanges[0].Description), aws.ToString(p.UserIdGroupPairs[0].GroupId), aws.ToString(g.Tags[0].Value)}
	if diff := cmp.Diff(gotPerm, []string{"tcp", "22", "10.9.9.9/32", "forensics", n.bastion, "quarantine"}); diff != "" {
		t.Errorf("described permission (-got +want):\n%s", diff)
	}
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{q}}}})
	if err != nil {
		t.Fatal(err)
	}
	var peers []string
	for _, r := range rules.SecurityGroupRules {
		peer := aws.ToString(r.CidrIpv4)
		if r.ReferencedGroupInfo != nil {
			peer = aws.ToString(r.ReferencedGroupInfo.GroupId)
		}
		peers = append(peers, peer)
	}
	sort.Strings(peers)
	if diff := cmp.Diff(peers, []string{"10.9.9.9/32", n.bastion}); diff != "" {
		t.Errorf("rule peers (-got +want):\n%s", diff)
	}
	// The bastion group is referenced: it cannot go; the default group never can.
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(n.bastion)}); errorCode(err) != "DependencyViolation" {
		t.Errorf("delete referenced group: got %q", errorCode(err))
	}
	def, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{n.vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(def.SecurityGroups) != 1 {
		t.Fatalf("default group of the VPC: %v", err)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: def.SecurityGroups[0].GroupId}); errorCode(err) != "CannotDelete" {
		t.Errorf("delete default group: got %q", errorCode(err))
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(q), IpPermissions: []types.IpPermission{perm}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(q), IpPermissions: []types.IpPermission{perm}}); errorCode(err) != "InvalidPermission.NotFound" {
		t.Errorf("revoke twice: got %q", errorCode(err))
	}
	if rules, _ := ts.sb.EC2SecurityGroupRules(prodAccount, "us-east-1", q); len(rules) != 0 {
		t.Errorf("quarantine group still has rules: %+v", rules)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(q)}); err != nil {
		t.Errorf("DeleteSecurityGroup: %v", err)
	}
}

func TestEC2NetworkACLs(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	n := lookupNames(t, c)

	deny := func(rule int32, cidr string) *ec2.CreateNetworkAclEntryInput {
		return &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(n.webACL), RuleNumber: aws.Int32(rule), Protocol: aws.String("-1"),
			RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String(cidr)}
	}
	if _, err := c.CreateNetworkAclEntry(ctx, deny(1, "203.0.113.66/32")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateNetworkAclEntry(ctx, deny(1, "203.0.113.67/32")); errorCode(err) != "NetworkAclEntryAlreadyExists" {
		t.Errorf("duplicate rule number: got %q", errorCode(err))
	}
	for _, bad := range []int32{0, 32767} {
		if _, err := c.CreateNetworkAclEntry(ctx, deny(bad, "203.0.113.67/32")); errorCode(err) != "InvalidParameterValue" {
			t.Errorf("rule number %d: got %q", bad, errorCode(err))
		}
	}
	// The seeded ACL has 1 ingress rule, plus the one above: 18 more fill
	// the quota of 20, the next is refused. Egress has its own quota.
	for i := range int32(18) {
		if _, err := c.CreateNetworkAclEntry(ctx, deny(10+i, "198.18.0."+itoa(i)+"/32")); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if _, err := c.CreateNetworkAclEntry(ctx, deny(50, "198.18.1.0/32")); errorCode(err) != "NetworkAclEntryLimitExceeded" {
		t.Errorf("21st ingress entry: got %q, want NetworkAclEntryLimitExceeded", errorCode(err))
	}
	egress := deny(50, "198.18.1.0/32")
	egress.Egress = aws.Bool(true)
	if _, err := c.CreateNetworkAclEntry(ctx, egress); err != nil {
		t.Errorf("egress entry with a full ingress quota: %v", err)
	}
	if _, err := c.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(n.webACL), RuleNumber: aws.Int32(1), Protocol: aws.String("6"),
		RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("203.0.113.0/24"), PortRange: &types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(n.webACL), RuleNumber: aws.Int32(10), Egress: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(n.webACL), RuleNumber: aws.Int32(10), Egress: aws.Bool(false)}); errorCode(err) != "InvalidNetworkAclEntry.NotFound" {
		t.Errorf("delete twice: got %q", errorCode(err))
	}
	acl, entries, ok := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", n.webA)
	if !ok || acl != n.webACL {
		t.Fatalf("EC2SubnetNACL(web-a) = %s, %v", acl, ok)
	}
	if got, want := entries[0], (EC2NACLEntry{Rule: 1, Protocol: "6", Action: "deny", CIDR: "203.0.113.0/24", FromPort: 22, ToPort: 22}); got != want {
		t.Errorf("first entry = %+v, want %+v", got, want)
	}
	if len(entries) != 21 { // 19 ingress after the delete, 2 egress
		t.Errorf("got %d entries, want 21", len(entries))
	}

	// A new ACL denies everything; moving web-b onto it isolates the subnet.
	created, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(n.vpc)})
	if err != nil {
		t.Fatal(err)
	}
	isolate := aws.ToString(created.NetworkAcl.NetworkAclId)
	if len(created.NetworkAcl.Entries) != 2 || aws.ToInt32(created.NetworkAcl.Entries[0].RuleNumber) != 32767 {
		t.Errorf("new ACL entries = %+v, want only the two 32767 denies", created.NetworkAcl.Entries)
	}
	cur, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{n.webB}}}})
	if err != nil {
		t.Fatal(err)
	}
	var assoc string
	for _, a := range cur.NetworkAcls[0].Associations {
		if aws.ToString(a.SubnetId) == n.webB {
			assoc = aws.ToString(a.NetworkAclAssociationId)
		}
	}
	rep, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: aws.String(isolate)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rep.NewAssociationId) == "" || aws.ToString(rep.NewAssociationId) == assoc {
		t.Errorf("new association id %q", aws.ToString(rep.NewAssociationId))
	}
	if acl, _, _ := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", n.webB); acl != isolate {
		t.Errorf("web-b ACL = %s, want %s", acl, isolate)
	}
	if _, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: aws.String(assoc), NetworkAclId: aws.String(isolate)}); errorCode(err) != "InvalidAssociationID.NotFound" {
		t.Errorf("reuse of the old association: got %q", errorCode(err))
	}
}

func TestEC2InstanceProfileAssociations(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	list, err := c.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{webInstance}}}})
	if err != nil || len(list.IamInstanceProfileAssociations) != 1 {
		t.Fatalf("seeded association: %v, %+v", err, list)
	}
	old := list.IamInstanceProfileAssociations[0]
	if _, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(webInstance),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("quarantine")}}); errorCode(err) != "IncorrectState" {
		t.Errorf("second association: got %q", errorCode(err))
	}
	rep, err := c.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: old.AssociationId,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::111111111111:instance-profile/quarantine")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(rep.IamInstanceProfileAssociation.IamInstanceProfile.Arn); !strings.HasSuffix(got, "/quarantine") {
		t.Errorf("replaced profile = %s", got)
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance); !strings.HasSuffix(st.InstanceProfileARN, "/quarantine") {
		t.Errorf("instance profile after replace = %s", st.InstanceProfileARN)
	}
	dis, err := c.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: rep.IamInstanceProfileAssociation.AssociationId})
	if err != nil || dis.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateDisassociating {
		t.Fatalf("DisassociateIamInstanceProfile: %v, %+v", err, dis)
	}
	if _, err := c.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: rep.IamInstanceProfileAssociation.AssociationId}); errorCode(err) != "InvalidAssociationID.NotFound" {
		t.Errorf("disassociate twice: got %q", errorCode(err))
	}
	assoc, err := c.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(webInstance),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web-app")}})
	if err != nil || assoc.IamInstanceProfileAssociation.State != types.IamInstanceProfileAssociationStateAssociating {
		t.Fatalf("AssociateIamInstanceProfile: %v", err)
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance); !strings.HasSuffix(st.InstanceProfileARN, "/web-app") {
		t.Errorf("instance profile after associate = %s", st.InstanceProfileARN)
	}
}

func TestEC2VolumesSnapshotsTags(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{webInstance}}}})
	if err != nil || len(vols.Volumes) != 1 {
		t.Fatalf("DescribeVolumes attachment.instance-id: %v, %+v", err, vols)
	}
	vol := vols.Volumes[0]
	if got := aws.ToString(vol.Attachments[0].InstanceId); got != webInstance || vol.State != types.VolumeStateInUse {
		t.Errorf("root volume attachment = %s, state %s", got, vol.State)
	}
	snapTags := []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("incident"), Value: aws.String("inc-1")}}}}
	snap, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, Description: aws.String("forensics"), TagSpecifications: snapTags})
	if err != nil {
		t.Fatal(err)
	}
	if snap.State != types.SnapshotStatePending || aws.ToString(snap.Tags[0].Value) != "inc-1" {
		t.Errorf("CreateSnapshot = state %s, tags %+v", snap.State, snap.Tags)
	}
	found, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{{Name: aws.String("tag:incident"), Values: []string{"inc-1"}}}})
	if err != nil || len(found.Snapshots) != 1 || found.Snapshots[0].State != types.SnapshotStateCompleted {
		t.Fatalf("DescribeSnapshots by tag: %v, %+v", err, found)
	}
	if err := ec2.NewSnapshotCompletedWaiter(c).Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(snap.SnapshotId)}}, 5e9); err != nil {
		t.Errorf("SnapshotCompleted waiter: %v", err)
	}
	if diff := cmp.Diff(ts.sb.EC2Snapshots(prodAccount, "us-east-1"), []EC2SnapshotState{{ID: aws.ToString(snap.SnapshotId),
		Volume: aws.ToString(vol.VolumeId), Description: "forensics", Size: 8, Tags: map[string]string{"incident": "inc-1"}}}); diff != "" {
		t.Errorf("EC2Snapshots (-got +want):\n%s", diff)
	}

	// Tags on any resource.
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{webInstance, aws.ToString(vol.VolumeId)},
		Tags: []types.Tag{{Key: aws.String("firebreak:quarantined"), Value: aws.String("inc-1")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"firebreak:quarantined"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range tags.Tags {
		got = append(got, string(tg.ResourceType)+" "+aws.ToString(tg.ResourceId))
	}
	sort.Strings(got)
	if diff := cmp.Diff(got, []string{"instance " + webInstance, "volume " + aws.ToString(vol.VolumeId)}); diff != "" {
		t.Errorf("DescribeTags (-got +want):\n%s", diff)
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{webInstance}, Tags: []types.Tag{{Key: aws.String("firebreak:quarantined"), Value: aws.String("other")}}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance); st.Tags["firebreak:quarantined"] != "inc-1" {
		t.Errorf("DeleteTags with another value removed the tag")
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{webInstance}, Tags: []types.Tag{{Key: aws.String("firebreak:quarantined")}}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance); st.Tags["firebreak:quarantined"] != "" {
		t.Errorf("DeleteTags by key left the tag")
	}
	if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(snap.SnapshotId)}}); errorCode(err) != "InvalidSnapshot.NotFound" {
		t.Errorf("deleted snapshot: got %q", errorCode(err))
	}
}

func TestEC2NetworkAndMisc(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	n := lookupNames(t, c)

	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.20.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.20.1.128/25")}); errorCode(err) != "InvalidSubnet.Conflict" {
		t.Errorf("overlapping subnet: got %q", errorCode(err))
	}
	if _, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.99.1.0/24")}); errorCode(err) != "InvalidSubnet.Range" {
		t.Errorf("subnet outside the VPC: got %q", errorCode(err))
	}
	// Every VPC gets a default ACL (which the new subnet joins) and group.
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}, {Name: aws.String("default"), Values: []string{"true"}}}})
	if err != nil || len(acls.NetworkAcls) != 1 || aws.ToString(acls.NetworkAcls[0].Associations[0].SubnetId) != aws.ToString(sn.Subnet.SubnetId) {
		t.Fatalf("default ACL of the new VPC: %v, %+v", err, acls)
	}
	if got := len(acls.NetworkAcls[0].Entries); got != 4 {
		t.Errorf("default ACL has %d entries, want 4 (allow and deny each way)", got)
	}

	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{webInstance}}}})
	if err != nil || len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("DescribeNetworkInterfaces: %v, %+v", err, enis)
	}
	eni := enis.NetworkInterfaces[0]
	if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: eni.NetworkInterfaceId, Groups: []string{n.bastion}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ts.sb.EC2Instance(prodAccount, "us-east-1", webInstance); !slices.Equal(st.SecurityGroups, []string{n.bastion}) {
		t.Errorf("instance groups after ENI change = %v", st.SecurityGroups)
	}

	regions, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil || !slices.ContainsFunc(regions.Regions, func(r types.Region) bool { return aws.ToString(r.RegionName) == "eu-west-1" }) {
		t.Errorf("DescribeRegions: %v, %d regions", err, len(regions.Regions))
	}
	console, err := c.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(webInstance)})
	if err != nil {
		t.Fatal(err)
	}
	text, err := base64.StdEncoding.DecodeString(aws.ToString(console.Output))
	if err != nil || string(text) != "web-1 boot log\n" {
		t.Errorf("console output = %q, %v", text, err)
	}

	pl, err := c.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("blocked"), MaxEntries: aws.Int32(2), AddressFamily: aws.String("IPv4"),
		Entries: []types.AddPrefixListEntry{{Cidr: aws.String("203.0.113.66/32"), Description: aws.String("attacker")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := pl.PrefixList.PrefixListId
	if _, err := c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: id, CurrentVersion: aws.Int64(1),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("203.0.113.67/32")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyManagedPrefixList(ctx, &ec2.ModifyManagedPrefixListInput{PrefixListId: id, CurrentVersion: aws.Int64(2),
		AddEntries: []types.AddPrefixListEntry{{Cidr: aws.String("203.0.113.68/32")}}}); errorCode(err) != "PrefixListMaxEntriesExceeded" {
		t.Errorf("prefix list over its maximum: got %q", errorCode(err))
	}
	entries, err := c.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: id})
	if err != nil {
		t.Fatal(err)
	}
	var cidrs []string
	for _, e := range entries.Entries {
		cidrs = append(cidrs, aws.ToString(e.Cidr))
	}
	if diff := cmp.Diff(cidrs, []string{"203.0.113.66/32", "203.0.113.67/32"}); diff != "" {
		t.Errorf("prefix list entries (-got +want):\n%s", diff)
	}
}

// TestEC2DryRun checks that DryRun answers DryRunOperation when the call
// would succeed, the real error when it would not, and changes nothing.
func TestEC2DryRun(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	n := lookupNames(t, c)
	dry := aws.Bool(true)
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"terminate", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{webInstance}, DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"stop", func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{webInstance}, DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"modify groups", func() error {
			_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(webInstance), Groups: []string{n.bastion}, DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"nacl entry", func() error {
			_, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(n.webACL), RuleNumber: aws.Int32(5), Protocol: aws.String("-1"),
				RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("203.0.113.66/32"), DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"snapshot", func() error {
			_, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(mustInstance(t, ts, webInstance).RootVolume), DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"run", func() error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"describe", func() error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{DryRun: dry})
			return err
		}, "DryRunOperation"},
		{"would fail: unknown instance", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0000000000000beef"}, DryRun: dry})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"would fail: protected", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{ts.sb.EC2Instances(prodAccount, "us-east-1")[1].ID}, DryRun: dry})
			return err
		}, "OperationNotPermitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorCode(tc.call()); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	st := mustInstance(t, ts, webInstance)
	if st.State != "running" || !slices.Equal(st.SecurityGroups, []string{n.web}) {
		t.Errorf("dry runs changed the instance: %+v", st)
	}
	if got := len(ts.sb.EC2Instances(prodAccount, "us-east-1")); got != 2 {
		t.Errorf("dry run launched instances: %d", got)
	}
	if got := ts.sb.EC2Snapshots(prodAccount, "us-east-1"); len(got) != 0 {
		t.Errorf("dry run created snapshots: %+v", got)
	}
	if _, entries, _ := ts.sb.EC2SubnetNACL(prodAccount, "us-east-1", n.webA); len(entries) != 2 {
		t.Errorf("dry run added NACL entries: %+v", entries)
	}
}

func mustInstance(t *testing.T, ts *ec2s3Sandbox, id string) EC2InstanceState {
	t.Helper()
	st, ok := ts.sb.EC2Instance(prodAccount, "us-east-1", id)
	if !ok {
		t.Fatalf("no instance %s", id)
	}
	return st
}

// TestEC2CloudTrail checks that calls are recorded with the instance as a
// resource, so that LookupEvents by ResourceName finds them.
func TestEC2CloudTrail(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	ctx := context.Background()
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{webInstance}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{webInstance}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(ts.config(prodAccount, "us-east-1"))
	out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String(webInstance)}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.Events {
		got = append(got, aws.ToString(e.EventSource)+" "+aws.ToString(e.EventName))
	}
	sort.Strings(got)
	if diff := cmp.Diff(got, []string{"ec2.amazonaws.com CreateTags", "ec2.amazonaws.com StopInstances"}); diff != "" {
		t.Errorf("LookupEvents ResourceName=%s (-got +want):\n%s", webInstance, diff)
	}
}

// TestEC2Unauthorized checks that an explicit deny gives EC2's
// UnauthorizedOperation, dry run or not, and S3's AccessDenied.
func TestEC2Unauthorized(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	ctx := context.Background()
	c := ts.ec2(contractor, "us-east-1")
	for _, dry := range []bool{true, false} {
		_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{webInstance}, DryRun: aws.Bool(dry)})
		if got := errorCode(err); got != "UnauthorizedOperation" {
			t.Errorf("TerminateInstances DryRun=%v: got %q, want UnauthorizedOperation", dry, got)
		}
	}
	if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{webInstance}, DryRun: aws.Bool(true)}); errorCode(err) != "DryRunOperation" {
		t.Errorf("allowed StopInstances DryRun: got %q", errorCode(err))
	}
	if st := mustInstance(t, ts, webInstance); st.State != "running" {
		t.Errorf("denied calls changed the instance: %s", st.State)
	}
	_, err := ts.s3(contractor).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("acme-public-assets"), Policy: aws.String(`{"Statement":[]}`)})
	if got := errorCode(err); got != "AccessDenied" {
		t.Errorf("denied PutBucketPolicy: got %q", got)
	}
}

// TestEC2TrailResponseElements checks what a write call leaves in its
// CloudTrail record.
func TestEC2TrailResponseElements(t *testing.T) {
	ts := newEC2S3Sandbox(t)
	c := ts.ec2(prodAccount, "us-east-1")
	run, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	var rec *TrailRecord
	for _, r := range ts.sb.Trail() {
		if r.EventName == "RunInstances" {
			rec = &r
		}
	}
	if rec == nil {
		t.Fatal("no RunInstances record")
	}
	var resp struct {
		InstancesSet struct {
			Items []struct {
				InstanceID string `json:"instanceId"`
			} `json:"items"`
		} `json:"instancesSet"`
	}
	if err := json.Unmarshal(rec.ResponseElements, &resp); err != nil {
		t.Fatalf("responseElements %s: %v", rec.ResponseElements, err)
	}
	if len(resp.InstancesSet.Items) != 1 || resp.InstancesSet.Items[0].InstanceID != id {
		t.Errorf("responseElements %s do not name %s", rec.ResponseElements, id)
	}
	if rec.EventSource != "ec2.amazonaws.com" || rec.ReadOnly || len(rec.Resources) != 1 || !strings.HasSuffix(rec.Resources[0].ARN, "instance/"+id) {
		t.Errorf("record = source %s, readOnly %v, resources %+v", rec.EventSource, rec.ReadOnly, rec.Resources)
	}
}

// TestEC2TrailParameters checks the requestParameters shape.
func TestEC2TrailParameters(t *testing.T) {
	got := ec2TrailParameters(ec2Params{"Action": {"TerminateInstances"}, "Version": {"2016-11-15"}, "InstanceId.1": {"i-1"}, "InstanceId.2": {"i-2"},
		"Filter.1.Name": {"tag:a"}, "Filter.1.Value.1": {"x"}, "DryRun": {"true"}, "UserData": {"ZXhwb3J0IFRPS0VOPXNlY3JldA=="}})
	want := map[string]any{"instanceId": []any{"i-1", "i-2"}, "filter": []any{map[string]any{"name": "tag:a", "value": []any{"x"}}}, "dryRun": "true",
		"userData": "<sensitiveDataRemoved>"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ec2TrailParameters (-got +want):\n%s", diff)
	}
}

func TestEC2Glob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"web", "web", true}, {"web", "web-1", false}, {"web*", "web-1", true}, {"*-1", "web-1", true},
		{"w?b", "web", true}, {"w?b", "wb", false}, {"*", "", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
	} {
		if got := ec2Glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("ec2Glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
