package ec2

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// IsolateInstance cuts an instance off the network
// (aws.ec2.isolate_instance).
type IsolateInstance struct{}

var (
	_ action.Action   = IsolateInstance{}
	_ action.Checker  = IsolateInstance{}
	_ action.Reverter = IsolateInstance{}
)

const isolateID = "aws.ec2.isolate_instance"

// The tags isolation writes. OriginalGroupsTag, on each network interface,
// holds the groups it had before the swap, so that a retried step and
// Revert know them even when the first run's output was lost.
const (
	OriginalGroupsTag = "firebreak:original-groups"
	PurposeTag        = "firebreak:purpose"
	quarantinePurpose = "quarantine"
)

// The NACL rule numbers isolation uses unless told otherwise: below every
// usual allow rule (100) and apart from aws.vpc.block_ip's 1–19.
const (
	IsolateRuleMin = 20
	IsolateRuleMax = 39
)

// Meta describes aws.ec2.isolate_instance.
func (IsolateInstance) Meta() action.Meta {
	return action.Meta{
		ID:      isolateID,
		Summary: "Isolate an EC2 instance: quarantine security group on every interface and NACL deny entries",
		Doc: "Replaces the security groups of every network interface of the instance with the VPC's quarantine group " +
			"(created when missing: no egress, no ingress but the optional forensic CIDR on port 22, tagged " + PurposeTag +
			"=" + quarantinePurpose + "), remembering the original groups in the output and in the interface's tag " +
			OriginalGroupsTag + ". Because a security-group swap keeps connections already tracked, it also adds NACL deny " +
			"entries (all protocols, ingress and egress) for each private address of the instance on every network ACL " +
			"associated with a subnet of its VPC, at free rule numbers in the reserved range: traffic between the instance " +
			"and other subnets stops at once, established or not. Connections to the internet are cut by blocking the peer " +
			"addresses on the instance's subnet with aws.vpc.block_ip. Running it again finds the group, the swapped " +
			"interfaces and the entries and changes nothing. Revert restores the original groups and deletes the entries; " +
			"the quarantine group stays for the next incident.",
		Risk: action.Reversible,
		Params: []action.Param{
			instanceParam,
			{Name: "quarantine_group", Type: action.String, Default: action.StringValue("firebreak-quarantine"), Doc: "the name of the quarantine security group in the instance's VPC"},
			{Name: "forensic_cidr", Type: action.CIDR, Doc: "a forensic workstation's range allowed to reach the instance on TCP 22; none when not given"},
			{Name: "nacl_rule_min", Type: action.Int, Default: action.IntValue(IsolateRuleMin), Doc: "the lowest NACL rule number Firebreak may use for isolation"},
			{Name: "nacl_rule_max", Type: action.Int, Default: action.IntValue(IsolateRuleMax), Doc: "the highest NACL rule number Firebreak may use for isolation"},
		},
		Outputs: []action.Field{
			{Name: "quarantine_group_id", Type: action.String, Doc: "the id of the quarantine security group"},
			{Name: "original_groups", Type: action.StringList, Doc: "each interface's groups before isolation, as eni-…=sg-a,sg-b"},
			{Name: "nacl_entries", Type: action.StringList, Doc: "the NACL deny entries isolation relies on, as acl-…:ingress|egress:rule:cidr"},
			{Name: "changed", Type: action.Bool, Doc: "false when the instance was already isolated and nothing was written"},
		},
		IAM: []string{
			"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateNetworkAclEntry", "ec2:CreateSecurityGroup", "ec2:CreateTags",
			"ec2:DescribeInstances", "ec2:DescribeNetworkAcls", "ec2:DescribeSecurityGroups", "ec2:DescribeTags",
			"ec2:ModifyNetworkInterfaceAttribute", "ec2:RevokeSecurityGroupEgress",
		},
		RevertIAM:   []string{"ec2:DeleteNetworkAclEntry", "ec2:DeleteTags", "ec2:DescribeInstances", "ec2:DescribeTags", "ec2:ModifyNetworkInterfaceAttribute"},
		Idempotency: action.Idempotent,
	}
}

// isolation is an isolate plan and the outputs it will have once applied.
type isolation struct {
	action.Plan
	group     string // set once the group exists (after apply, for a new one)
	originals []string
	entries   []string
}

func (IsolateInstance) planIsolation(ctx context.Context, call action.Call) (*isolation, error) {
	id := call.Params.Str("instance_id")
	lo, hi := call.Params.Int("nacl_rule_min"), call.Params.Int("nacl_rule_max")
	if lo < 1 || hi > 32766 || lo > hi {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: nacl rule range %d–%d: want 1 ≤ min ≤ max ≤ 32766", isolateID, lo, hi))
	}
	api, err := client(ctx, isolateID, call)
	if err != nil {
		return nil, err
	}
	is := &isolation{}
	is.Read("ec2:DescribeInstances", id, "")
	inst, err := describe(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", isolateID, err)
	}
	vpc := aws.ToString(inst.VpcId)
	if vpc == "" || len(inst.NetworkInterfaces) == 0 {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: instance %s has no VPC network interface (state %s)", isolateID, id, inst.State.Name))
	}
	if err := is.planGroup(ctx, api, call, vpc); err != nil {
		return nil, err
	}
	if err := is.planInterfaces(ctx, api, call, inst); err != nil {
		return nil, err
	}
	if err := is.planNACLs(ctx, api, vpc, privateIPs(inst), lo, hi); err != nil {
		return nil, err
	}
	return is, nil
}

// planGroup finds the quarantine group of vpc, or plans to create it, and
// plans to bring its rules to none but the forensic ingress.
func (is *isolation) planGroup(ctx context.Context, api API, call action.Call, vpc string) error {
	name := call.Params.Str("quarantine_group")
	forensic := call.Params.Str("forensic_cidr")
	is.Read("ec2:DescribeSecurityGroups", vpc, "group-name="+name)
	out, err := api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
		{Name: aws.String("group-name"), Values: []string{name}},
	}})
	if err != nil {
		return fmt.Errorf("%s: find quarantine group %s in %s: %w", isolateID, name, vpc, err)
	}
	var egress, ingress []types.IpPermission
	if len(out.SecurityGroups) > 0 {
		g := out.SecurityGroups[0]
		is.group = aws.ToString(g.GroupId)
		egress, ingress = g.IpPermissionsEgress, g.IpPermissions
	} else {
		egress = []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
		tags := []types.Tag{{Key: aws.String(PurposeTag), Value: aws.String(quarantinePurpose)}}
		if call.Key.Incident != "" {
			tags = append(tags, types.Tag{Key: aws.String(incidentTag), Value: aws.String(call.Key.Incident)})
		}
		is.Write("ec2:CreateSecurityGroup", vpc, "GroupName="+name+" (no rules, tagged "+PurposeTag+"="+quarantinePurpose+")", func(ctx context.Context) error {
			out, err := api.CreateSecurityGroup(ctx, &awsec2.CreateSecurityGroupInput{
				GroupName: aws.String(name), VpcId: aws.String(vpc),
				Description:       aws.String("Firebreak quarantine: no traffic but forensic access"),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: tags}},
			})
			if action.ErrorCode(err) == "InvalidGroup.Duplicate" {
				return action.Mark(action.Retry, fmt.Errorf("%s: quarantine group %s in %s was created meanwhile: %w", isolateID, name, vpc, err))
			}
			if err != nil {
				return fmt.Errorf("%s: create quarantine group %s in %s: %w", isolateID, name, vpc, err)
			}
			is.group = aws.ToString(out.GroupId)
			call.Log().InfoContext(ctx, "quarantine group created", "group", is.group, "vpc", vpc)
			return nil
		})
	}
	ref := is.group
	if ref == "" {
		ref = name
	}
	if len(egress) > 0 {
		is.Write("ec2:RevokeSecurityGroupEgress", ref, "every egress rule", func(ctx context.Context) error {
			_, err := api.RevokeSecurityGroupEgress(ctx, &awsec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(is.group), IpPermissions: egress})
			if err != nil && action.ErrorCode(err) == "InvalidPermission.NotFound" {
				// Another isolation in the VPC revoked them first: done
				// if none is left, else plan again.
				out, derr := api.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{is.group}})
				if derr == nil && len(out.SecurityGroups) == 1 && len(out.SecurityGroups[0].IpPermissionsEgress) == 0 {
					return nil
				}
				return action.Mark(action.Retry, fmt.Errorf("%s: revoke egress of %s: rules changed meanwhile: %w", isolateID, is.group, err))
			}
			if err != nil {
				return fmt.Errorf("%s: revoke egress of %s: %w", isolateID, is.group, err)
			}
			return nil
		})
	}
	// Any ingress but the forensic rule is removed; the forensic rule is added once.
	var extra []types.IpPermission
	hasForensic := false
	for _, p := range ingress {
		if forensic != "" && isForensic(p, forensic) {
			hasForensic = true
			continue
		}
		extra = append(extra, p)
	}
	if len(extra) > 0 {
		return action.Mark(action.Permanent, fmt.Errorf("%s: quarantine group %s (%s) allows ingress Firebreak did not add; "+
			"remove those rules or name another group with quarantine_group", isolateID, name, is.group))
	}
	if forensic != "" && !hasForensic {
		perm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []types.IpRange{{CidrIp: aws.String(forensic), Description: aws.String("Firebreak forensic access")}}}
		is.Write("ec2:AuthorizeSecurityGroupIngress", ref, "tcp/22 from "+forensic, func(ctx context.Context) error {
			_, err := api.AuthorizeSecurityGroupIngress(ctx, &awsec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(is.group), IpPermissions: []types.IpPermission{perm}})
			if err != nil && action.ErrorCode(err) != "InvalidPermission.Duplicate" {
				return fmt.Errorf("%s: allow forensic access to %s: %w", isolateID, is.group, err)
			}
			return nil
		})
	}
	return nil
}

func isForensic(p types.IpPermission, cidr string) bool {
	return aws.ToString(p.IpProtocol) == "tcp" && aws.ToInt32(p.FromPort) == 22 && aws.ToInt32(p.ToPort) == 22 &&
		len(p.IpRanges) == 1 && aws.ToString(p.IpRanges[0].CidrIp) == cidr && len(p.UserIdGroupPairs) == 0 &&
		len(p.Ipv6Ranges) == 0 && len(p.PrefixListIds) == 0
}

// planInterfaces plans the group swap on every interface not yet swapped,
// tagging each with its original groups first.
func (is *isolation) planInterfaces(ctx context.Context, api API, call action.Call, inst types.Instance) error {
	enis := slices.Clone(inst.NetworkInterfaces)
	slices.SortFunc(enis, func(a, b types.InstanceNetworkInterface) int {
		return strings.Compare(aws.ToString(a.NetworkInterfaceId), aws.ToString(b.NetworkInterfaceId))
	})
	for _, n := range enis {
		eni := aws.ToString(n.NetworkInterfaceId)
		groups := groupIDs(n.Groups)
		if is.group != "" && slices.Equal(groups, []string{is.group}) {
			is.Read("ec2:DescribeTags", eni, "key="+OriginalGroupsTag)
			orig, err := originalGroups(ctx, api, eni)
			if err != nil {
				return fmt.Errorf("%s: %w", isolateID, err)
			}
			if orig == "" {
				call.Log().WarnContext(ctx, "interface already quarantined, its original groups are unknown", "eni", eni)
			}
			is.originals = append(is.originals, eni+"="+orig)
			continue
		}
		orig := strings.Join(groups, ",")
		is.originals = append(is.originals, eni+"="+orig)
		is.Write("ec2:CreateTags", eni, OriginalGroupsTag+"="+orig, func(ctx context.Context) error {
			_, err := api.CreateTags(ctx, &awsec2.CreateTagsInput{Resources: []string{eni}, Tags: []types.Tag{{Key: aws.String(OriginalGroupsTag), Value: aws.String(orig)}}})
			if err != nil {
				return fmt.Errorf("%s: remember the groups of %s: %w", isolateID, eni, err)
			}
			return nil
		})
		to := is.group
		if to == "" {
			to = call.Params.Str("quarantine_group")
		}
		is.Write("ec2:ModifyNetworkInterfaceAttribute", eni, "Groups="+to+" (was "+orig+")", func(ctx context.Context) error {
			_, err := api.ModifyNetworkInterfaceAttribute(ctx, &awsec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: []string{is.group}})
			if err != nil {
				return fmt.Errorf("%s: swap the groups of %s: %w", isolateID, eni, err)
			}
			call.Log().InfoContext(ctx, "interface quarantined", "eni", eni, "group", is.group, "was", orig)
			return nil
		})
	}
	return nil
}

// originalGroups reads the groups eni had before isolation from its tag.
func originalGroups(ctx context.Context, api API, eni string) (string, error) {
	out, err := api.DescribeTags(ctx, &awsec2.DescribeTagsInput{Filters: []types.Filter{
		{Name: aws.String("resource-id"), Values: []string{eni}},
		{Name: aws.String("key"), Values: []string{OriginalGroupsTag}},
	}})
	if err != nil {
		return "", fmt.Errorf("read tag %s of %s: %w", OriginalGroupsTag, eni, err)
	}
	for _, t := range out.Tags {
		return aws.ToString(t.Value), nil
	}
	return "", nil
}

// planNACLs plans deny entries for each address on every network ACL of
// the VPC that a subnet uses.
func (is *isolation) planNACLs(ctx context.Context, api API, vpc string, ips []string, lo, hi int64) error {
	is.Read("ec2:DescribeNetworkAcls", vpc, "")
	out, err := api.DescribeNetworkAcls(ctx, &awsec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil {
		return fmt.Errorf("%s: network ACLs of %s: %w", isolateID, vpc, err)
	}
	acls := out.NetworkAcls
	slices.SortFunc(acls, func(a, b types.NetworkAcl) int {
		return strings.Compare(aws.ToString(a.NetworkAclId), aws.ToString(b.NetworkAclId))
	})
	for _, acl := range acls {
		if len(acl.Associations) == 0 {
			continue
		}
		id := aws.ToString(acl.NetworkAclId)
		for _, egress := range []bool{false, true} {
			used := map[int32]bool{}
			have := map[string]int32{}
			for _, e := range acl.Entries {
				if aws.ToBool(e.Egress) != egress {
					continue
				}
				n := aws.ToInt32(e.RuleNumber)
				used[n] = true
				if int64(n) >= lo && int64(n) <= hi && e.RuleAction == types.RuleActionDeny && aws.ToString(e.Protocol) == "-1" {
					have[aws.ToString(e.CidrBlock)] = n
				}
			}
			next := ruleNumber(lo)
			for _, ip := range ips {
				cidr := ip + "/32"
				if n, ok := have[cidr]; ok {
					is.entries = append(is.entries, entryRef(id, egress, n, cidr))
					continue
				}
				for used[next] && int64(next) <= hi {
					next++
				}
				if int64(next) > hi {
					return action.Mark(action.Permanent, fmt.Errorf("%s: network ACL %s has no free %s rule number in %d–%d for %s; widen nacl_rule_min/max",
						isolateID, id, direction(egress), lo, hi, cidr))
				}
				n := next
				used[n] = true
				is.entries = append(is.entries, entryRef(id, egress, n, cidr))
				is.Write("ec2:CreateNetworkAclEntry", id, fmt.Sprintf("%s rule %d deny all %s", direction(egress), n, cidr), func(ctx context.Context) error {
					_, err := api.CreateNetworkAclEntry(ctx, &awsec2.CreateNetworkAclEntryInput{
						NetworkAclId: aws.String(id), RuleNumber: aws.Int32(n), Egress: aws.Bool(egress),
						Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String(cidr),
					})
					if err != nil {
						err = fmt.Errorf("%s: deny %s on %s (%s rule %d): %w", isolateID, cidr, id, direction(egress), n, err)
						if action.ErrorCode(err) == "NetworkAclEntryAlreadyExists" {
							// A concurrent isolation took the rule number since
							// this one planned: the retried step plans again and
							// takes a free one.
							return action.Mark(action.Retry, err)
						}
						return err
					}
					return nil
				})
			}
		}
	}
	return nil
}

// ruleNumber converts a rule number the caller checked to be 1–32766
// (clamped to that range all the same).
func ruleNumber(n int64) int32 { return int32(min(max(n, 1), 32766)) }

func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

// entryRef names one NACL entry: acl-…:ingress:21:10.0.1.5/32.
func entryRef(acl string, egress bool, n int32, cidr string) string {
	return acl + ":" + direction(egress) + ":" + strconv.Itoa(int(n)) + ":" + cidr
}

// parseEntryRef reads an entryRef back.
func parseEntryRef(s string) (acl string, egress bool, n int32, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "acl-") || (parts[1] != "ingress" && parts[1] != "egress") {
		return "", false, 0, fmt.Errorf("NACL entry %q: want acl-…:ingress|egress:rule:cidr", s)
	}
	num, err := strconv.ParseInt(parts[2], 10, 32)
	if err != nil || num < 1 || num > 32766 || strconv.FormatInt(num, 10) != parts[2] {
		return "", false, 0, fmt.Errorf("NACL entry %q: rule number %q is not 1–32766", s, parts[2])
	}
	return parts[0], parts[1] == "egress", int32(num), nil
}

// Check reports the calls Do would make, changing nothing.
func (a IsolateInstance) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	is, err := a.planIsolation(ctx, call)
	if err != nil {
		return nil, err
	}
	return is.Calls(), nil
}

// Do isolates the instance.
func (a IsolateInstance) Do(ctx context.Context, call action.Call) (action.Values, error) {
	is, err := a.planIsolation(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := is.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{
		"quarantine_group_id": action.StringValue(is.group),
		"original_groups":     action.ListValue(is.originals),
		"nacl_entries":        action.ListValue(is.entries),
		"changed":             action.BoolValue(is.HasWrites() && !call.DryRun),
	}, nil
}

// Revert gives every interface its original groups back and deletes the
// NACL entries. Interfaces no longer in the quarantine group are left as
// they are (someone changed them since), and entries already gone are
// fine.
func (IsolateInstance) Revert(ctx context.Context, call action.Call, done action.Values) error {
	api, err := client(ctx, isolateID, call)
	if err != nil {
		return err
	}
	id := call.Params.Str("instance_id")
	inst, err := describe(ctx, api, id)
	if err != nil {
		return fmt.Errorf("%s: revert: %w", isolateID, err)
	}
	quarantine := done.Str("quarantine_group_id")
	current := map[string][]string{}
	for _, n := range inst.NetworkInterfaces {
		current[aws.ToString(n.NetworkInterfaceId)] = groupIDs(n.Groups)
	}
	for _, o := range done.List("original_groups") {
		eni, groups, ok := strings.Cut(o, "=")
		if !ok {
			return action.Mark(action.Permanent, fmt.Errorf("%s: revert: original_groups entry %q: want eni-…=sg-a,sg-b", isolateID, o))
		}
		if groups == "" {
			if groups, err = originalGroups(ctx, api, eni); err != nil {
				return fmt.Errorf("%s: revert: %w", isolateID, err)
			}
		}
		if cur, ok := current[eni]; !ok || !slices.Equal(cur, []string{quarantine}) || groups == "" {
			call.Log().WarnContext(ctx, "interface left as it is: not in the quarantine group or its groups unknown", "eni", eni)
			continue
		}
		if _, err := api.ModifyNetworkInterfaceAttribute(ctx, &awsec2.ModifyNetworkInterfaceAttributeInput{
			NetworkInterfaceId: aws.String(eni), Groups: strings.Split(groups, ","),
		}); err != nil {
			return fmt.Errorf("%s: revert: restore the groups of %s: %w", isolateID, eni, err)
		}
		if _, err := api.DeleteTags(ctx, &awsec2.DeleteTagsInput{Resources: []string{eni}, Tags: []types.Tag{{Key: aws.String(OriginalGroupsTag)}}}); err != nil {
			return fmt.Errorf("%s: revert: untag %s: %w", isolateID, eni, err)
		}
		call.Log().InfoContext(ctx, "interface groups restored", "eni", eni, "groups", groups)
	}
	for _, ref := range done.List("nacl_entries") {
		acl, egress, n, err := parseEntryRef(ref)
		if err != nil {
			return action.Mark(action.Permanent, fmt.Errorf("%s: revert: %w", isolateID, err))
		}
		_, err = api.DeleteNetworkAclEntry(ctx, &awsec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(acl), Egress: aws.Bool(egress), RuleNumber: aws.Int32(n)})
		if err != nil && action.ErrorCode(err) != "InvalidNetworkAclEntry.NotFound" {
			return fmt.Errorf("%s: revert: delete %s: %w", isolateID, ref, err)
		}
	}
	return nil
}
