package vpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/vpc"
)

const attacker6 = "2001:db8:66::1"

// needIPv6Entries skips the test when the sandbox's network ACLs do not
// take Ipv6CidrBlock entries yet: it probes with one on an ACL of its own.
func needIPv6Entries(t *testing.T, f *fixture) {
	t.Helper()
	c := f.ec2Client()
	ctx := context.Background()
	vpcs, err := c.DescribeVpcs(ctx, &awsec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("vpcs: %v", err)
	}
	acl, err := c.CreateNetworkAcl(ctx, &awsec2.CreateNetworkAclInput{VpcId: vpcs.Vpcs[0].VpcId})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNetworkAclEntry(ctx, &awsec2.CreateNetworkAclEntryInput{
		NetworkAclId: acl.NetworkAcl.NetworkAclId, RuleNumber: aws.Int32(1), Egress: aws.Bool(false),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Ipv6CidrBlock: aws.String("2001:db8::/64"),
	})
	if action.ErrorCode(err) == "MissingParameter" {
		t.Skip("the sandbox's network ACL entries take no Ipv6CidrBlock yet (ec2_network.go change pending)")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// An IPv6 address is blocked as /128 in Ipv6CidrBlock, sharing the rule
// numbers with IPv4 blocks, and expires like them.
func TestBlockIPv6ThenExpire(t *testing.T) {
	f := newFixture(t)
	needIPv6Entries(t, f)
	block := vpc.BlockIP{Now: f.clock}
	ctx := context.Background()
	v4, err := block.Do(ctx, f.call(f.blockParams(attacker, 2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	v6, err := block.Do(ctx, f.call(f.blockParams(attacker6, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	acl, _, _ := f.sb.EC2SubnetNACL(account, region, f.web1.Subnet)
	if diff := cmp.Diff([]string{v4.List("entries")[0], v6.List("entries")[0]}, []string{acl + ":1", acl + ":2"}); diff != "" {
		t.Errorf("rules (-got +want):\n%s", diff)
	}
	if v6.Str("cidr") != attacker6+"/128" {
		t.Errorf("cidr = %s; want %s/128", v6.Str("cidr"), attacker6)
	}
	want := []string{"egress:1:" + attacker + "/32", "egress:2:" + attacker6 + "/128", "ingress:1:" + attacker + "/32", "ingress:2:" + attacker6 + "/128"}
	if diff := cmp.Diff(f.denies(), want); diff != "" {
		t.Errorf("denies (-got +want):\n%s", diff)
	}
	// The entries read back as IPv6: blocking again changes nothing.
	m := f.mark()
	if again, err := block.Do(ctx, f.call(f.blockParams(attacker6, time.Hour))); err != nil || again.Bool("changed") {
		t.Errorf("repeat: %v, %v", again, err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("repeat wrote %v", got)
	}

	f.now = f.now.Add(time.Hour)
	gone, err := vpc.UnblockExpired{Now: f.clock}.Do(ctx, f.call(action.Values{"account_id": action.StringValue(account)}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gone.List("removed"), []string{acl + ":2:" + attacker6 + "/128"}); diff != "" {
		t.Errorf("removed (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(f.denies(), []string{"egress:1:" + attacker + "/32", "ingress:1:" + attacker + "/32"}); diff != "" {
		t.Errorf("denies after expiry (-got +want):\n%s", diff)
	}
}
