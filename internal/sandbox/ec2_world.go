package sandbox

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ec2World is an account's "ec2" section of the world file. Names are the
// resources' Name tags and are how the section refers to its own
// resources; "default" is the default VPC and its default security group.
type ec2World struct {
	// Region defaults to the account's first region.
	Region    string             `yaml:"region"`
	VPCs      []ec2WorldVPC      `yaml:"vpcs"`
	Instances []ec2WorldInstance `yaml:"instances"`
}

type ec2WorldVPC struct {
	Name           string               `yaml:"name"`
	CIDR           string               `yaml:"cidr"`
	Tags           map[string]string    `yaml:"tags"`
	Subnets        []ec2WorldSubnet     `yaml:"subnets"`
	SecurityGroups []ec2WorldGroup      `yaml:"security_groups"`
	NetworkACLs    []ec2WorldNetworkACL `yaml:"network_acls"`
}

type ec2WorldSubnet struct {
	Name string            `yaml:"name"`
	CIDR string            `yaml:"cidr"`
	AZ   string            `yaml:"az"`
	Tags map[string]string `yaml:"tags"`
}

type ec2WorldGroup struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Tags        map[string]string `yaml:"tags"`
	Ingress     []ec2WorldRule    `yaml:"ingress"`
	Egress      []ec2WorldRule    `yaml:"egress"`
}

// ec2WorldRule is one security group rule; exactly one of CIDR and Group.
type ec2WorldRule struct {
	Protocol string `yaml:"protocol"` // tcp, udp, icmp, -1
	Ports    string `yaml:"ports"`    // "22" or "1024-65535"; empty for all
	CIDR     string `yaml:"cidr"`
	Group    string `yaml:"group"` // a security group name in the same VPC
}

type ec2WorldNetworkACL struct {
	Name    string             `yaml:"name"`
	Subnets []string           `yaml:"subnets"`
	Tags    map[string]string  `yaml:"tags"`
	Entries []ec2WorldACLEntry `yaml:"entries"`
}

type ec2WorldACLEntry struct {
	Rule     int64  `yaml:"rule"`
	Egress   bool   `yaml:"egress"`
	Protocol string `yaml:"protocol"`
	Action   string `yaml:"action"` // allow or deny
	CIDR     string `yaml:"cidr"`
	Ports    string `yaml:"ports"`
}

type ec2WorldInstance struct {
	// ID fixes the instance id (scenarios name instances in findings);
	// empty generates one.
	ID                    string            `yaml:"id"`
	Name                  string            `yaml:"name"`
	Subnet                string            `yaml:"subnet"` // a subnet name; default: the default VPC's first subnet
	SecurityGroups        []string          `yaml:"security_groups"`
	InstanceProfile       string            `yaml:"instance_profile"`
	Type                  string            `yaml:"type"`
	Image                 string            `yaml:"image"`
	PublicIP              string            `yaml:"public_ip"`
	State                 string            `yaml:"state"` // running (default) or stopped
	TerminationProtection bool              `yaml:"termination_protection"`
	Tags                  map[string]string `yaml:"tags"`
	VolumeSize            int64             `yaml:"volume_size"`
	Console               string            `yaml:"console"`
}

// Seed creates an account's EC2 resources from its "ec2" section.
func (s *ec2Service) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w ec2World
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	// Instance profiles live in IAM: resolve them before taking our lock.
	profiles := map[string]*InstanceProfile{}
	instancesNode := ec2Child(section, "instances")
	for i, in := range w.Instances {
		if in.InstanceProfile == "" {
			continue
		}
		ip, ok := s.sb.InstanceProfile(acct.ID, in.InstanceProfile)
		if !ok {
			return NodeError(ec2Child(ec2Item(instancesNode, i), "instance_profile"), "instances[%d].instance_profile: no instance profile %q in account %s", i, in.InstanceProfile, acct.ID)
		}
		profiles[in.InstanceProfile] = &ip
	}
	region := sectionRegion(acct, w.Region)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(acct.ID, region)
	seed := &ec2Seeder{s: s, r: r, subnets: map[string]*ec2Subnet{}, groups: map[string]map[string]string{}}
	seed.groups[r.defaultVPC] = map[string]string{"default": r.defaultGroup(r.defaultVPC).ID}
	for _, id := range ec2Sorted(r.subnets) {
		if seed.firstDefault == nil {
			seed.firstDefault = r.subnets[id]
		}
	}
	vpcsNode := ec2Child(section, "vpcs")
	for i, v := range w.VPCs {
		if err := seed.vpc(ec2Item(vpcsNode, i), fmt.Sprintf("vpcs[%d]", i), v); err != nil {
			return err
		}
	}
	for i, in := range w.Instances {
		if err := seed.instance(ec2Item(instancesNode, i), fmt.Sprintf("instances[%d]", i), in, profiles[in.InstanceProfile]); err != nil {
			return err
		}
	}
	return nil
}

type ec2Seeder struct {
	s            *ec2Service
	r            *ec2Region
	subnets      map[string]*ec2Subnet        // by name
	groups       map[string]map[string]string // vpc id → group name → id
	firstDefault *ec2Subnet
}

func ec2TagList(name string, tags map[string]string) []ec2Tag {
	var out []ec2Tag
	if name != "" {
		out = append(out, ec2Tag{Key: "Name", Value: name})
	}
	for _, k := range ec2Sorted(tags) {
		out = append(out, ec2Tag{Key: k, Value: tags[k]})
	}
	return out
}

// ec2Ports reads "22" or "1024-65535"; empty is every port.
func ec2Ports(s string) (from, to int64, ok bool) {
	if s == "" {
		return -1, -1, true
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	f, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	t, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err1 != nil || err2 != nil || f < 0 || t > 65535 || f > t {
		return 0, 0, false
	}
	return f, t, true
}

func (sd *ec2Seeder) vpc(n *yaml.Node, field string, v ec2WorldVPC) error {
	p, err := netip.ParsePrefix(v.CIDR)
	if err != nil || !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 28 {
		return NodeError(ec2Child(n, "cidr"), "%s.cidr: %q is not an IPv4 CIDR block from /16 to /28", field, v.CIDR)
	}
	vpc := sd.s.newVPC(sd.r, p.Masked().String(), false)
	sd.r.setTags(vpc.ID, ec2TagList(v.Name, v.Tags))
	sd.groups[vpc.ID] = map[string]string{"default": sd.r.defaultGroup(vpc.ID).ID}
	subnetsNode := ec2Child(n, "subnets")
	for i, sn := range v.Subnets {
		sf := fmt.Sprintf("%s.subnets[%d]", field, i)
		sp, err := netip.ParsePrefix(sn.CIDR)
		if err != nil || !p.Contains(sp.Addr()) || sp.Bits() < p.Bits() {
			return NodeError(ec2Child(ec2Item(subnetsNode, i), "cidr"), "%s.cidr: %q is not a CIDR block inside the VPC's %s", sf, sn.CIDR, v.CIDR)
		}
		if sn.Name == "" {
			return NodeError(ec2Item(subnetsNode, i), "%s.name: required", sf)
		}
		if sd.subnets[sn.Name] != nil {
			return NodeError(ec2Child(ec2Item(subnetsNode, i), "name"), "%s.name: duplicate subnet %q", sf, sn.Name)
		}
		az := sn.AZ
		if az == "" {
			az = sd.r.region + "a"
		}
		subnet := sd.s.newSubnet(sd.r, vpc.ID, sp.Masked().String(), az)
		sd.r.setTags(subnet.ID, ec2TagList(sn.Name, sn.Tags))
		sd.subnets[sn.Name] = subnet
	}
	groupsNode := ec2Child(n, "security_groups")
	for i, g := range v.SecurityGroups {
		gf := fmt.Sprintf("%s.security_groups[%d]", field, i)
		if g.Name == "" {
			return NodeError(ec2Item(groupsNode, i), "%s.name: required", gf)
		}
		if _, dup := sd.groups[vpc.ID][g.Name]; dup {
			return NodeError(ec2Child(ec2Item(groupsNode, i), "name"), "%s.name: duplicate security group %q", gf, g.Name)
		}
		grp := &ec2Group{ID: sd.s.sb.IDs().Hex("sg-", 17), Name: g.Name, Description: g.Description, VPC: vpc.ID}
		if grp.Description == "" {
			grp.Description = g.Name
		}
		sd.r.groups[grp.ID] = grp
		sd.r.setTags(grp.ID, ec2TagList("", g.Tags))
		sd.groups[vpc.ID][g.Name] = grp.ID
	}
	// Rules after every group exists, so they may refer to one another.
	for i, g := range v.SecurityGroups {
		gn := ec2Item(groupsNode, i)
		grp := sd.r.groups[sd.groups[vpc.ID][g.Name]]
		if len(g.Egress) == 0 {
			grp.Rules = append(grp.Rules, &ec2Rule{ID: sd.s.sb.IDs().Hex("sgr-", 17), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"})
		}
		for _, dir := range []struct {
			key    string
			rules  []ec2WorldRule
			egress bool
		}{{"ingress", g.Ingress, false}, {"egress", g.Egress, true}} {
			rulesNode := ec2Child(gn, dir.key)
			for j, wr := range dir.rules {
				rf := fmt.Sprintf("%s.security_groups[%d].%s[%d]", field, i, dir.key, j)
				rn := ec2Item(rulesNode, j)
				rule, err := sd.rule(vpc.ID, rn, rf, wr)
				if err != nil {
					return err
				}
				rule.Egress = dir.egress
				grp.Rules = append(grp.Rules, rule)
			}
		}
	}
	aclsNode := ec2Child(n, "network_acls")
	for i, a := range v.NetworkACLs {
		af := fmt.Sprintf("%s.network_acls[%d]", field, i)
		an := ec2Item(aclsNode, i)
		acl := &ec2NACL{ID: sd.s.sb.IDs().Hex("acl-", 17), VPC: vpc.ID, Assoc: map[string]string{}}
		for j, e := range a.Entries {
			entry, err := sd.aclEntry(ec2Item(ec2Child(an, "entries"), j), fmt.Sprintf("%s.entries[%d]", af, j), e)
			if err != nil {
				return err
			}
			if acl.find(entry.Number, entry.Egress) >= 0 {
				return NodeError(ec2Item(ec2Child(an, "entries"), j), "%s.entries[%d].rule: duplicate rule number %d", af, j, entry.Number)
			}
			acl.Entries = append(acl.Entries, entry)
		}
		sd.r.nacls[acl.ID] = acl
		sd.r.setTags(acl.ID, ec2TagList(a.Name, a.Tags))
		for j, name := range a.Subnets {
			sn := sd.subnets[name]
			if sn == nil || sn.VPC != vpc.ID {
				return NodeError(ec2Item(ec2Child(an, "subnets"), j), "%s.subnets[%d]: no subnet %q in this VPC", af, j, name)
			}
			for _, other := range sd.r.nacls {
				delete(other.Assoc, sn.ID)
			}
			acl.Assoc[sn.ID] = sd.s.sb.IDs().Hex("aclassoc-", 17)
		}
	}
	return nil
}

func (sd *ec2Seeder) rule(vpc string, n *yaml.Node, field string, wr ec2WorldRule) (*ec2Rule, error) {
	proto, err := ec2Protocol(ec2OrAll(wr.Protocol))
	if err != nil {
		return nil, NodeError(ec2Child(n, "protocol"), "%s.protocol: %q is not tcp, udp, icmp, -1 or a protocol number", field, wr.Protocol)
	}
	from, to, ok := ec2Ports(wr.Ports)
	if !ok {
		return nil, NodeError(ec2Child(n, "ports"), "%s.ports: %q is not a port or a range like 1024-65535", field, wr.Ports)
	}
	if (proto == "tcp" || proto == "udp") && wr.Ports == "" {
		from, to = 0, 65535
	}
	rule := &ec2Rule{ID: sd.s.sb.IDs().Hex("sgr-", 17), Protocol: proto, From: from, To: to}
	switch {
	case wr.CIDR != "" && wr.Group == "":
		if _, err := netip.ParsePrefix(wr.CIDR); err != nil {
			return nil, NodeError(ec2Child(n, "cidr"), "%s.cidr: %q is not a CIDR block", field, wr.CIDR)
		}
		rule.CIDR = wr.CIDR
	case wr.Group != "" && wr.CIDR == "":
		id, ok := sd.groups[vpc][wr.Group]
		if !ok {
			return nil, NodeError(ec2Child(n, "group"), "%s.group: no security group %q in this VPC", field, wr.Group)
		}
		rule.Group = id
	default:
		return nil, NodeError(n, "%s: set exactly one of cidr and group", field)
	}
	return rule, nil
}

func ec2OrAll(p string) string {
	if p == "" {
		return "-1"
	}
	return p
}

func (sd *ec2Seeder) aclEntry(n *yaml.Node, field string, e ec2WorldACLEntry) (ec2NACLEntry, error) {
	var out ec2NACLEntry
	if e.Rule < 1 || e.Rule > 32766 {
		return out, NodeError(ec2Child(n, "rule"), "%s.rule: must be from 1 to 32766, got %d", field, e.Rule)
	}
	proto, err := ec2Protocol(ec2OrAll(e.Protocol))
	if err != nil {
		return out, NodeError(ec2Child(n, "protocol"), "%s.protocol: %q is not tcp, udp, icmp, -1 or a protocol number", field, e.Protocol)
	}
	if e.Action != "allow" && e.Action != "deny" {
		return out, NodeError(ec2Child(n, "action"), "%s.action: must be allow or deny, got %q", field, e.Action)
	}
	if _, err := netip.ParsePrefix(e.CIDR); err != nil {
		return out, NodeError(ec2Child(n, "cidr"), "%s.cidr: %q is not a CIDR block", field, e.CIDR)
	}
	out = ec2NACLEntry{Number: e.Rule, Egress: e.Egress, Protocol: ec2ProtocolNumber(proto), Allow: e.Action == "allow", CIDR: e.CIDR}
	if out.Protocol == "6" || out.Protocol == "17" {
		from, to, ok := ec2Ports(e.Ports)
		if !ok || e.Ports == "" {
			return out, NodeError(ec2Child(n, "ports"), "%s.ports: tcp and udp entries need a port or range, got %q", field, e.Ports)
		}
		out.From, out.To, out.HasPorts = from, to, true
	}
	return out, nil
}

var ec2WorldStates = []string{"", "running", "stopped"}

func (sd *ec2Seeder) instance(n *yaml.Node, field string, in ec2WorldInstance, profile *InstanceProfile) error {
	r := sd.r
	subnet := sd.firstDefault
	if in.Subnet != "" {
		if subnet = sd.subnets[in.Subnet]; subnet == nil {
			return NodeError(ec2Child(n, "subnet"), "%s.subnet: no subnet named %q", field, in.Subnet)
		}
	}
	if !slices.Contains(ec2WorldStates, in.State) {
		return NodeError(ec2Child(n, "state"), "%s.state: must be running or stopped, got %q", field, in.State)
	}
	id := in.ID
	if id != "" {
		if err := ec2CheckID(id, "i", "malformed"); err != nil {
			return NodeError(ec2Child(n, "id"), "%s.id: %q is not an instance id (i- and 8 or 17 hex digits)", field, id)
		}
		if r.instances[id] != nil {
			return NodeError(ec2Child(n, "id"), "%s.id: duplicate instance %s", field, id)
		}
	} else {
		id = sd.s.sb.IDs().Hex("i-", 17)
	}
	var groups []string
	groupsNode := ec2Child(n, "security_groups")
	for j, name := range in.SecurityGroups {
		gid, ok := sd.groups[subnet.VPC][name]
		if !ok {
			return NodeError(ec2Item(groupsNode, j), "%s.security_groups[%d]: no security group %q in the subnet's VPC", field, j, name)
		}
		groups = append(groups, gid)
	}
	if len(groups) == 0 {
		groups = []string{r.defaultGroup(subnet.VPC).ID}
	}
	inst := &ec2Instance{
		ID: id, Reservation: sd.s.sb.IDs().Hex("r-", 17), Image: in.Image, Type: in.Type, State: "running",
		Launched: sd.s.sb.Now(), Subnet: subnet.ID, VPC: subnet.VPC, PrivateIP: subnet.nextIP(), PublicIP: in.PublicIP,
		DisableAPITermination: in.TerminationProtection, Owner: r.account, Console: in.Console,
	}
	if in.State == "stopped" {
		inst.State = "stopped"
	}
	if inst.Image == "" {
		inst.Image = "ami-0abcdef1234567890"
	}
	if inst.Type == "" {
		inst.Type = "t3.micro"
	}
	sd.s.launch(r, inst, subnet, groups, profile, inst.Launched)
	if in.VolumeSize > 0 {
		r.volumes[inst.RootVolume].Size = in.VolumeSize
	}
	r.setTags(inst.ID, ec2TagList(in.Name, in.Tags))
	return nil
}

// ec2Child returns the value of key in a mapping node, or nil.
func ec2Child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return n
}

// ec2Item returns the i-th element of a sequence node, or the node itself.
func ec2Item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return n
	}
	return n.Content[i]
}
