package sandbox

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// VPCs and subnets.

func ec2Prefix(cidr, param string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return netip.Prefix{}, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", cidr, param)
	}
	return p, nil
}

func (c *ec2Call) vpc(id string) (*ec2VPC, error) {
	v := c.r.vpcs[id]
	if v == nil {
		return nil, ec2Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	}
	return v, nil
}

func (r *ec2Region) vpcNode(v *ec2VPC, name string) *xnNode {
	return xnEl(name, xnText("vpcId", v.ID), xnText("ownerId", r.account), xnText("state", "available"),
		xnText("cidrBlock", v.CIDR), xnText("instanceTenancy", "default"), xnBool("isDefault", v.IsDefault), r.tagSet(v.ID))
}

func (c *ec2Call) createVPC() ([]*xnNode, error) {
	cidr, err := c.p.required("CidrBlock")
	if err != nil {
		return nil, err
	}
	p, err := ec2Prefix(cidr, "cidrBlock")
	if err != nil {
		return nil, err
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		return nil, ec2Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr)
	}
	tags, err := c.p.tagSpecs("vpc")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	v := c.s.newVPC(c.r, cidr, false)
	c.r.setTags(v.ID, tags["vpc"])
	c.touched(v.ID)
	return []*xnNode{c.r.vpcNode(v, "vpc")}, nil
}

func (c *ec2Call) describeVPCs() ([]*xnNode, error) {
	want := c.p.list("VpcId")
	for _, id := range want {
		if _, err := c.vpc(id); err != nil {
			return nil, err
		}
	}
	filters := c.p.filters()
	var items []*xnNode
	for _, id := range ec2Sorted(c.r.vpcs) {
		v := c.r.vpcs[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{v.ID}, true
			case "cidr", "cidr-block-association.cidr-block":
				return []string{v.CIDR}, true
			case "is-default":
				return []string{strconv.FormatBool(v.IsDefault)}, true
			case "state":
				return []string{"available"}, true
			case "owner-id":
				return []string{c.r.account}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, c.r.vpcNode(v, ""))
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	return []*xnNode{xnItems("vpcSet", items)}, nil
}

func (r *ec2Region) subnetNode(sn *ec2Subnet, name string) *xnNode {
	return xnEl(name, xnText("subnetId", sn.ID), xnText("state", "available"), xnText("vpcId", sn.VPC),
		xnText("cidrBlock", sn.CIDR), xnInt("availableIpAddressCount", 250), xnText("availabilityZone", sn.AZ),
		xnBool("defaultForAz", sn.DefaultForAZ), xnBool("mapPublicIpOnLaunch", sn.DefaultForAZ), xnText("ownerId", r.account),
		xnText("subnetArn", fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", r.region, r.account, sn.ID)), r.tagSet(sn.ID))
}

func (c *ec2Call) createSubnet() ([]*xnNode, error) {
	vpcID, err := c.p.required("VpcId")
	if err != nil {
		return nil, err
	}
	cidr, err := c.p.required("CidrBlock")
	if err != nil {
		return nil, err
	}
	v, err := c.vpc(vpcID)
	if err != nil {
		return nil, err
	}
	p, err := ec2Prefix(cidr, "cidrBlock")
	if err != nil {
		return nil, err
	}
	vp, _ := netip.ParsePrefix(v.CIDR)
	if p.Bits() < vp.Bits() || !vp.Contains(p.Addr()) || p.Bits() > 28 {
		return nil, ec2Errorf("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	for _, sn := range c.r.subnets {
		if op, _ := netip.ParsePrefix(sn.CIDR); sn.VPC == vpcID && op.Overlaps(p) {
			return nil, ec2Errorf("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
		}
	}
	tags, err := c.p.tagSpecs("subnet")
	if err != nil {
		return nil, err
	}
	az := c.p.str("AvailabilityZone")
	if az == "" {
		az = c.r.region + "a"
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	sn := c.s.newSubnet(c.r, vpcID, cidr, az)
	c.r.setTags(sn.ID, tags["subnet"])
	c.touched(sn.ID)
	return []*xnNode{c.r.subnetNode(sn, "subnet")}, nil
}

func (c *ec2Call) describeSubnets() ([]*xnNode, error) {
	want := c.p.list("SubnetId")
	for _, id := range want {
		if c.r.subnets[id] == nil {
			return nil, ec2Errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
	}
	filters := c.p.filters()
	var items []*xnNode
	for _, id := range ec2Sorted(c.r.subnets) {
		sn := c.r.subnets[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "subnet-id":
				return []string{sn.ID}, true
			case "vpc-id":
				return []string{sn.VPC}, true
			case "availability-zone":
				return []string{sn.AZ}, true
			case "cidr-block":
				return []string{sn.CIDR}, true
			case "default-for-az":
				return []string{strconv.FormatBool(sn.DefaultForAZ)}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, c.r.subnetNode(sn, ""))
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	return []*xnNode{xnItems("subnetSet", items)}, nil
}

// Security groups.

// ec2Protocol normalises an IP protocol as EC2 stores it.
func ec2Protocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "tcp", "6":
		return "tcp", nil
	case "udp", "17":
		return "udp", nil
	case "icmp", "1":
		return "icmp", nil
	case "-1", "all":
		return "-1", nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return p, nil
	}
	return "", ec2Errorf("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

func (c *ec2Call) group(id string) (*ec2Group, error) {
	if err := ec2CheckID(id, "sg", "InvalidGroupId.Malformed"); err != nil {
		return nil, err
	}
	g := c.r.groups[id]
	if g == nil {
		return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	}
	return g, nil
}

// targetGroup is the group a call names by GroupId or GroupName.
func (c *ec2Call) targetGroup() (*ec2Group, error) {
	if id := c.p.str("GroupId"); id != "" {
		return c.group(id)
	}
	name := c.p.str("GroupName")
	if name == "" {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter groupId")
	}
	for _, g := range c.r.groups {
		if g.Name == name && g.VPC == c.r.defaultVPC {
			return g, nil
		}
	}
	return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, c.r.defaultVPC)
}

// permissions reads IpPermissions.N (or the legacy top-level CidrIp form)
// as one rule per peer.
func (c *ec2Call) permissions(egress bool) ([]*ec2Rule, error) {
	var out []*ec2Rule
	read := func(prefix string) error {
		proto, err := ec2Protocol(c.p.str(prefix + "IpProtocol"))
		if err != nil {
			return err
		}
		from, to := int64(-1), int64(-1)
		if proto != "-1" {
			f, okF, err := c.p.integer(prefix + "FromPort")
			if err != nil {
				return err
			}
			t, okT, err := c.p.integer(prefix + "ToPort")
			if err != nil {
				return err
			}
			if (proto == "tcp" || proto == "udp") && (!okF || !okT) {
				return ec2Errorf("InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
			}
			if (proto == "tcp" || proto == "udp") && (f < 0 || t > 65535 || f > t) {
				return ec2Errorf("InvalidParameterValue", "Invalid value '%d-%d' for portRange.", f, t)
			}
			if okF {
				from = f
			}
			if okT {
				to = t
			}
		}
		base := ec2Rule{Egress: egress, Protocol: proto, From: from, To: to}
		add := func(r ec2Rule) { r2 := r; out = append(out, &r2) }
		peers := 0
		for _, ix := range c.p.indexes(prefix + "IpRanges") {
			cidr := c.p.str(ix + ".CidrIp")
			if _, err := ec2Prefix(cidr, "cidrIp"); err != nil {
				if p, perr := netip.ParsePrefix(cidr); perr != nil || !p.Addr().Is4() {
					return ec2Errorf("InvalidParameterValue", "Value (%s) for parameter cidrIp is invalid. This is not a valid CIDR block.", cidr)
				}
			}
			r := base
			r.CIDR, r.Description = cidr, c.p.str(ix+".Description")
			add(r)
			peers++
		}
		for _, ix := range c.p.indexes(prefix + "Ipv6Ranges") {
			r := base
			r.CIDRv6, r.Description = c.p.str(ix+".CidrIpv6"), c.p.str(ix+".Description")
			add(r)
			peers++
		}
		for _, ix := range c.p.indexes(prefix + "Groups") {
			gid := c.p.str(ix + ".GroupId")
			if _, err := c.group(gid); err != nil {
				return err
			}
			r := base
			r.Group, r.Description = gid, c.p.str(ix+".Description")
			add(r)
			peers++
		}
		for _, ix := range c.p.indexes(prefix + "PrefixListIds") {
			r := base
			r.PrefixList, r.Description = c.p.str(ix+".PrefixListId"), c.p.str(ix+".Description")
			add(r)
			peers++
		}
		if cidr := c.p.str(prefix + "CidrIp"); cidr != "" && prefix == "" {
			r := base
			r.CIDR = cidr
			add(r)
			peers++
		}
		if peers == 0 {
			return ec2Errorf("MissingParameter", "The request must contain a source or destination for the permission (CIDR, security group or prefix list)")
		}
		return nil
	}
	for _, ix := range c.p.indexes("IpPermissions") {
		if err := read(ix + "."); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 && c.p.str("IpProtocol") != "" {
		if err := read(""); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	return out, nil
}

func (a *ec2Rule) same(b *ec2Rule) bool {
	return a.Egress == b.Egress && a.Protocol == b.Protocol && a.From == b.From && a.To == b.To &&
		a.CIDR == b.CIDR && a.CIDRv6 == b.CIDRv6 && a.Group == b.Group && a.PrefixList == b.PrefixList
}

func (a *ec2Rule) peer() string {
	for _, p := range []string{a.CIDR, a.CIDRv6, a.Group, a.PrefixList} {
		if p != "" {
			return p
		}
	}
	return ""
}

func (c *ec2Call) authorizeIngress() ([]*xnNode, error) { return c.authorize(false) }
func (c *ec2Call) authorizeEgress() ([]*xnNode, error)  { return c.authorize(true) }
func (c *ec2Call) revokeIngress() ([]*xnNode, error)    { return c.revoke(false) }
func (c *ec2Call) revokeEgress() ([]*xnNode, error)     { return c.revoke(true) }

func (c *ec2Call) authorize(egress bool) ([]*xnNode, error) {
	g, err := c.targetGroup()
	if err != nil {
		return nil, err
	}
	rules, err := c.permissions(egress)
	if err != nil {
		return nil, err
	}
	for i, r := range rules {
		for _, have := range append(slices.Clone(g.Rules), rules[:i]...) {
			if have.same(r) {
				return nil, ec2Errorf("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists", r.peer(), strings.ToUpper(r.Protocol), r.From, r.To)
			}
		}
	}
	if len(g.Rules)+len(rules) > 120 {
		return nil, ec2Errorf("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, r := range rules {
		r.ID = c.id("sgr")
		g.Rules = append(g.Rules, r)
		items = append(items, c.r.ruleNode(g, r))
	}
	c.touched(g.ID)
	return []*xnNode{xnBool("return", true), xnItems("securityGroupRuleSet", items)}, nil
}

func (c *ec2Call) revoke(egress bool) ([]*xnNode, error) {
	g, err := c.targetGroup()
	if err != nil {
		return nil, err
	}
	var gone []string
	if ids := c.p.list("SecurityGroupRuleId"); len(ids) > 0 {
		for _, id := range ids {
			i := slices.IndexFunc(g.Rules, func(r *ec2Rule) bool { return r.ID == id && r.Egress == egress })
			if i < 0 {
				return nil, ec2Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
			gone = append(gone, id)
		}
	} else {
		rules, err := c.permissions(egress)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			i := slices.IndexFunc(g.Rules, r.same)
			if i < 0 {
				return nil, ec2Errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
			gone = append(gone, g.Rules[i].ID)
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	g.Rules = slices.DeleteFunc(g.Rules, func(r *ec2Rule) bool { return slices.Contains(gone, r.ID) })
	c.touched(g.ID)
	return []*xnNode{xnBool("return", true)}, nil
}

// ruleNode is one rule as DescribeSecurityGroupRules shows it.
func (r *ec2Region) ruleNode(g *ec2Group, rule *ec2Rule) *xnNode {
	n := xnEl("", xnText("securityGroupRuleId", rule.ID), xnText("groupId", g.ID), xnText("groupOwnerId", r.account),
		xnBool("isEgress", rule.Egress), xnText("ipProtocol", rule.Protocol), xnInt("fromPort", rule.From), xnInt("toPort", rule.To),
		xnOpt("cidrIpv4", rule.CIDR), xnOpt("cidrIpv6", rule.CIDRv6), xnOpt("prefixListId", rule.PrefixList),
		xnOpt("description", rule.Description),
		xnText("securityGroupRuleArn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", r.region, r.account, rule.ID)))
	if rule.Group != "" {
		n.kids = append(n.kids, xnEl("referencedGroupInfo", xnText("groupId", rule.Group), xnText("userId", r.account)))
	}
	return n
}

// permissionNodes merges a group's rules of one direction into EC2's
// IpPermission shape, one per protocol and port range.
func (r *ec2Region) permissionNodes(g *ec2Group, egress bool) []*xnNode {
	type perm struct {
		proto                   string
		from, to                int64
		ranges, v6, groups, pls []*xnNode
	}
	var perms []*perm
	for _, rule := range g.Rules {
		if rule.Egress != egress {
			continue
		}
		i := slices.IndexFunc(perms, func(p *perm) bool { return p.proto == rule.Protocol && p.from == rule.From && p.to == rule.To })
		if i < 0 {
			perms = append(perms, &perm{proto: rule.Protocol, from: rule.From, to: rule.To})
			i = len(perms) - 1
		}
		p := perms[i]
		switch {
		case rule.CIDR != "":
			p.ranges = append(p.ranges, xnEl("", xnText("cidrIp", rule.CIDR), xnOpt("description", rule.Description)))
		case rule.CIDRv6 != "":
			p.v6 = append(p.v6, xnEl("", xnText("cidrIpv6", rule.CIDRv6), xnOpt("description", rule.Description)))
		case rule.Group != "":
			p.groups = append(p.groups, xnEl("", xnText("groupId", rule.Group), xnText("userId", r.account), xnOpt("description", rule.Description)))
		case rule.PrefixList != "":
			p.pls = append(p.pls, xnEl("", xnText("prefixListId", rule.PrefixList), xnOpt("description", rule.Description)))
		}
	}
	out := make([]*xnNode, 0, len(perms))
	for _, p := range perms {
		n := xnEl("", xnText("ipProtocol", p.proto))
		if p.proto != "-1" {
			n.kids = append(n.kids, xnInt("fromPort", p.from), xnInt("toPort", p.to))
		}
		n.kids = append(n.kids, xnItems("groups", p.groups), xnItems("ipRanges", p.ranges), xnItems("ipv6Ranges", p.v6), xnItems("prefixListIds", p.pls))
		out = append(out, n)
	}
	return out
}

func (r *ec2Region) groupNode(g *ec2Group) *xnNode {
	return xnEl("", xnText("ownerId", r.account), xnText("groupId", g.ID), xnText("groupName", g.Name),
		xnText("groupDescription", g.Description), xnText("vpcId", g.VPC),
		xnItems("ipPermissions", r.permissionNodes(g, false)), xnItems("ipPermissionsEgress", r.permissionNodes(g, true)),
		xnText("securityGroupArn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", r.region, r.account, g.ID)),
		r.tagSet(g.ID))
}

func (c *ec2Call) createSecurityGroup() ([]*xnNode, error) {
	name, err := c.p.required("GroupName")
	if err != nil {
		return nil, err
	}
	desc, err := c.p.required("GroupDescription")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, ec2Errorf("InvalidParameterValue", "Group names may not be in the format sg-*")
	}
	vpc := c.p.str("VpcId")
	if vpc == "" {
		vpc = c.r.defaultVPC
	}
	if _, err := c.vpc(vpc); err != nil {
		return nil, err
	}
	for _, g := range c.r.groups {
		if g.VPC == vpc && g.Name == name {
			return nil, ec2Errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	tags, err := c.p.tagSpecs("security-group")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	g := &ec2Group{ID: c.id("sg"), Name: name, Description: desc, VPC: vpc}
	g.Rules = []*ec2Rule{{ID: c.id("sgr"), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"}}
	c.r.groups[g.ID] = g
	c.r.setTags(g.ID, tags["security-group"])
	c.touched(g.ID)
	return []*xnNode{xnText("groupId", g.ID), c.r.tagSet(g.ID),
		xnText("securityGroupArn", fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", c.r.region, c.r.account, g.ID))}, nil
}

func (c *ec2Call) deleteSecurityGroup() ([]*xnNode, error) {
	g, err := c.targetGroup()
	if err != nil {
		return nil, err
	}
	if g.Name == "default" {
		return nil, ec2Errorf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	for _, e := range c.r.enis {
		if slices.Contains(e.Groups, g.ID) {
			return nil, ec2Errorf("DependencyViolation", "resource %s has a dependent object", g.ID)
		}
	}
	for _, other := range c.r.groups {
		for _, rule := range other.Rules {
			if other.ID != g.ID && rule.Group == g.ID {
				return nil, ec2Errorf("DependencyViolation", "resource %s has a dependent object", g.ID)
			}
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	delete(c.r.groups, g.ID)
	delete(c.r.tags, g.ID)
	c.touched(g.ID)
	return []*xnNode{xnBool("return", true), xnText("groupId", g.ID)}, nil
}

func (c *ec2Call) describeSecurityGroups() ([]*xnNode, error) {
	ids, names := c.p.list("GroupId"), c.p.list("GroupName")
	for _, id := range ids {
		if _, err := c.group(id); err != nil {
			return nil, err
		}
	}
	filters := c.p.filters()
	var matched []*ec2Group
	for _, id := range ec2Sorted(c.r.groups) {
		g := c.r.groups[id]
		if len(ids) > 0 && !slices.Contains(ids, id) || len(names) > 0 && !slices.Contains(names, g.Name) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "group-id":
				return []string{g.ID}, true
			case "group-name":
				return []string{g.Name}, true
			case "vpc-id":
				return []string{g.VPC}, true
			case "description":
				return []string{g.Description}, true
			case "owner-id":
				return []string{c.r.account}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, g)
		}
	}
	for _, name := range names {
		if !slices.ContainsFunc(matched, func(g *ec2Group) bool { return g.Name == name }) {
			return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, c.r.defaultVPC)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, g := range matched[lo:hi] {
		items = append(items, c.r.groupNode(g))
	}
	return []*xnNode{xnItems("securityGroupInfo", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) describeSecurityGroupRules() ([]*xnNode, error) {
	want := c.p.list("SecurityGroupRuleId")
	filters := c.p.filters()
	type pair struct {
		g *ec2Group
		r *ec2Rule
	}
	var matched []pair
	for _, gid := range ec2Sorted(c.r.groups) {
		g := c.r.groups[gid]
		for _, rule := range g.Rules {
			if len(want) > 0 && !slices.Contains(want, rule.ID) {
				continue
			}
			ok, err := ec2Match(filters, nil, func(name string) ([]string, bool) {
				switch name {
				case "group-id":
					return []string{g.ID}, true
				case "security-group-rule-id":
					return []string{rule.ID}, true
				}
				return nil, false
			})
			if err != nil {
				return nil, err
			}
			if ok {
				matched = append(matched, pair{g, rule})
			}
		}
	}
	for _, id := range want {
		if !slices.ContainsFunc(matched, func(p pair) bool { return p.r.ID == id }) {
			return nil, ec2Errorf("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, p := range matched[lo:hi] {
		items = append(items, c.r.ruleNode(p.g, p.r))
	}
	return []*xnNode{xnItems("securityGroupRuleSet", items), xnOpt("nextToken", next)}, nil
}

// Network ACLs.

// ec2NACLQuota is the default number of rules per direction.
const ec2NACLQuota = 20

func (c *ec2Call) nacl(id string) (*ec2NACL, error) {
	a := c.r.nacls[id]
	if a == nil {
		return nil, ec2Errorf("InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
	}
	return a, nil
}

func ec2ProtocolNumber(p string) string {
	switch p {
	case "tcp":
		return "6"
	case "udp":
		return "17"
	case "icmp":
		return "1"
	}
	return p
}

func (r *ec2Region) naclNode(a *ec2NACL, name string) *xnNode {
	entries := slices.Clone(a.Entries)
	entries = append(entries,
		ec2NACLEntry{Number: 32767, Protocol: "-1", CIDR: "0.0.0.0/0"},
		ec2NACLEntry{Number: 32767, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0"})
	slices.SortStableFunc(entries, func(x, y ec2NACLEntry) int {
		if x.Egress != y.Egress {
			if x.Egress {
				return -1
			}
			return 1
		}
		return int(x.Number - y.Number)
	})
	var items []*xnNode
	for _, e := range entries {
		action := "deny"
		if e.Allow {
			action = "allow"
		}
		cidr := "cidrBlock"
		if pfx, err := netip.ParsePrefix(e.CIDR); err == nil && pfx.Addr().Is6() {
			cidr = "ipv6CidrBlock"
		}
		n := xnEl("", xnInt("ruleNumber", e.Number), xnText("protocol", e.Protocol), xnText("ruleAction", action),
			xnBool("egress", e.Egress), xnText(cidr, e.CIDR))
		if e.HasPorts {
			n.kids = append(n.kids, xnEl("portRange", xnInt("from", e.From), xnInt("to", e.To)))
		}
		items = append(items, n)
	}
	var assoc []*xnNode
	for _, sn := range ec2Sorted(a.Assoc) {
		assoc = append(assoc, xnEl("", xnText("networkAclAssociationId", a.Assoc[sn]), xnText("networkAclId", a.ID), xnText("subnetId", sn)))
	}
	return xnEl(name, xnText("networkAclId", a.ID), xnText("vpcId", a.VPC), xnBool("default", a.IsDefault),
		xnItems("entrySet", items), xnItems("associationSet", assoc), r.tagSet(a.ID), xnText("ownerId", r.account))
}

func (c *ec2Call) describeNetworkACLs() ([]*xnNode, error) {
	want := c.p.list("NetworkAclId")
	for _, id := range want {
		if _, err := c.nacl(id); err != nil {
			return nil, err
		}
	}
	filters := c.p.filters()
	var matched []*ec2NACL
	for _, id := range ec2Sorted(c.r.nacls) {
		a := c.r.nacls[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "network-acl-id", "association.network-acl-id":
				return []string{a.ID}, true
			case "vpc-id":
				return []string{a.VPC}, true
			case "default":
				return []string{strconv.FormatBool(a.IsDefault)}, true
			case "association.subnet-id":
				return ec2Sorted(a.Assoc), true
			case "association.association-id":
				var out []string
				for _, v := range a.Assoc {
					out = append(out, v)
				}
				return out, true
			case "owner-id":
				return []string{c.r.account}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, a)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, a := range matched[lo:hi] {
		items = append(items, c.r.naclNode(a, ""))
	}
	return []*xnNode{xnItems("networkAclSet", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) createNetworkACL() ([]*xnNode, error) {
	vpc, err := c.p.required("VpcId")
	if err != nil {
		return nil, err
	}
	if _, err := c.vpc(vpc); err != nil {
		return nil, err
	}
	tags, err := c.p.tagSpecs("network-acl")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	a := &ec2NACL{ID: c.id("acl"), VPC: vpc, Assoc: map[string]string{}}
	c.r.nacls[a.ID] = a
	c.r.setTags(a.ID, tags["network-acl"])
	c.touched(a.ID)
	return []*xnNode{c.r.naclNode(a, "networkAcl"), xnOpt("clientToken", c.p.str("ClientToken"))}, nil
}

// naclEntry reads the entry of Create/ReplaceNetworkAclEntry.
func (c *ec2Call) naclEntry() (*ec2NACL, ec2NACLEntry, error) {
	var e ec2NACLEntry
	id, err := c.p.required("NetworkAclId")
	if err != nil {
		return nil, e, err
	}
	a, err := c.nacl(id)
	if err != nil {
		return nil, e, err
	}
	num, ok, err := c.p.integer("RuleNumber")
	if err != nil {
		return nil, e, err
	}
	if !ok {
		return nil, e, ec2Errorf("MissingParameter", "The request must contain the parameter ruleNumber")
	}
	if num < 1 || num > 32766 {
		return nil, e, ec2Errorf("InvalidParameterValue", "Invalid value for parameter ruleNumber: %d. Rule numbers must be between 1 and 32766.", num)
	}
	e.Number = num
	if e.Egress, err = c.p.boolean("Egress"); err != nil {
		return nil, e, err
	}
	proto, err := c.p.required("Protocol")
	if err != nil {
		return nil, e, err
	}
	if proto, err = ec2Protocol(proto); err != nil {
		return nil, e, err
	}
	e.Protocol = ec2ProtocolNumber(proto)
	switch c.p.str("RuleAction") {
	case "allow":
		e.Allow = true
	case "deny":
	default:
		return nil, e, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter ruleAction is invalid. Expected 'allow' or 'deny'.", c.p.str("RuleAction"))
	}
	// Exactly one of CidrBlock (IPv4) and Ipv6CidrBlock; the entry keeps
	// either in CIDR, its family telling which one it was.
	cidr, v6 := c.p.str("CidrBlock"), c.p.str("Ipv6CidrBlock")
	switch {
	case cidr != "" && v6 != "":
		return nil, e, ec2Errorf("InvalidParameterCombination", "Only one of cidrBlock and ipv6CidrBlock may be specified.")
	case cidr == "" && v6 == "":
		return nil, e, ec2Errorf("MissingParameter", "Either cidrBlock or ipv6CidrBlock must be specified.")
	case cidr != "":
		if pfx, perr := netip.ParsePrefix(cidr); perr != nil || !pfx.Addr().Is4() {
			return nil, e, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
		}
		e.CIDR = cidr
	default:
		if pfx, perr := netip.ParsePrefix(v6); perr != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
			return nil, e, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.", v6)
		}
		e.CIDR = v6
	}
	if e.Protocol == "6" || e.Protocol == "17" {
		from, okF, err := c.p.integer("PortRange.From")
		if err != nil {
			return nil, e, err
		}
		to, okT, err := c.p.integer("PortRange.To")
		if err != nil {
			return nil, e, err
		}
		if !okF || !okT {
			return nil, e, ec2Errorf("InvalidParameterValue", "TCP and UDP network ACL entries require PortRange.From and PortRange.To")
		}
		if from < 0 || to > 65535 || from > to {
			return nil, e, ec2Errorf("InvalidParameterValue", "Invalid value '%d-%d' for portRange.", from, to)
		}
		e.From, e.To, e.HasPorts = from, to, true
	}
	return a, e, nil
}

func (a *ec2NACL) find(num int64, egress bool) int {
	return slices.IndexFunc(a.Entries, func(e ec2NACLEntry) bool { return e.Number == num && e.Egress == egress })
}

func (c *ec2Call) createNetworkACLEntry() ([]*xnNode, error) {
	a, e, err := c.naclEntry()
	if err != nil {
		return nil, err
	}
	if a.find(e.Number, e.Egress) >= 0 {
		return nil, ec2Errorf("NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", e.Number)
	}
	n := 0
	for _, x := range a.Entries {
		if x.Egress == e.Egress {
			n++
		}
	}
	if n >= ec2NACLQuota {
		return nil, ec2Errorf("NetworkAclEntryLimitExceeded", "The maximum number of network acl entries has been reached.")
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	a.Entries = append(a.Entries, e)
	c.touched(a.ID)
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) replaceNetworkACLEntry() ([]*xnNode, error) {
	a, e, err := c.naclEntry()
	if err != nil {
		return nil, err
	}
	i := a.find(e.Number, e.Egress)
	if i < 0 {
		return nil, ec2Errorf("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", e.Number)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	a.Entries[i] = e
	c.touched(a.ID)
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) deleteNetworkACLEntry() ([]*xnNode, error) {
	id, err := c.p.required("NetworkAclId")
	if err != nil {
		return nil, err
	}
	a, err := c.nacl(id)
	if err != nil {
		return nil, err
	}
	num, ok, err := c.p.integer("RuleNumber")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter ruleNumber")
	}
	egress, err := c.p.boolean("Egress")
	if err != nil {
		return nil, err
	}
	i := a.find(num, egress)
	if i < 0 {
		return nil, ec2Errorf("InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", num)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	a.Entries = slices.Delete(a.Entries, i, i+1)
	c.touched(a.ID)
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) replaceNetworkACLAssociation() ([]*xnNode, error) {
	assoc, err := c.p.required("AssociationId")
	if err != nil {
		return nil, err
	}
	id, err := c.p.required("NetworkAclId")
	if err != nil {
		return nil, err
	}
	target, err := c.nacl(id)
	if err != nil {
		return nil, err
	}
	var from *ec2NACL
	var subnet string
	for _, a := range c.r.nacls {
		for sn, as := range a.Assoc {
			if as == assoc {
				from, subnet = a, sn
			}
		}
	}
	if from == nil {
		return nil, ec2Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", assoc)
	}
	if target.VPC != from.VPC {
		return nil, ec2Errorf("InvalidParameterValue", "Network ACL %s and subnet %s belong to different VPCs", target.ID, subnet)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	delete(from.Assoc, subnet)
	newID := c.id("aclassoc")
	target.Assoc[subnet] = newID
	c.touched(target.ID)
	c.touched(subnet)
	return []*xnNode{xnText("newAssociationId", newID)}, nil
}

// Network interfaces.

func (r *ec2Region) eniNode(e *ec2ENI) *xnNode {
	n := xnEl("", xnText("networkInterfaceId", e.ID), xnText("subnetId", e.Subnet), xnText("vpcId", e.VPC),
		xnText("availabilityZone", e.AZ), xnText("description", e.Description), xnText("ownerId", r.account),
		xnBool("requesterManaged", false), xnText("status", e.Status), xnText("privateIpAddress", e.PrivateIP),
		xnBool("sourceDestCheck", true), r.groupSet(e.Groups), xnText("interfaceType", "interface"))
	if e.Instance != "" {
		n.kids = append(n.kids, xnEl("attachment", xnText("attachmentId", e.Attachment), xnText("instanceId", e.Instance),
			xnText("instanceOwnerId", r.account), xnInt("deviceIndex", 0), xnText("status", "attached"), xnBool("deleteOnTermination", true)))
	}
	n.kids = append(n.kids, r.tagSet(e.ID))
	return n
}

func (c *ec2Call) describeNetworkInterfaces() ([]*xnNode, error) {
	want := c.p.list("NetworkInterfaceId")
	for _, id := range want {
		if c.r.enis[id] == nil {
			return nil, ec2Errorf("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
		}
	}
	filters := c.p.filters()
	var matched []*ec2ENI
	for _, id := range ec2Sorted(c.r.enis) {
		e := c.r.enis[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "network-interface-id":
				return []string{e.ID}, true
			case "attachment.instance-id":
				return []string{e.Instance}, true
			case "vpc-id":
				return []string{e.VPC}, true
			case "subnet-id":
				return []string{e.Subnet}, true
			case "group-id":
				return e.Groups, true
			case "status":
				return []string{e.Status}, true
			case "private-ip-address", "addresses.private-ip-address":
				return []string{e.PrivateIP}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, e)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, e := range matched[lo:hi] {
		items = append(items, c.r.eniNode(e))
	}
	return []*xnNode{xnItems("networkInterfaceSet", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) modifyNetworkInterfaceAttribute() ([]*xnNode, error) {
	id, err := c.p.required("NetworkInterfaceId")
	if err != nil {
		return nil, err
	}
	e := c.r.enis[id]
	if e == nil {
		return nil, ec2Errorf("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}
	groups := c.p.list("SecurityGroupId")
	desc := c.p.str("Description.Value")
	if len(groups) == 0 && desc == "" {
		return nil, ec2Errorf("MissingParameter", "The request must contain exactly one attribute to modify (the sandbox supports SecurityGroupId and Description).")
	}
	var ids []string
	if len(groups) > 0 {
		if ids, err = c.groupsIn(e.VPC, groups, nil); err != nil {
			return nil, err
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	if ids != nil {
		e.Groups = ids
	}
	if desc != "" {
		e.Description = desc
	}
	c.touched(e.ID)
	if e.Instance != "" {
		c.touched(e.Instance)
	}
	return []*xnNode{xnBool("return", true)}, nil
}
