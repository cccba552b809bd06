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
	id      string
	used    [2]map[int32]types.NetworkAclEntry // [ingress, egress], by rule number, without 32767
	blocks  map[int32]block                    // Firebreak's blocks, by rule
	badTags []error
}

func readACL(a types.NetworkAcl) acl {
	out := acl{id: aws.ToString(a.NetworkAclId), blocks: map[int32]block{}}
	out.used[0], out.used[1] = map[int32]types.NetworkAclEntry{}, map[int32]types.NetworkAclEntry{}
	for _, e := range a.Entries {
		n := aws.ToInt32(e.RuleNumber)
		if n >= 32767 {
			continue
		}
		dir := 0
		if aws.ToBool(e.Egress) {
			dir = 1
		}
		out.used[dir][n] = e
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
		if !ok || e.RuleAction != types.RuleActionDeny || aws.ToString(e.CidrBlock) != cidr || aws.ToString(e.Protocol) != "-1" {
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
// whether an entry holds the rule number already.
func deny(ctx context.Context, api API, aclID string, n int32, egress bool, cidr string, replace bool) error {
	var err error
	if replace {
		_, err = api.ReplaceNetworkAclEntry(ctx, &awsec2.ReplaceNetworkAclEntryInput{
			NetworkAclId: aws.String(aclID), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String(cidr),
		})
	} else {
		_, err = api.CreateNetworkAclEntry(ctx, &awsec2.CreateNetworkAclEntryInput{
			NetworkAclId: aws.String(aclID), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String(cidr),
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

// unblock deletes a block's entries (those still denying its CIDR) and
// its tag.
func unblock(ctx context.Context, api API, a acl, b block) error {
	for dir, m := range a.used {
		e, ok := m[b.rule]
		if !ok || e.RuleAction != types.RuleActionDeny || aws.ToString(e.CidrBlock) != b.cidr {
			continue
		}
		_, err := api.DeleteNetworkAclEntry(ctx, &awsec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(a.id), RuleNumber: aws.Int32(b.rule), Egress: aws.Bool(dir == 1)})
		if err != nil && action.ErrorCode(err) != "InvalidNetworkAclEntry.NotFound" {
			return fmt.Errorf("delete %s rule %d of %s: %w", direction(dir == 1), b.rule, a.id, err)
		}
	}
	_, err := api.DeleteTags(ctx, &awsec2.DeleteTagsInput{Resources: []string{a.id}, Tags: []types.Tag{{Key: aws.String(BlockTagPrefix + strconv.Itoa(int(b.rule)))}}})
	if err != nil {
		return fmt.Errorf("untag block %d of %s: %w", b.rule, a.id, err)
	}
	return nil
}
