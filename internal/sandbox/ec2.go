package sandbox

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ec2Namespace is the xmlns of every ec2Query response.
const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// ec2Service simulates the EC2 API (ec2Query protocol): instances and their
// network interfaces, volumes and instance-profile associations, VPCs,
// subnets, security groups, network ACLs, snapshots and tags. State is per
// account and region, created on first use with a default VPC.
type ec2Service struct {
	sb *Sandbox

	mu      sync.Mutex
	regions map[string]*ec2Region // account + "/" + region
}

func newEC2Service(sb *Sandbox) Service {
	return &ec2Service{sb: sb, regions: map[string]*ec2Region{}}
}

func (s *ec2Service) Info() ServiceInfo {
	return ServiceInfo{SigningName: "ec2", Protocol: ProtocolEC2, XMLNamespace: ec2Namespace}
}

// ec2Region is the EC2 state of one account in one region.
type ec2Region struct {
	account, region string

	vpcs       map[string]*ec2VPC
	subnets    map[string]*ec2Subnet
	groups     map[string]*ec2Group
	nacls      map[string]*ec2NACL
	instances  map[string]*ec2Instance
	enis       map[string]*ec2ENI
	volumes    map[string]*ec2Volume
	snapshots  map[string]*ec2Snapshot
	profiles   map[string]*ec2ProfileAssoc // by association id
	prefixes   map[string]*ec2PrefixList
	tags       map[string]map[string]string // resource id → key → value
	tokens     map[string]string            // RunInstances ClientToken → reservation id
	defaultVPC string
}

type ec2VPC struct {
	ID        string
	CIDR      string
	IsDefault bool
}

type ec2Subnet struct {
	ID, VPC, CIDR, AZ string
	DefaultForAZ      bool
	next              int // last host number handed out
}

// ec2Group is a security group; rules are kept one per peer, as
// DescribeSecurityGroupRules shows them.
type ec2Group struct {
	ID, Name, Description, VPC string
	Rules                      []*ec2Rule
}

type ec2Rule struct {
	ID          string
	Egress      bool
	Protocol    string // "tcp", "udp", "icmp", "-1"
	From, To    int64
	CIDR        string
	CIDRv6      string
	Group       string // referenced security group
	PrefixList  string
	Description string
}

type ec2NACL struct {
	ID, VPC   string
	IsDefault bool
	Entries   []ec2NACLEntry
	Assoc     map[string]string // subnet id → association id
}

// ec2NACLEntry is one numbered rule; rule 32767 is the implicit deny-all
// every ACL ends with.
type ec2NACLEntry struct {
	Number   int64
	Egress   bool
	Protocol string
	Allow    bool
	CIDR     string
	From, To int64
	HasPorts bool
}

type ec2Instance struct {
	ID, Reservation, Image, Type, KeyName string
	State                                 string
	Launched                              time.Time
	Subnet, VPC, PrivateIP, PublicIP      string
	ENI, RootVolume                       string
	DisableAPITermination                 bool
	ClientToken                           string
	Owner                                 string // requester's account
	Console                               string
	seq                                   int // launch order
}

type ec2ENI struct {
	ID, Subnet, VPC, AZ, PrivateIP, Description string
	Groups                                      []string
	Instance, Attachment                        string
	Status                                      string // "in-use", "available"
}

type ec2Volume struct {
	ID, AZ, Type, Snapshot string
	Size                   int64
	Created                time.Time
	Instance, Device       string
	State                  string // "in-use", "available"
}

type ec2Snapshot struct {
	ID, Volume, Description string
	Size                    int64
	Started                 time.Time
}

type ec2ProfileAssoc struct {
	ID, Instance, ARN, ProfileID string
	State                        string // "associated", "disassociated"
	Time                         time.Time
}

type ec2PrefixList struct {
	ID, Name, Family string
	Max, Version     int64
	Entries          []ec2Tag // Key is the CIDR, Value the description
}

func (s *ec2Service) region(account, region string) *ec2Region {
	key := account + "/" + region
	r := s.regions[key]
	if r == nil {
		r = &ec2Region{
			account: account, region: region,
			vpcs: map[string]*ec2VPC{}, subnets: map[string]*ec2Subnet{}, groups: map[string]*ec2Group{},
			nacls: map[string]*ec2NACL{}, instances: map[string]*ec2Instance{}, enis: map[string]*ec2ENI{},
			volumes: map[string]*ec2Volume{}, snapshots: map[string]*ec2Snapshot{}, profiles: map[string]*ec2ProfileAssoc{},
			prefixes: map[string]*ec2PrefixList{}, tags: map[string]map[string]string{}, tokens: map[string]string{},
		}
		s.regions[key] = r
		vpc := s.newVPC(r, "172.31.0.0/16", true)
		r.defaultVPC = vpc.ID
		for i, az := range []string{"a", "b"} {
			sn := s.newSubnet(r, vpc.ID, fmt.Sprintf("172.31.%d.0/20", i*16), region+az)
			sn.DefaultForAZ = true
		}
	}
	return r
}

// newVPC creates a VPC with its default security group and network ACL.
func (s *ec2Service) newVPC(r *ec2Region, cidr string, isDefault bool) *ec2VPC {
	ids := s.sb.IDs()
	vpc := &ec2VPC{ID: ids.Hex("vpc-", 17), CIDR: cidr, IsDefault: isDefault}
	r.vpcs[vpc.ID] = vpc
	sg := &ec2Group{ID: ids.Hex("sg-", 17), Name: "default", Description: "default VPC security group", VPC: vpc.ID}
	sg.Rules = []*ec2Rule{
		{ID: ids.Hex("sgr-", 17), Protocol: "-1", From: -1, To: -1, Group: sg.ID},
		{ID: ids.Hex("sgr-", 17), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"},
	}
	r.groups[sg.ID] = sg
	acl := &ec2NACL{ID: ids.Hex("acl-", 17), VPC: vpc.ID, IsDefault: true, Assoc: map[string]string{}}
	acl.Entries = []ec2NACLEntry{
		{Number: 100, Protocol: "-1", Allow: true, CIDR: "0.0.0.0/0"},
		{Number: 100, Egress: true, Protocol: "-1", Allow: true, CIDR: "0.0.0.0/0"},
	}
	r.nacls[acl.ID] = acl
	return vpc
}

// newSubnet creates a subnet associated with its VPC's default network ACL.
func (s *ec2Service) newSubnet(r *ec2Region, vpc, cidr, az string) *ec2Subnet {
	sn := &ec2Subnet{ID: s.sb.IDs().Hex("subnet-", 17), VPC: vpc, CIDR: cidr, AZ: az, next: 3}
	r.subnets[sn.ID] = sn
	if acl := r.defaultNACL(vpc); acl != nil {
		acl.Assoc[sn.ID] = s.sb.IDs().Hex("aclassoc-", 17)
	}
	return sn
}

func (r *ec2Region) defaultNACL(vpc string) *ec2NACL {
	for _, a := range r.nacls {
		if a.VPC == vpc && a.IsDefault {
			return a
		}
	}
	return nil
}

func (r *ec2Region) defaultGroup(vpc string) *ec2Group {
	for _, g := range r.groups {
		if g.VPC == vpc && g.Name == "default" {
			return g
		}
	}
	return nil
}

// nextIP hands out the next private address of a subnet.
func (sn *ec2Subnet) nextIP() string {
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil || !p.Addr().Is4() {
		return ""
	}
	sn.next++
	a := p.Masked().Addr().As4()
	binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])+uint32(sn.next&0xffffff)) //nolint:gosec // masked to 24 bits
	return netip.AddrFrom4(a).String()
}

// ec2Call is one request as an operation sees it, with the region's state
// already locked.
type ec2Call struct {
	s       *ec2Service
	r       *ec2Region
	req     *Request
	p       ec2Params
	dry     bool
	now     time.Time
	profile *InstanceProfile // resolved before locking, for the calls that name one
	trail   []TrailResource
	events  []BusEvent // published after the lock is released
}

// stateChanged queues the "EC2 Instance State-change Notification" events
// EC2 sends on the bus for each state an instance passes through.
func (c *ec2Call) stateChanged(id string, states ...string) {
	prev := ""
	for _, st := range states {
		if st == prev {
			continue
		}
		prev = st
		detail, _ := json.Marshal(map[string]string{"instance-id": id, "state": st})
		c.events = append(c.events, BusEvent{
			Source: "aws.ec2", DetailType: "EC2 Instance State-change Notification",
			Account: c.r.account, Region: c.r.region, Time: c.now,
			Resources: []string{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", c.r.region, c.r.account, id)},
			Detail:    detail,
		})
	}
}

// commit returns DryRunOperation for a dry run that got this far: every
// check before it passed.
func (c *ec2Call) commit() error {
	if c.dry {
		return ec2DryRun()
	}
	return nil
}

func (c *ec2Call) id(prefix string) string { return c.s.sb.IDs().Hex(prefix+"-", 17) }

// touched records a resource for the call's CloudTrail record.
func (c *ec2Call) touched(id string) {
	typ, kind := ec2ResourceType(id)
	c.trail = append(c.trail, TrailResource{
		Type: typ, Name: id,
		ARN: fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", c.r.region, c.r.account, kind, id),
	})
}

// ec2ResourceType maps an id to its CloudFormation type and the resource
// type EC2 uses in ARNs and DescribeTags.
func ec2ResourceType(id string) (cfn, kind string) {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "i":
		return "AWS::EC2::Instance", "instance"
	case "sg":
		return "AWS::EC2::SecurityGroup", "security-group"
	case "sgr":
		return "AWS::EC2::SecurityGroupRule", "security-group-rule"
	case "vpc":
		return "AWS::EC2::VPC", "vpc"
	case "subnet":
		return "AWS::EC2::Subnet", "subnet"
	case "acl":
		return "AWS::EC2::NetworkAcl", "network-acl"
	case "eni":
		return "AWS::EC2::NetworkInterface", "network-interface"
	case "vol":
		return "AWS::EC2::Volume", "volume"
	case "snap":
		return "AWS::EC2::Snapshot", "snapshot"
	case "pl":
		return "AWS::EC2::PrefixList", "prefix-list"
	case "r":
		return "AWS::EC2::Reservation", "reservation"
	}
	return "AWS::EC2::Resource", "resource"
}

// exists reports whether id names a taggable resource in the region.
func (r *ec2Region) exists(id string) bool {
	switch {
	case r.instances[id] != nil:
		return true
	case r.groups[id] != nil, r.vpcs[id] != nil, r.subnets[id] != nil, r.nacls[id] != nil:
		return true
	case r.enis[id] != nil, r.volumes[id] != nil, r.snapshots[id] != nil, r.prefixes[id] != nil:
		return true
	}
	return false
}

func (r *ec2Region) setTags(id string, tags []ec2Tag) {
	if len(tags) == 0 {
		return
	}
	m := r.tags[id]
	if m == nil {
		m = map[string]string{}
		r.tags[id] = m
	}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
}

// tagSet is the <tagSet> of a resource, sorted by key.
func (r *ec2Region) tagSet(id string) *xnNode {
	m := r.tags[id]
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]*xnNode, len(keys))
	for i, k := range keys {
		items[i] = xnEl("", xnText("key", k), xnText("value", m[k]))
	}
	return xnItems("tagSet", items)
}

// ec2Sorted returns the keys of m in order. Ids are random hex, so this is
// a stable but arbitrary order, as EC2's is.
func ec2Sorted[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ec2Op is one EC2 operation: it returns the children of the response
// element.
type ec2Op func(c *ec2Call) ([]*xnNode, error)

// ec2Ops lists the operations the sandbox serves.
var ec2Ops = map[string]ec2Op{
	"AssociateIamInstanceProfile":            (*ec2Call).associateIamInstanceProfile,
	"AuthorizeSecurityGroupEgress":           (*ec2Call).authorizeEgress,
	"AuthorizeSecurityGroupIngress":          (*ec2Call).authorizeIngress,
	"CreateManagedPrefixList":                (*ec2Call).createManagedPrefixList,
	"CreateNetworkAcl":                       (*ec2Call).createNetworkACL,
	"CreateNetworkAclEntry":                  (*ec2Call).createNetworkACLEntry,
	"CreateSecurityGroup":                    (*ec2Call).createSecurityGroup,
	"CreateSnapshot":                         (*ec2Call).createSnapshot,
	"CreateSubnet":                           (*ec2Call).createSubnet,
	"CreateTags":                             (*ec2Call).createTags,
	"CreateVpc":                              (*ec2Call).createVPC,
	"DeleteNetworkAclEntry":                  (*ec2Call).deleteNetworkACLEntry,
	"DeleteSecurityGroup":                    (*ec2Call).deleteSecurityGroup,
	"DeleteSnapshot":                         (*ec2Call).deleteSnapshot,
	"DeleteTags":                             (*ec2Call).deleteTags,
	"DescribeIamInstanceProfileAssociations": (*ec2Call).describeIamInstanceProfileAssociations,
	"DescribeInstanceAttribute":              (*ec2Call).describeInstanceAttribute,
	"DescribeInstances":                      (*ec2Call).describeInstances,
	"DescribeManagedPrefixLists":             (*ec2Call).describeManagedPrefixLists,
	"DescribeNetworkAcls":                    (*ec2Call).describeNetworkACLs,
	"DescribeNetworkInterfaces":              (*ec2Call).describeNetworkInterfaces,
	"DescribeRegions":                        (*ec2Call).describeRegions,
	"DescribeSecurityGroupRules":             (*ec2Call).describeSecurityGroupRules,
	"DescribeSecurityGroups":                 (*ec2Call).describeSecurityGroups,
	"DescribeSnapshots":                      (*ec2Call).describeSnapshots,
	"DescribeSubnets":                        (*ec2Call).describeSubnets,
	"DescribeTags":                           (*ec2Call).describeTags,
	"DescribeVolumes":                        (*ec2Call).describeVolumes,
	"DescribeVpcs":                           (*ec2Call).describeVPCs,
	"DisassociateIamInstanceProfile":         (*ec2Call).disassociateIamInstanceProfile,
	"GetConsoleOutput":                       (*ec2Call).getConsoleOutput,
	"GetManagedPrefixListEntries":            (*ec2Call).getManagedPrefixListEntries,
	"ModifyInstanceAttribute":                (*ec2Call).modifyInstanceAttribute,
	"ModifyManagedPrefixList":                (*ec2Call).modifyManagedPrefixList,
	"ModifyNetworkInterfaceAttribute":        (*ec2Call).modifyNetworkInterfaceAttribute,
	"RebootInstances":                        (*ec2Call).rebootInstances,
	"ReplaceIamInstanceProfileAssociation":   (*ec2Call).replaceIamInstanceProfileAssociation,
	"ReplaceNetworkAclAssociation":           (*ec2Call).replaceNetworkACLAssociation,
	"ReplaceNetworkAclEntry":                 (*ec2Call).replaceNetworkACLEntry,
	"RevokeSecurityGroupEgress":              (*ec2Call).revokeEgress,
	"RevokeSecurityGroupIngress":             (*ec2Call).revokeIngress,
	"RunInstances":                           (*ec2Call).runInstances,
	"StartInstances":                         (*ec2Call).startInstances,
	"StopInstances":                          (*ec2Call).stopInstances,
	"TerminateInstances":                     (*ec2Call).terminateInstances,
}

// Handle serves one EC2 request.
func (s *ec2Service) Handle(ctx context.Context, req *Request) (*Response, error) {
	op := ec2Ops[req.Operation]
	if op == nil {
		return nil, ec2Errorf("InvalidAction", "The action %s is not valid for this web service.", req.Operation)
	}
	p := ec2Params(req.Form)
	dry, err := p.dryRun()
	if err != nil {
		return nil, err
	}
	c := &ec2Call{s: s, req: req, p: p, dry: dry, now: req.Time}
	if c.now.IsZero() {
		c.now = s.sb.Now()
	}
	// Instance profiles live in IAM: look them up before taking our lock.
	if err := c.resolveProfile(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c.r = s.region(req.Caller.Account, req.Region)
	kids, err := op(c)
	s.mu.Unlock()
	for _, ev := range c.events {
		if perr := s.sb.Publish(ctx, ev); perr != nil {
			return nil, fmt.Errorf("ec2 %s: %w", req.Operation, perr)
		}
	}

	req.Trail.RequestParameters = ec2TrailParameters(p)
	req.Trail.Resources = c.trail
	if err != nil {
		return nil, err
	}
	if !req.Trail.ReadOnly {
		req.Trail.ResponseElements = ec2TrailResponse(req.RequestID, kids)
	}
	body := xnEl(req.Operation+"Response", append([]*xnNode{xnText("requestId", req.RequestID)}, kids...)...)
	body.xnAttr("xmlns", ec2Namespace)
	h := http.Header{}
	h.Set("Content-Type", "text/xml;charset=UTF-8")
	return &Response{Status: http.StatusOK, Header: h, Body: xnDocument(body)}, nil
}

// resolveProfile looks up the instance profile a call names
// (IamInstanceProfile.Arn or .Name).
func (c *ec2Call) resolveProfile() error {
	arn, name := c.p.str("IamInstanceProfile.Arn"), c.p.str("IamInstanceProfile.Name")
	if arn == "" && name == "" {
		return nil
	}
	ref := arn
	if ref == "" {
		ref = name
	}
	ip, ok := c.s.sb.InstanceProfile(c.req.Caller.Account, ref)
	if !ok {
		if arn != "" {
			return ec2Errorf("InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
		}
		return ec2Errorf("InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", name)
	}
	c.profile = &ip
	return nil
}

// ec2TrailResponse is CloudTrail's responseElements for a call that
// changed something: the response document as JSON, lists as
// {"items": [...]}, "return" as "_return", as CloudTrail writes EC2's.
func ec2TrailResponse(requestID string, kids []*xnNode) map[string]any {
	out := map[string]any{"requestId": requestID}
	for _, k := range kids {
		if k == nil {
			continue
		}
		name := k.name
		if name == "return" {
			name = "_return"
		}
		out[name] = xnJSON(k)
	}
	return out
}

func xnJSON(n *xnNode) any {
	if n.leaf {
		switch n.text {
		case "true":
			return true
		case "false":
			return false
		}
		return n.text
	}
	var kids []*xnNode
	for _, k := range n.kids {
		if k != nil {
			kids = append(kids, k)
		}
	}
	if len(kids) > 0 && !slices.ContainsFunc(kids, func(k *xnNode) bool { return k.name != "item" }) {
		items := make([]any, len(kids))
		for i, k := range kids {
			items[i] = xnJSON(k)
		}
		return map[string]any{"items": items}
	}
	m := map[string]any{}
	for _, k := range kids {
		m[k.name] = xnJSON(k)
	}
	return m
}

// ec2TrailParameters turns the form into CloudTrail's requestParameters:
// lowerCamel keys, Name.N lists as arrays, Name.N.Member as arrays of
// objects.
func ec2TrailParameters(p ec2Params) map[string]any {
	out := map[string]any{}
	for k, vs := range p {
		if k == "Action" || k == "Version" || len(vs) == 0 {
			continue
		}
		v := vs[0]
		if strings.EqualFold(k, "UserData") || strings.HasSuffix(k, ".UserData") {
			v = "<sensitiveDataRemoved>" // as CloudTrail writes it: user data may hold secrets
		}
		ec2TrailPut(out, strings.Split(k, "."), v)
	}
	return out
}

func ec2TrailPut(m map[string]any, path []string, v string) {
	key := ec2LowerCamel(path[0])
	if len(path) == 1 {
		m[key] = v
		return
	}
	// Name.N...: a list, kept as a map from index until converted below.
	list, _ := m[key].([]any)
	var n int
	if _, err := fmt.Sscan(path[1], &n); err != nil || n < 1 || n > 1000 {
		sub, _ := m[key].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			m[key] = sub
		}
		ec2TrailPut(sub, path[1:], v)
		return
	}
	for len(list) < n {
		list = append(list, nil)
	}
	if len(path) == 2 {
		list[n-1] = v
	} else {
		sub, _ := list[n-1].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		ec2TrailPut(sub, path[2:], v)
		list[n-1] = sub
	}
	m[key] = list
}

func ec2LowerCamel(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
