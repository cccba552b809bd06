package vpc

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the EC2 client the VPC actions call. *ec2.Client
// satisfies it.
type API interface {
	DescribeInstances(ctx context.Context, in *awsec2.DescribeInstancesInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
	DescribeNetworkAcls(ctx context.Context, in *awsec2.DescribeNetworkAclsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeNetworkAclsOutput, error)
	CreateNetworkAclEntry(ctx context.Context, in *awsec2.CreateNetworkAclEntryInput, opts ...func(*awsec2.Options)) (*awsec2.CreateNetworkAclEntryOutput, error)
	ReplaceNetworkAclEntry(ctx context.Context, in *awsec2.ReplaceNetworkAclEntryInput, opts ...func(*awsec2.Options)) (*awsec2.ReplaceNetworkAclEntryOutput, error)
	DeleteNetworkAclEntry(ctx context.Context, in *awsec2.DeleteNetworkAclEntryInput, opts ...func(*awsec2.Options)) (*awsec2.DeleteNetworkAclEntryOutput, error)
	CreateTags(ctx context.Context, in *awsec2.CreateTagsInput, opts ...func(*awsec2.Options)) (*awsec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *awsec2.DeleteTagsInput, opts ...func(*awsec2.Options)) (*awsec2.DeleteTagsOutput, error)
	DescribeManagedPrefixLists(ctx context.Context, in *awsec2.DescribeManagedPrefixListsInput, opts ...func(*awsec2.Options)) (*awsec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(ctx context.Context, in *awsec2.GetManagedPrefixListEntriesInput, opts ...func(*awsec2.Options)) (*awsec2.GetManagedPrefixListEntriesOutput, error)
	ModifyManagedPrefixList(ctx context.Context, in *awsec2.ModifyManagedPrefixListInput, opts ...func(*awsec2.Options)) (*awsec2.ModifyManagedPrefixListOutput, error)
}

var _ API = (*awsec2.Client)(nil)

func client(ctx context.Context, id string, call action.Call) (API, error) {
	cfg, err := call.AWSConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return awsec2.NewFromConfig(cfg), nil
}

// BlockTagPrefix starts the key of the tag that records one block on a
// network ACL: firebreak:block:<rule> = "<cidr> <created> <expires>", both
// times RFC 3339 UTC. The ingress and egress entries of a block share the
// rule number. The tag is the block's only state: unblocking and recycling
// read it from the ACL itself.
const BlockTagPrefix = "firebreak:block:"

// block is one Firebreak block on a network ACL.
type block struct {
	rule             int32
	cidr             string
	created, expires time.Time
}

func (b block) tagValue() string {
	return b.cidr + " " + b.created.UTC().Format(time.RFC3339) + " " + b.expires.UTC().Format(time.RFC3339)
}

// parseBlockTag reads a block tag; ok is false when key is not one.
func parseBlockTag(key, value string) (b block, ok bool, err error) {
	num, found := strings.CutPrefix(key, BlockTagPrefix)
	if !found {
		return block{}, false, nil
	}
	n, err := strconv.ParseInt(num, 10, 32)
	if err != nil || n < 1 || n > 32766 {
		return block{}, true, fmt.Errorf("tag %s: rule number %q is not 1–32766", key, num)
	}
	f := strings.Fields(value)
	if len(f) != 3 {
		return block{}, true, fmt.Errorf("tag %s: value %q: want \"<cidr> <created> <expires>\"", key, value)
	}
	b.rule = int32(n)
	if _, err := netip.ParsePrefix(f[0]); err != nil {
		return block{}, true, fmt.Errorf("tag %s: cidr %q: %w", key, f[0], err)
	}
	b.cidr = f[0]
	if b.created, err = time.Parse(time.RFC3339, f[1]); err != nil {
		return block{}, true, fmt.Errorf("tag %s: created %q: %w", key, f[1], err)
	}
	if b.expires, err = time.Parse(time.RFC3339, f[2]); err != nil {
		return block{}, true, fmt.Errorf("tag %s: expires %q: %w", key, f[2], err)
	}
	// Firebreak writes whole seconds; finer ones would not survive a rewrite.
	b.created, b.expires = b.created.Truncate(time.Second), b.expires.Truncate(time.Second)
	return b, true, nil
}

// acl is what the actions know of one network ACL.
type acl struct {
	id   string
	used [2]map[int32]types.NetworkAclEntry // [ingress, egress], by rule number, without the default denies
	// count is the number of entries per direction as the quota counts
	// them: IPv4 and IPv6 alike, the default denies (32767 for IPv4,
	// 32768 for IPv6) included.
	count   [2]int
	blocks  map[int32]block // Firebreak's blocks, by rule
	badTags []error
}

// entryCIDR is the range of a network ACL entry, IPv4 or IPv6.
func entryCIDR(e types.NetworkAclEntry) string {
	if c := aws.ToString(e.CidrBlock); c != "" {
		return c
	}
	return aws.ToString(e.Ipv6CidrBlock)
}

func readACL(a types.NetworkAcl) acl {
	out := acl{id: aws.ToString(a.NetworkAclId), blocks: map[int32]block{}}
	out.used[0], out.used[1] = map[int32]types.NetworkAclEntry{}, map[int32]types.NetworkAclEntry{}
	for _, e := range a.Entries {
		dir := 0
		if aws.ToBool(e.Egress) {
			dir = 1
		}
		out.count[dir]++
		if n := aws.ToInt32(e.RuleNumber); n < 32767 {
			out.used[dir][n] = e
		}
	}
	for _, t := range a.Tags {
		b, ok, err := parseBlockTag(aws.ToString(t.Key), aws.ToString(t.Value))
		switch {
		case err != nil:
			out.badTags = append(out.badTags, fmt.Errorf("network ACL %s: %w", out.id, err))
		case ok:
			out.blocks[b.rule] = b
		}
	}
	return out
}

// denies reports whether both directions hold a deny of cidr at rule n.
func (a acl) denies(n int32, cidr string) bool {
	for _, m := range a.used {
		e, ok := m[n]
		if !ok || e.RuleAction != types.RuleActionDeny || entryCIDR(e) != cidr || aws.ToString(e.Protocol) != "-1" {
			return false
		}
	}
	return true
}

// sortedACLs returns the ACLs sorted by id.
func sortedACLs(in []types.NetworkAcl) []types.NetworkAcl {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b types.NetworkAcl) int {
		return strings.Compare(aws.ToString(a.NetworkAclId), aws.ToString(b.NetworkAclId))
	})
	return out
}

func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

// deny writes the deny entry of a block in one direction; replace says
// whether an entry holds the rule number already. An IPv6 range goes in
// Ipv6CidrBlock, an IPv4 one in CidrBlock.
func deny(ctx context.Context, api API, aclID string, n int32, egress bool, cidr string, replace bool) error {
	var v4, v6 *string
	if isIPv6(cidr) {
		v6 = aws.String(cidr)
	} else {
		v4 = aws.String(cidr)
	}
	var err error
	if replace {
		_, err = api.ReplaceNetworkAclEntry(ctx, &awsec2.ReplaceNetworkAclEntryInput{
			NetworkAclId: aws.String(aclID), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: v4, Ipv6CidrBlock: v6,
		})
	} else {
		_, err = api.CreateNetworkAclEntry(ctx, &awsec2.CreateNetworkAclEntryInput{
			NetworkAclId: aws.String(aclID), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: v4, Ipv6CidrBlock: v6,
		})
	}
	if err != nil {
		err = fmt.Errorf("deny %s on %s (%s rule %d): %w", cidr, aclID, direction(egress), n, err)
		if action.ErrorCode(err) == "NetworkAclEntryAlreadyExists" {
			// Another run took the rule number since this one planned:
			// the retried step plans again and takes a free one.
			return action.Mark(action.Retry, err)
		}
		return err
	}
	return nil
}

// isIPv6 reports whether cidr is an IPv6 range.
func isIPv6(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Addr().Is6()
}

// unblock deletes a block's entries (those still denying its CIDR) and
// its tag. A block read from its tag (created set) loses the tag only if
// the tag still holds that block: a run that recycled the rule number
// since keeps its own.
//
// removed says whether this call deleted the ingress entry: of two
// processes removing the same block at once, exactly one does, the other
// finding it gone. (A block whose ingress entry was gone already, half
// removed by a run that stopped midway, counts as removed by nobody.)
func unblock(ctx context.Context, api API, a acl, b block) (removed bool, err error) {
	for dir, m := range a.used {
		e, ok := m[b.rule]
		if !ok || e.RuleAction != types.RuleActionDeny || entryCIDR(e) != b.cidr {
			continue
		}
		_, err := api.DeleteNetworkAclEntry(ctx, &awsec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(a.id), RuleNumber: aws.Int32(b.rule), Egress: aws.Bool(dir == 1)})
		if err != nil && action.ErrorCode(err) != "InvalidNetworkAclEntry.NotFound" {
			return removed, fmt.Errorf("delete %s rule %d of %s: %w", direction(dir == 1), b.rule, a.id, err)
		}
		if dir == 0 {
			removed = err == nil
		}
	}
	tag := types.Tag{Key: aws.String(BlockTagPrefix + strconv.Itoa(int(b.rule)))}
	if !b.created.IsZero() {
		tag.Value = aws.String(b.tagValue())
	}
	if _, err := api.DeleteTags(ctx, &awsec2.DeleteTagsInput{Resources: []string{a.id}, Tags: []types.Tag{tag}}); err != nil {
		return removed, fmt.Errorf("untag block %d of %s: %w", b.rule, a.id, err)
	}
	return removed, nil
}
