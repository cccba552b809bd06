package vpc

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// The rule numbers aws.vpc.block_ip uses unless told otherwise: before
// any usual allow rule, and apart from aws.ec2.isolate_instance's 20–39.
const (
	BlockRuleMin = 1
	BlockRuleMax = 19
	// Quota is AWS's default number of rules per direction of a network ACL.
	Quota = 20
)

// BlockIP denies an address in both directions on the network ACLs of the
// subnets concerned, until an expiry (aws.vpc.block_ip).
type BlockIP struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action   = BlockIP{}
	_ action.Checker  = BlockIP{}
	_ action.Reverter = BlockIP{}
)

const blockID = "aws.vpc.block_ip"

// Meta describes aws.vpc.block_ip.
func (BlockIP) Meta() action.Meta {
	return action.Meta{
		ID:      blockID,
		Summary: "Block an IP address on the network ACLs of the subnets concerned, until an expiry",
		Doc: "Adds a deny entry for the address (all protocols) in both directions of the network ACL of each subnet " +
			"given, or of the instance's subnet, at one rule number free in both directions within the reserved range, " +
			"and records the block in the ACL's tag " + BlockTagPrefix + "<rule> (address, creation, expiry). Network ACLs " +
			"hold 20 rules per direction by default: when the range or the quota is full, the oldest Firebreak block in " +
			"the range is recycled. An address already blocked keeps its rule and its expiry moves later, never earlier. " +
			"aws.vpc.unblock_expired removes blocks whose expiry has passed; Revert removes this block now. IPv4 only.",
		Risk: action.Reversible,
		Params: []action.Param{
			{Name: "ip", Type: action.IP, Required: true, Target: action.TargetIP, Doc: "the address to block"},
			{Name: "instance_id", Type: action.InstanceID, Doc: "block on the network ACL of this instance's subnet"},
			{Name: "subnet_ids", Type: action.StringList, Doc: "block on the network ACLs of these subnets (with or instead of instance_id)"},
			{Name: "ttl", Type: action.Duration, Default: action.DurationValue(24 * time.Hour), Doc: "how long the block lasts"},
			{Name: "rule_min", Type: action.Int, Default: action.IntValue(BlockRuleMin), Doc: "the lowest NACL rule number Firebreak may use for blocks"},
			{Name: "rule_max", Type: action.Int, Default: action.IntValue(BlockRuleMax), Doc: "the highest NACL rule number Firebreak may use for blocks"},
			{Name: "quota", Type: action.Int, Default: action.IntValue(Quota), Doc: "the account's rules-per-direction quota of a network ACL"},
		},
		Outputs: []action.Field{
			{Name: "cidr", Type: action.String, Doc: "the blocked range, the address as /32"},
			{Name: "entries", Type: action.StringList, Doc: "the blocks, as acl-…:rule (one rule number, both directions)"},
			{Name: "expires_at", Type: action.String, Doc: "when aws.vpc.unblock_expired may remove the block, RFC 3339 UTC"},
			{Name: "ttl", Type: action.Duration, Doc: "the block's time to live, from this run"},
			{Name: "recycled", Type: action.StringList, Doc: "older blocks replaced to make room, as acl-…:rule:cidr"},
			{Name: "changed", Type: action.Bool, Doc: "false when the address was already blocked until at least the expiry"},
		},
		IAM: []string{
			"ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DescribeInstances", "ec2:DescribeNetworkAcls", "ec2:ReplaceNetworkAclEntry",
		},
		RevertIAM:   []string{"ec2:DeleteNetworkAclEntry", "ec2:DeleteTags", "ec2:DescribeNetworkAcls"},
		Idempotency: action.Idempotent,
	}
}

func (a BlockIP) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

type blocking struct {
	action.Plan
	cidr     string
	expires  time.Time
	entries  []string
	recycled []string
}

// cidrOf turns an IPv4 address into its /32.
func cidrOf(ip string) (string, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", action.Mark(action.Permanent, fmt.Errorf("%s: parameter ip %q: %w", blockID, ip, err))
	}
	if !addr.Unmap().Is4() {
		return "", action.Mark(action.Permanent, fmt.Errorf("%s: parameter ip %q: only IPv4 addresses are blocked (network ACL IPv6 entries are not supported yet)", blockID, ip))
	}
	return netip.PrefixFrom(addr.Unmap(), 32).String(), nil
}

// subnets resolves the subnets concerned: those given and the instance's.
func subnets(ctx context.Context, api API, p *action.Plan, call action.Call) ([]string, error) {
	subs := call.Params.List("subnet_ids")
	if id := call.Params.Str("instance_id"); id != "" {
		p.Read("ec2:DescribeInstances", id, "")
		out, err := api.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if c := action.ErrorCode(err); c == "InvalidInstanceID.NotFound" || c == "InvalidInstanceID.Malformed" {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s: %w", blockID, id, err))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: describe instance %s: %w", blockID, id, err)
		}
		for _, r := range out.Reservations {
			for _, inst := range r.Instances {
				for _, n := range inst.NetworkInterfaces {
					subs = append(subs, aws.ToString(n.SubnetId))
				}
				if s := aws.ToString(inst.SubnetId); s != "" {
					subs = append(subs, s)
				}
			}
		}
	}
	slices.Sort(subs)
	subs = slices.Compact(subs)
	if len(subs) == 0 {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: no subnet to block on: give instance_id (of an instance in a VPC) or subnet_ids", blockID))
	}
	return subs, nil
}

func (a BlockIP) planBlock(ctx context.Context, call action.Call) (*blocking, error) {
	cidr, err := cidrOf(call.Params.Str("ip"))
	if err != nil {
		return nil, err
	}
	ttl := call.Params.Duration("ttl")
	lo, hi, quota := call.Params.Int("rule_min"), call.Params.Int("rule_max"), call.Params.Int("quota")
	switch {
	case ttl <= 0:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter ttl %s: want a positive duration", blockID, ttl))
	case lo < 1 || hi > 32766 || lo > hi:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: rule range %d–%d: want 1 ≤ rule_min ≤ rule_max ≤ 32766", blockID, lo, hi))
	case quota < 1 || quota > 32766:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter quota %d: want 1–32766", blockID, quota))
	}
	api, err := client(ctx, blockID, call)
	if err != nil {
		return nil, err
	}
	now := a.now().Truncate(time.Second)
	bl := &blocking{cidr: cidr, expires: now.Add(ttl)}
	subs, err := subnets(ctx, api, &bl.Plan, call)
	if err != nil {
		return nil, err
	}
	bl.Read("ec2:DescribeNetworkAcls", fmt.Sprint(subs), "association.subnet-id")
	out, err := api.DescribeNetworkAcls(ctx, &awsec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("association.subnet-id"), Values: subs}}})
	if err != nil {
		return nil, fmt.Errorf("%s: network ACLs of %v: %w", blockID, subs, err)
	}
	if len(out.NetworkAcls) == 0 {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: subnets %v have no network ACL (unknown subnets?)", blockID, subs))
	}
	for _, n := range sortedACLs(out.NetworkAcls) {
		acl := readACL(n)
		for _, e := range acl.badTags {
			call.Log().WarnContext(ctx, "block tag ignored", "error", e)
		}
		if err := bl.planACL(api, call, acl, now, int32(min(max(lo, 1), 32766)), int32(min(max(hi, 1), 32766)), int(quota)); err != nil {
			return nil, err
		}
	}
	return bl, nil
}

func (bl *blocking) planACL(api API, call action.Call, a acl, now time.Time, lo, hi int32, quota int) error {
	tag := func(b block) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := api.CreateTags(ctx, &awsec2.CreateTagsInput{Resources: []string{a.id}, Tags: []types.Tag{{
				Key: aws.String(BlockTagPrefix + strconv.Itoa(int(b.rule))), Value: aws.String(b.tagValue()),
			}}})
			if err != nil {
				return fmt.Errorf("%s: record block %d on %s: %w", blockID, b.rule, a.id, err)
			}
			return nil
		}
	}
	ref := func(n int32) string { return a.id + ":" + strconv.Itoa(int(n)) }

	// Already blocked: keep the rule; move the expiry later if needed.
	for n := lo; n <= hi; n++ {
		if !a.denies(n, bl.cidr) {
			continue
		}
		bl.entries = append(bl.entries, ref(n))
		b, tagged := a.blocks[n]
		if tagged && b.cidr == bl.cidr && !b.expires.Before(bl.expires) {
			bl.expires = b.expires
			return nil
		}
		if !tagged || b.cidr != bl.cidr {
			b = block{rule: n, cidr: bl.cidr, created: now}
		}
		b.expires = bl.expires
		bl.Write("ec2:CreateTags", a.id, BlockTagPrefix+strconv.Itoa(int(n))+"="+b.tagValue(), tag(b))
		return nil
	}

	// A free rule number, within the quota in both directions.
	room := len(a.used[0]) < quota && len(a.used[1]) < quota
	free := int32(0)
	for n := lo; n <= hi && room; n++ {
		_, in := a.used[0][n]
		_, out := a.used[1][n]
		if !in && !out {
			free = n
			break
		}
	}
	b := block{rule: free, cidr: bl.cidr, created: now, expires: bl.expires}
	if free == 0 {
		// Recycle the oldest Firebreak block in the range.
		var oldest *block
		for _, o := range a.blocks {
			if o.rule < lo || o.rule > hi {
				continue
			}
			if oldest == nil || o.created.Before(oldest.created) || o.created.Equal(oldest.created) && o.rule < oldest.rule {
				oldest = &o
			}
		}
		if oldest == nil {
			return action.Mark(action.Permanent, fmt.Errorf("%s: network ACL %s is full (%d ingress, %d egress rules, quota %d) and holds no Firebreak block in %d–%d to recycle",
				blockID, a.id, len(a.used[0]), len(a.used[1]), quota, lo, hi))
		}
		b.rule = oldest.rule
		bl.recycled = append(bl.recycled, ref(oldest.rule)+":"+oldest.cidr)
		call.Log().Info("recycling the oldest block", "acl", a.id, "rule", oldest.rule, "cidr", oldest.cidr)
	}
	bl.entries = append(bl.entries, ref(b.rule))
	for dir, egress := range []bool{false, true} {
		_, replace := a.used[dir][b.rule]
		op := "ec2:CreateNetworkAclEntry"
		if replace {
			op = "ec2:ReplaceNetworkAclEntry"
		}
		bl.Write(op, a.id, fmt.Sprintf("%s rule %d deny all %s", direction(egress), b.rule, bl.cidr), func(ctx context.Context) error {
			if err := deny(ctx, api, a.id, b.rule, egress, bl.cidr, replace); err != nil {
				return fmt.Errorf("%s: %w", blockID, err)
			}
			return nil
		})
	}
	bl.Write("ec2:CreateTags", a.id, BlockTagPrefix+strconv.Itoa(int(b.rule))+"="+b.tagValue(), tag(b))
	return nil
}

// Check reports the calls Do would make, changing nothing.
func (a BlockIP) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	bl, err := a.planBlock(ctx, call)
	if err != nil {
		return nil, err
	}
	return bl.Calls(), nil
}

// Do blocks the address.
func (a BlockIP) Do(ctx context.Context, call action.Call) (action.Values, error) {
	bl, err := a.planBlock(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := bl.Apply(ctx, call); err != nil {
		return nil, err
	}
	if !call.DryRun && bl.HasWrites() {
		call.Log().InfoContext(ctx, "address blocked", "cidr", bl.cidr, "entries", bl.entries, "expires", bl.expires)
	}
	return action.Values{
		"cidr":       action.StringValue(bl.cidr),
		"entries":    action.ListValue(bl.entries),
		"expires_at": action.StringValue(bl.expires.Format(time.RFC3339)),
		"ttl":        action.DurationValue(call.Params.Duration("ttl")),
		"recycled":   action.ListValue(bl.recycled),
		"changed":    action.BoolValue(bl.HasWrites() && !call.DryRun),
	}, nil
}

// Revert removes the block's entries and tags now, where they still deny
// the address (a recycled rule now holds another address and is left).
func (BlockIP) Revert(ctx context.Context, call action.Call, done action.Values) error {
	api, err := client(ctx, blockID, call)
	if err != nil {
		return err
	}
	cidr := done.Str("cidr")
	byACL := map[string][]int32{}
	var ids []string
	for _, e := range done.List("entries") {
		id, num, ok := cutLast(e)
		n, perr := strconv.ParseInt(num, 10, 32)
		if !ok || perr != nil {
			return action.Mark(action.Permanent, fmt.Errorf("%s: revert: entry %q: want acl-…:rule", blockID, e))
		}
		if _, seen := byACL[id]; !seen {
			ids = append(ids, id)
		}
		byACL[id] = append(byACL[id], int32(n))
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := api.DescribeNetworkAcls(ctx, &awsec2.DescribeNetworkAclsInput{NetworkAclIds: ids})
	if err != nil {
		return fmt.Errorf("%s: revert: network ACLs %v: %w", blockID, ids, err)
	}
	for _, n := range sortedACLs(out.NetworkAcls) {
		a := readACL(n)
		for _, rule := range byACL[a.id] {
			b, ok := a.blocks[rule]
			if ok && b.cidr != cidr {
				continue // recycled for another address since
			}
			if err := unblock(ctx, api, a, block{rule: rule, cidr: cidr}); err != nil {
				return fmt.Errorf("%s: revert: %w", blockID, err)
			}
		}
	}
	return nil
}

func cutLast(s string) (before, after string, ok bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// ---- unblock expired ----

// UnblockExpired removes the blocks of aws.vpc.block_ip whose expiry has
// passed (aws.vpc.unblock_expired).
type UnblockExpired struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action  = UnblockExpired{}
	_ action.Checker = UnblockExpired{}
)

const unblockID = "aws.vpc.unblock_expired"

// Meta describes aws.vpc.unblock_expired.
func (UnblockExpired) Meta() action.Meta {
	return action.Meta{
		ID:      unblockID,
		Summary: "Remove the IP blocks whose expiry has passed from the network ACLs of a region",
		Doc: "Reads the " + BlockTagPrefix + "<rule> tags of every network ACL in the target region (or one VPC) and deletes " +
			"the entries and tag of each block whose expiry is not after now. An entry whose rule number holds another " +
			"address is left. Run it on a schedule (a playbook on an EventBridge Scheduler event, or `firebreak action run`).",
		Risk: action.Destructive,
		Params: []action.Param{
			{Name: "account_id", Type: action.AccountID, Required: true, Target: action.TargetAccount, Doc: "the account whose blocks to expire; must be the call's target account"},
			{Name: "vpc_id", Type: action.String, Doc: "only this VPC's network ACLs; every VPC when not given"},
		},
		Outputs: []action.Field{
			{Name: "removed", Type: action.StringList, Doc: "the blocks removed, as acl-…:rule:cidr"},
			{Name: "next_expiry", Type: action.String, Doc: "the earliest expiry of the blocks left, RFC 3339 UTC; empty when none"},
		},
		IAM:         []string{"ec2:DeleteNetworkAclEntry", "ec2:DeleteTags", "ec2:DescribeNetworkAcls"},
		Idempotency: action.Idempotent,
	}
}

func (a UnblockExpired) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

type expiry struct {
	action.Plan
	removed []string
	next    time.Time
}

func (a UnblockExpired) planExpiry(ctx context.Context, call action.Call) (*expiry, error) {
	if acct := call.Params.Str("account_id"); acct != call.Target.Account {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter account_id %s is not the target account %s", unblockID, acct, call.Target.Account))
	}
	api, err := client(ctx, unblockID, call)
	if err != nil {
		return nil, err
	}
	in := &awsec2.DescribeNetworkAclsInput{}
	if vpc := call.Params.Str("vpc_id"); vpc != "" {
		in.Filters = []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
	}
	ex := &expiry{}
	now := a.now()
	ex.Read("ec2:DescribeNetworkAcls", call.Params.Str("vpc_id"), "")
	p := awsec2.NewDescribeNetworkAclsPaginator(api, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: network ACLs: %w", unblockID, err)
		}
		for _, n := range sortedACLs(out.NetworkAcls) {
			acl := readACL(n)
			for _, e := range acl.badTags {
				call.Log().WarnContext(ctx, "block tag ignored", "error", e)
			}
			rules := make([]int32, 0, len(acl.blocks))
			for r := range acl.blocks {
				rules = append(rules, r)
			}
			slices.Sort(rules)
			for _, r := range rules {
				b := acl.blocks[r]
				if b.expires.After(now) {
					if ex.next.IsZero() || b.expires.Before(ex.next) {
						ex.next = b.expires
					}
					continue
				}
				ex.removed = append(ex.removed, acl.id+":"+strconv.Itoa(int(r))+":"+b.cidr)
				ex.Write("ec2:DeleteNetworkAclEntry", acl.id, fmt.Sprintf("rule %d (%s, expired %s), both directions", r, b.cidr, b.expires.Format(time.RFC3339)), func(ctx context.Context) error {
					if err := unblock(ctx, api, acl, b); err != nil {
						return fmt.Errorf("%s: %w", unblockID, err)
					}
					call.Log().InfoContext(ctx, "expired block removed", "acl", acl.id, "rule", b.rule, "cidr", b.cidr)
					return nil
				})
			}
		}
	}
	return ex, nil
}

// Check reports the calls Do would make, changing nothing.
func (a UnblockExpired) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	ex, err := a.planExpiry(ctx, call)
	if err != nil {
		return nil, err
	}
	return ex.Calls(), nil
}

// Do removes the expired blocks.
func (a UnblockExpired) Do(ctx context.Context, call action.Call) (action.Values, error) {
	ex, err := a.planExpiry(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := ex.Apply(ctx, call); err != nil {
		return nil, err
	}
	next := ""
	if !ex.next.IsZero() {
		next = ex.next.Format(time.RFC3339)
	}
	return action.Values{"removed": action.ListValue(ex.removed), "next_expiry": action.StringValue(next)}, nil
}
