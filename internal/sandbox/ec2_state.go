package sandbox

import "slices"

// EC2InstanceState is an instance as tests assert on it.
type EC2InstanceState struct {
	ID, State, Type, Image string
	VPC, Subnet            string
	PrivateIP, PublicIP    string
	NetworkInterface       string
	RootVolume             string
	SecurityGroups         []string // of the primary network interface
	InstanceProfileARN     string   // "" when none is associated
	TerminationProtection  bool
	Tags                   map[string]string
}

// EC2NACLEntry is one network ACL rule; rule 32767 (the implicit deny) is
// not listed.
type EC2NACLEntry struct {
	Rule             int64
	Egress           bool
	Protocol         string // "-1", "6", "17", "1" or another number
	Action           string // "allow" or "deny"
	CIDR             string
	FromPort, ToPort int64 // 0 when the protocol has no ports
}

// EC2SnapshotState is a snapshot as tests assert on it.
type EC2SnapshotState struct {
	ID, Volume, Description string
	Size                    int64
	Tags                    map[string]string
}

// EC2SecurityGroupRule is one rule of a security group, one peer each.
type EC2SecurityGroupRule struct {
	Egress           bool
	Protocol         string
	FromPort, ToPort int64 // -1 for every port
	CIDR, Group      string
}

// ec2 returns the sandbox's EC2 service.
func (sb *Sandbox) ec2() *ec2Service {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*ec2Service); ok {
			return s
		}
	}
	return nil
}

// ec2Read runs f on a region's state under the EC2 lock; it does nothing
// when EC2 is not running.
func (sb *Sandbox) ec2Read(account, region string, f func(r *ec2Region)) {
	s := sb.ec2()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.region(account, region))
}

func ec2CopyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (r *ec2Region) export(inst *ec2Instance) EC2InstanceState {
	st := EC2InstanceState{
		ID: inst.ID, State: inst.State, Type: inst.Type, Image: inst.Image, VPC: inst.VPC, Subnet: inst.Subnet,
		PrivateIP: inst.PrivateIP, PublicIP: inst.PublicIP, RootVolume: inst.RootVolume,
		TerminationProtection: inst.DisableAPITermination, Tags: ec2CopyTags(r.tags[inst.ID]),
	}
	if e := r.enis[inst.ENI]; e != nil {
		st.NetworkInterface = e.ID
		st.SecurityGroups = slices.Clone(e.Groups)
	}
	if r.volumes[inst.RootVolume] == nil {
		st.RootVolume = ""
	}
	if a := r.activeProfile(inst.ID); a != nil {
		st.InstanceProfileARN = a.ARN
	}
	return st
}

// EC2Instance returns an instance of an account in a region.
func (sb *Sandbox) EC2Instance(account, region, id string) (EC2InstanceState, bool) {
	var st EC2InstanceState
	found := false
	sb.ec2Read(account, region, func(r *ec2Region) {
		if inst := r.instances[id]; inst != nil {
			st, found = r.export(inst), true
		}
	})
	return st, found
}

// EC2Instances returns every instance of an account in a region, in launch
// order.
func (sb *Sandbox) EC2Instances(account, region string) []EC2InstanceState {
	var out []EC2InstanceState
	sb.ec2Read(account, region, func(r *ec2Region) {
		for _, inst := range r.sortedInstances() {
			out = append(out, r.export(inst))
		}
	})
	return out
}

// EC2SubnetNACL returns the network ACL associated with a subnet and its
// entries, ingress first, by rule number.
func (sb *Sandbox) EC2SubnetNACL(account, region, subnet string) (acl string, entries []EC2NACLEntry, ok bool) {
	sb.ec2Read(account, region, func(r *ec2Region) {
		for _, id := range ec2Sorted(r.nacls) {
			a := r.nacls[id]
			if _, has := a.Assoc[subnet]; !has {
				continue
			}
			acl, ok = a.ID, true
			for _, e := range a.Entries {
				action := "deny"
				if e.Allow {
					action = "allow"
				}
				entries = append(entries, EC2NACLEntry{Rule: e.Number, Egress: e.Egress, Protocol: e.Protocol, Action: action, CIDR: e.CIDR, FromPort: e.From, ToPort: e.To})
			}
		}
	})
	slices.SortFunc(entries, func(a, b EC2NACLEntry) int {
		if a.Egress != b.Egress {
			if a.Egress {
				return 1
			}
			return -1
		}
		return int(a.Rule - b.Rule)
	})
	return acl, entries, ok
}

// EC2Snapshots returns the snapshots of an account in a region.
func (sb *Sandbox) EC2Snapshots(account, region string) []EC2SnapshotState {
	var out []EC2SnapshotState
	sb.ec2Read(account, region, func(r *ec2Region) {
		for _, id := range ec2Sorted(r.snapshots) {
			s := r.snapshots[id]
			out = append(out, EC2SnapshotState{ID: s.ID, Volume: s.Volume, Description: s.Description, Size: s.Size, Tags: ec2CopyTags(r.tags[s.ID])})
		}
	})
	return out
}

// EC2SecurityGroupRules returns the rules of a security group.
func (sb *Sandbox) EC2SecurityGroupRules(account, region, group string) ([]EC2SecurityGroupRule, bool) {
	var out []EC2SecurityGroupRule
	found := false
	sb.ec2Read(account, region, func(r *ec2Region) {
		g := r.groups[group]
		if g == nil {
			return
		}
		found = true
		for _, rule := range g.Rules {
			out = append(out, EC2SecurityGroupRule{Egress: rule.Egress, Protocol: rule.Protocol, FromPort: rule.From, ToPort: rule.To, CIDR: rule.CIDR, Group: rule.Group})
		}
	})
	return out, found
}

// EC2DefaultVPC returns the id of the default VPC of an account in a region.
func (sb *Sandbox) EC2DefaultVPC(account, region string) string {
	var id string
	sb.ec2Read(account, region, func(r *ec2Region) { id = r.defaultVPC })
	return id
}
