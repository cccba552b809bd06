package vpc

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
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
		Doc: "Adds a deny entry for the address (all protocols; an IPv4 address as /32 in CidrBlock, an IPv6 one as /128 " +
			"in Ipv6CidrBlock) in both directions of the network ACL of each subnet given, or of the instance's subnet, at " +
			"one rule number free in both directions within the reserved range, and records the block in the ACL's tag " +
			BlockTagPrefix + "<rule> (range, creation, expiry). A network ACL holds 20 rules per direction by default, " +
			"IPv4 and IPv6 entries and the default deny rules (32767, 32768) counted together, and IPv4 and IPv6 entries " +
			"share the rule numbers: when the range or the quota is full, the oldest Firebreak block in the range is " +
			"recycled. An address already blocked keeps its rule and its expiry moves later, never earlier. " +
			"With prefix_list_id the address is also (or, without instance_id and subnet_ids, only) added to that " +
			"customer-managed prefix list, with the description \"firebreak:block until <expiry> since <creation> incident " +
			"<id>\", by ModifyManagedPrefixList at the version read (a concurrent change reads again). Network ACLs cannot " +
			"reference a prefix list: the list serves rules that can, such as an AWS Network Firewall rule group or a " +
			"security group the operator points at it. When the list is at MaxEntries the oldest Firebreak entry is " +
			"recycled; entries Firebreak did not add are never removed. aws.vpc.unblock_expired removes blocks whose " +
			"expiry has passed; Revert removes this block now.",
		Risk: action.Reversible,
		Params: []action.Param{
			{Name: "ip", Type: action.IP, Required: true, Target: action.TargetIP, Doc: "the address to block"},
			{Name: "instance_id", Type: action.InstanceID, Doc: "block on the network ACL of this instance's subnet"},
			{Name: "subnet_ids", Type: action.StringList, Doc: "block on the network ACLs of these subnets (with or instead of instance_id)"},
			{Name: "ttl", Type: action.Duration, Default: action.DurationValue(24 * time.Hour), Doc: "how long the block lasts"},
			{Name: "rule_min", Type: action.Int, Default: action.IntValue(BlockRuleMin), Doc: "the lowest NACL rule number Firebreak may use for blocks"},
			{Name: "rule_max", Type: action.Int, Default: action.IntValue(BlockRuleMax), Doc: "the highest NACL rule number Firebreak may use for blocks"},
			{Name: "quota", Type: action.Int, Default: action.IntValue(Quota), Doc: "the account's rules-per-direction quota of a network ACL (IPv4, IPv6 and default deny rules together)"},
			{Name: "prefix_list_id", Type: action.String, Doc: "also block in this customer-managed prefix list (pl-…); alone, block only there"},
		},
		Outputs: []action.Field{
			{Name: "cidr", Type: action.String, Doc: "the blocked range, the address as /32 (IPv4) or /128 (IPv6)"},
			{Name: "entries", Type: action.StringList, Doc: "the blocks, as acl-…:rule (one rule number, both directions)"},
			{Name: "expires_at", Type: action.String, Doc: "when aws.vpc.unblock_expired may remove the block, RFC 3339 UTC"},
			{Name: "ttl", Type: action.Duration, Doc: "the block's time to live, from this run"},
			{Name: "prefix_list_id", Type: action.String, Doc: "the prefix list holding the block; empty when none was given"},
			{Name: "recycled", Type: action.StringList, Doc: "older blocks replaced to make room, as acl-…:rule:cidr or pl-…:cidr"},
			{Name: "changed", Type: action.Bool, Doc: "false when the address was already blocked until at least the expiry"},
		},
		IAM: []string{
			"ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DescribeInstances", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
			"ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList", "ec2:ReplaceNetworkAclEntry",
		},
		RevertIAM: []string{
			"ec2:DeleteNetworkAclEntry", "ec2:DeleteTags", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
			"ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList",
		},
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
	cidr       string
	expires    time.Time
	entries    []string
	recycled   []string
	prefixList string
}

// cidrOf turns an address into its one-address range: /32 for IPv4 (an
// IPv4-mapped IPv6 address counts as IPv4), /128 for IPv6.
func cidrOf(ip string) (string, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", action.Mark(action.Permanent, fmt.Errorf("%s: parameter ip %q: %w", blockID, ip, err))
	}
	if addr.Zone() != "" {
		return "", action.Mark(action.Permanent, fmt.Errorf("%s: parameter ip %q: an address with a zone is link-local, not an attacker's", blockID, ip))
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()).String(), nil
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
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: no subnet to block on: give instance_id (of an instance in a VPC), subnet_ids or prefix_list_id", blockID))
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
	plID := call.Params.Str("prefix_list_id")
	if plID != "" {
		if err := validPrefixListID(plID, blockID+": parameter prefix_list_id"); err != nil {
			return nil, err
		}
	}
	api, err := client(ctx, blockID, call)
	if err != nil {
		return nil, err
	}
	now := a.now().Truncate(time.Second)
	bl := &blocking{cidr: cidr, expires: now.Add(ttl), prefixList: plID}
	if plID != "" {
		if err := bl.planPrefixList(ctx, api, call, now); err != nil {
			return nil, err
		}
		if call.Params.Str("instance_id") == "" && len(call.Params.List("subnet_ids")) == 0 {
			return bl, nil
		}
	}
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

	// A free rule number, within the quota in both directions (the quota
	// counts IPv4, IPv6 and default deny entries alike).
	room := a.count[0] < quota && a.count[1] < quota
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
				blockID, a.id, a.count[0], a.count[1], quota, lo, hi))
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
		"cidr":           action.StringValue(bl.cidr),
		"entries":        action.ListValue(bl.entries),
		"expires_at":     action.StringValue(bl.expires.Format(time.RFC3339)),
		"ttl":            action.DurationValue(call.Params.Duration("ttl")),
		"recycled":       action.ListValue(bl.recycled),
		"prefix_list_id": action.StringValue(bl.prefixList),
		"changed":        action.BoolValue(bl.HasWrites() && !call.DryRun),
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
	if id := done.Str("prefix_list_id"); id != "" {
		err := modifyPrefixList(ctx, api, id, func(pl prefixList) (plChange, error) {
			if _, ours := pl.blocks[cidr]; ours {
				return plChange{remove: []string{cidr}}, nil
			}
			return plChange{}, nil // gone, or not Firebreak's
		}, func(plChange) {})
		if err != nil {
			return fmt.Errorf("%s: revert: %w", blockID, err)
		}
	}
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
			if _, err := unblock(ctx, api, a, block{rule: rule, cidr: cidr}); err != nil {
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
		Summary: "Remove the IP blocks whose expiry has passed from the network ACLs and prefix lists of a region",
		Doc: "Reads the " + BlockTagPrefix + "<rule> tags of every network ACL in the target region (or one VPC) and deletes " +
			"the entries (IPv4 or IPv6) and tag of each block whose expiry is not after now, reading the ACL again just " +
			"before so that a block renewed or recycled since is left. Then, in the prefix lists given and every prefix " +
			"list tagged " + BlocklistTagKey + "=true, removes the entries whose \"firebreak:block until …\" description has " +
			"expired, by ModifyManagedPrefixList at the version read (a concurrent change reads again); entries " +
			"Firebreak did not add are never touched. Safe to run from several processes at once: what one removed, " +
			"the other finds gone. `firebreak serve` runs it every 5 minutes where the ledger records expired blocks " +
			"(docs/sweep.md); a playbook on a scheduled EventBridge event can run it too.",
		Risk: action.Destructive,
		Params: []action.Param{
			{Name: "account_id", Type: action.AccountID, Required: true, Target: action.TargetAccount, Doc: "the account whose blocks to expire; must be the call's target account"},
			{Name: "vpc_id", Type: action.String, Doc: "only this VPC's network ACLs; every VPC when not given"},
			{Name: "prefix_list_ids", Type: action.StringList, Doc: "prefix lists to sweep besides those tagged " + BlocklistTagKey + "=true"},
		},
		Outputs: []action.Field{
			{Name: "removed", Type: action.StringList, Doc: "the blocks this run removed (would remove, in a dry run), as acl-…:rule:cidr or pl-…:cidr"},
			{Name: "next_expiry", Type: action.String, Doc: "the earliest expiry of the blocks left, RFC 3339 UTC; empty when none"},
		},
		IAM: []string{
			"ec2:DeleteNetworkAclEntry", "ec2:DeleteTags", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
			"ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList",
		},
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
	planned []string // what the plan removes
	mu      sync.Mutex
	removed []string // what Apply removed
	next    time.Time
}

func (ex *expiry) done(what string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.removed = append(ex.removed, what)
}

func (ex *expiry) later(t time.Time) {
	if ex.next.IsZero() || t.Before(ex.next) {
		ex.next = t
	}
}

func (a UnblockExpired) planExpiry(ctx context.Context, call action.Call) (*expiry, error) {
	if acct := call.Params.Str("account_id"); acct != call.Target.Account {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter account_id %s is not the target account %s", unblockID, acct, call.Target.Account))
	}
	lists := slices.Clone(call.Params.List("prefix_list_ids"))
	for i, id := range lists {
		if err := validPrefixListID(id, fmt.Sprintf("%s: parameter prefix_list_ids[%d]", unblockID, i)); err != nil {
			return nil, err
		}
	}
	api, err := client(ctx, unblockID, call)
	if err != nil {
		return nil, err
	}
	ex := &expiry{}
	now := a.now()
	if err := ex.planACLs(ctx, api, call, now); err != nil {
		return nil, err
	}

	ex.Read("ec2:DescribeManagedPrefixLists", "", "tag:"+BlocklistTagKey+"=true")
	p := awsec2.NewDescribeManagedPrefixListsPaginator(api, &awsec2.DescribeManagedPrefixListsInput{
		Filters: []types.Filter{{Name: aws.String("tag:" + BlocklistTagKey), Values: []string{"true"}}},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: prefix lists tagged %s: %w", unblockID, BlocklistTagKey, err)
		}
		for _, pl := range out.PrefixLists {
			lists = append(lists, aws.ToString(pl.PrefixListId))
		}
	}
	slices.Sort(lists)
	for _, id := range slices.Compact(lists) {
		if err := ex.planPrefixList(ctx, api, call, id, now); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

// planACLs plans the removal of the expired blocks of the region's
// network ACLs (or one VPC's).
func (ex *expiry) planACLs(ctx context.Context, api API, call action.Call, now time.Time) error {
	in := &awsec2.DescribeNetworkAclsInput{}
	if vpc := call.Params.Str("vpc_id"); vpc != "" {
		in.Filters = []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
	}
	ex.Read("ec2:DescribeNetworkAcls", call.Params.Str("vpc_id"), "")
	p := awsec2.NewDescribeNetworkAclsPaginator(api, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("%s: network ACLs: %w", unblockID, err)
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
					ex.later(b.expires)
					continue
				}
				what := acl.id + ":" + strconv.Itoa(int(r)) + ":" + b.cidr
				ex.planned = append(ex.planned, what)
				ex.Write("ec2:DeleteNetworkAclEntry", acl.id, fmt.Sprintf("rule %d (%s, expired %s), both directions", r, b.cidr, b.expires.Format(time.RFC3339)), func(ctx context.Context) error {
					removed, err := unblockIfUnchanged(ctx, api, acl.id, b)
					if err != nil {
						return fmt.Errorf("%s: %w", unblockID, err)
					}
					if removed {
						ex.done(what)
						call.Log().InfoContext(ctx, "expired block removed", "acl", acl.id, "rule", b.rule, "cidr", b.cidr, "expired", b.expires)
					}
					return nil
				})
			}
		}
	}
	return nil
}

// unblockIfUnchanged reads the ACL again and removes the block if its tag
// still records it: since the plan, another process may have removed it,
// or a run renewed or recycled its rule number. removed says whether this
// call deleted an entry.
func unblockIfUnchanged(ctx context.Context, api API, aclID string, b block) (removed bool, err error) {
	out, err := api.DescribeNetworkAcls(ctx, &awsec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aclID}})
	if action.ErrorCode(err) == "InvalidNetworkAclID.NotFound" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("network ACL %s: %w", aclID, err)
	}
	if len(out.NetworkAcls) != 1 {
		return false, nil
	}
	a := readACL(out.NetworkAcls[0])
	cur, ok := a.blocks[b.rule]
	if !ok || cur.cidr != b.cidr || !cur.created.Equal(b.created) || !cur.expires.Equal(b.expires) {
		return false, nil
	}
	return unblock(ctx, api, a, b)
}

// planPrefixList plans the removal of the expired Firebreak entries of
// one prefix list.
func (ex *expiry) planPrefixList(ctx context.Context, api API, call action.Call, id string, now time.Time) error {
	ex.Read("ec2:GetManagedPrefixListEntries", id, "")
	pl, err := readPrefixList(ctx, api, id)
	if action.ErrorCode(err) == "InvalidPrefixListID.NotFound" {
		// Deleted, and its blocks with it: a sweep must not stall on it.
		call.Log().WarnContext(ctx, "prefix list gone; nothing to expire there", "prefix_list", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", unblockID, err)
	}
	for _, e := range pl.badDescs {
		call.Log().WarnContext(ctx, "prefix-list entry ignored", "error", e)
	}
	expired := func(pl prefixList) (plChange, error) {
		var c plChange
		for cidr, b := range pl.blocks {
			if !b.expires.After(now) {
				c.remove = append(c.remove, cidr)
			}
		}
		slices.Sort(c.remove)
		return c, nil
	}
	first, _ := expired(pl)
	for _, b := range pl.blocks {
		if b.expires.After(now) {
			ex.later(b.expires)
		}
	}
	if first.empty() {
		return nil
	}
	for _, cidr := range first.remove {
		ex.planned = append(ex.planned, id+":"+cidr)
	}
	ex.Write("ec2:ModifyManagedPrefixList", id, first.String()+" (expired)", func(ctx context.Context) error {
		err := modifyPrefixList(ctx, api, id, expired, func(c plChange) {
			for _, cidr := range c.remove {
				ex.done(id + ":" + cidr)
				call.Log().InfoContext(ctx, "expired prefix-list block removed", "prefix_list", id, "cidr", cidr)
			}
		})
		if err != nil {
			return fmt.Errorf("%s: %w", unblockID, err)
		}
		return nil
	})
	return nil
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
	removed := ex.removed
	if call.DryRun {
		removed = ex.planned
	}
	next := ""
	if !ex.next.IsZero() {
		next = ex.next.Format(time.RFC3339)
	}
	return action.Values{"removed": action.ListValue(removed), "next_expiry": action.StringValue(next)}, nil
}
