package sandbox

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ec2StateCodes are the codes EC2 gives each instance state.
var ec2StateCodes = map[string]int64{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func ec2StateNode(name, state string) *xnNode {
	return xnEl(name, xnInt("code", ec2StateCodes[state]), xnText("name", state))
}

// instance finds an instance by id, checking its shape first.
func (c *ec2Call) instance(id string) (*ec2Instance, error) {
	if err := ec2CheckID(id, "i", "InvalidInstanceID.Malformed"); err != nil {
		return nil, err
	}
	inst := c.r.instances[id]
	if inst == nil {
		return nil, ec2Errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return inst, nil
}

// instances finds every instance of InstanceId.N, reporting all that are
// missing at once as EC2 does.
func (c *ec2Call) instances() ([]*ec2Instance, error) {
	ids := c.p.list("InstanceId")
	if len(ids) == 0 {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var out []*ec2Instance
	var missing []string
	for _, id := range ids {
		if err := ec2CheckID(id, "i", "InvalidInstanceID.Malformed"); err != nil {
			return nil, err
		}
		inst := c.r.instances[id]
		if inst == nil {
			missing = append(missing, id)
			continue
		}
		out = append(out, inst)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, ec2Errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	return nil, ec2Errorf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

// groupsIn resolves security group ids and names to groups of vpc.
func (c *ec2Call) groupsIn(vpc string, ids, names []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		g := c.r.groups[id]
		if g == nil || g.VPC != vpc {
			if g == nil {
				return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", id, vpc)
		}
		out = append(out, id)
	}
	for _, name := range names {
		found := ""
		for _, g := range c.r.groups {
			if g.VPC == vpc && g.Name == name {
				found = g.ID
			}
		}
		if found == "" {
			return nil, ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", name, vpc)
		}
		out = append(out, found)
	}
	return out, nil
}

func (c *ec2Call) runInstances() ([]*xnNode, error) {
	image, err := c.p.required("ImageId")
	if err != nil {
		return nil, err
	}
	minCount, okMin, err := c.p.integer("MinCount")
	if err != nil {
		return nil, err
	}
	maxCount, okMax, err := c.p.integer("MaxCount")
	if err != nil {
		return nil, err
	}
	if !okMin || !okMax {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameters MinCount and MaxCount")
	}
	if minCount < 1 || maxCount < minCount {
		return nil, ec2Errorf("InvalidParameterValue", "Value (%d) for parameter maxCount is invalid. Expected a value of at least minCount (%d) and at least 1.", maxCount, minCount)
	}
	if maxCount > 20 {
		return nil, ec2Errorf("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of 20 allows for the specified instance type.", maxCount)
	}
	token := c.p.str("ClientToken")
	if res, ok := c.r.tokens[token]; ok && token != "" {
		if err := c.commit(); err != nil {
			return nil, err
		}
		return c.reservation(res, ""), nil
	}
	// The primary interface may be described as NetworkInterface.1 instead
	// (as the console and the CLI's --network-interfaces do).
	subnetID, groupIDs := c.p.str("SubnetId"), c.p.list("SecurityGroupId")
	if subnetID == "" {
		subnetID = c.p.str("NetworkInterface.1.SubnetId")
	}
	if len(groupIDs) == 0 {
		groupIDs = c.p.list("NetworkInterface.1.SecurityGroupId")
	}
	publicIP, err := c.p.boolean("NetworkInterface.1.AssociatePublicIpAddress")
	if err != nil {
		return nil, err
	}
	var subnet *ec2Subnet
	if id := subnetID; id != "" {
		if subnet = c.r.subnets[id]; subnet == nil {
			return nil, ec2Errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
	} else {
		for _, id := range ec2Sorted(c.r.subnets) {
			if sn := c.r.subnets[id]; sn.VPC == c.r.defaultVPC && sn.DefaultForAZ {
				subnet = sn
				break
			}
		}
		if subnet == nil {
			return nil, ec2Errorf("VPCIdNotSpecified", "No default VPC for this user")
		}
	}
	groups, err := c.groupsIn(subnet.VPC, groupIDs, c.p.list("SecurityGroup"))
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		groups = []string{c.r.defaultGroup(subnet.VPC).ID}
	}
	tags, err := c.p.tagSpecs("instance", "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	protect, err := c.p.boolean("DisableApiTermination")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	typ := c.p.str("InstanceType")
	if typ == "" {
		typ = "m1.small"
	}
	res := c.id("r")
	for range maxCount {
		inst := &ec2Instance{
			ID: c.id("i"), Reservation: res, Image: image, Type: typ, KeyName: c.p.str("KeyName"),
			State: "running", Launched: c.now, Subnet: subnet.ID, VPC: subnet.VPC, PrivateIP: subnet.nextIP(),
			DisableAPITermination: protect, ClientToken: token, Owner: c.r.account,
		}
		if publicIP || subnet.DefaultForAZ && c.p.str("NetworkInterface.1.AssociatePublicIpAddress") == "" {
			inst.PublicIP = c.s.publicIP()
		}
		c.s.launch(c.r, inst, subnet, groups, c.profile, c.now)
		c.r.setTags(inst.ID, tags["instance"])
		c.r.setTags(inst.ENI, tags["network-interface"])
		c.r.setTags(inst.RootVolume, tags["volume"])
		c.touched(inst.ID)
		c.stateChanged(inst.ID, "pending", "running")
	}
	if token != "" {
		c.r.tokens[token] = res
	}
	return c.reservation(res, "pending"), nil
}

// publicIP hands out an address from 198.51.100.0/24 (TEST-NET-2), so that
// sandbox addresses never collide with real ones.
func (s *ec2Service) publicIP() string {
	v, err := strconv.Atoi(s.sb.IDs().Digits(3))
	if err != nil {
		v = 0 // Digits returns digits; keep the address valid regardless
	}
	return fmt.Sprintf("198.51.100.%d", 1+v%254)
}

// launch wires a new instance: its primary network interface, root volume,
// profile association and console output.
func (s *ec2Service) launch(r *ec2Region, inst *ec2Instance, subnet *ec2Subnet, groups []string, profile *InstanceProfile, now time.Time) {
	ids := s.sb.IDs()
	eni := &ec2ENI{
		ID: ids.Hex("eni-", 17), Subnet: subnet.ID, VPC: subnet.VPC, AZ: subnet.AZ, PrivateIP: inst.PrivateIP,
		Groups: append([]string(nil), groups...), Instance: inst.ID, Attachment: ids.Hex("eni-attach-", 17),
		Status: "in-use", Description: "Primary network interface",
	}
	r.enis[eni.ID] = eni
	inst.ENI = eni.ID
	vol := &ec2Volume{
		ID: ids.Hex("vol-", 17), AZ: subnet.AZ, Type: "gp3", Size: 8, Created: now,
		Instance: inst.ID, Device: "/dev/xvda", State: "in-use",
	}
	r.volumes[vol.ID] = vol
	inst.RootVolume = vol.ID
	if profile != nil {
		a := &ec2ProfileAssoc{ID: ids.Hex("iip-assoc-", 17), Instance: inst.ID, ARN: profile.ARN, ProfileID: profile.ID, State: "associated", Time: now}
		r.profiles[a.ID] = a
	}
	if inst.Console == "" {
		inst.Console = fmt.Sprintf("[    0.000000] Linux version 6.1.0-sandbox\r\n[    1.204512] cloud-init: instance %s booted in %s\r\n", inst.ID, subnet.AZ)
	}
	r.instances[inst.ID] = inst
	inst.seq = len(r.instances)
}

// reservation is the body of RunInstances: one reservation and its
// instances, shown in state (or their own state when state is "").
func (c *ec2Call) reservation(res, state string) []*xnNode {
	var items []*xnNode
	for _, inst := range c.r.sortedInstances() {
		if inst.Reservation == res {
			items = append(items, c.r.instanceNode(inst, state))
		}
	}
	return []*xnNode{
		xnText("reservationId", res), xnText("ownerId", c.r.account), xnEl("groupSet"),
		xnItems("instancesSet", items),
	}
}

func (r *ec2Region) sortedInstances() []*ec2Instance {
	out := make([]*ec2Instance, 0, len(r.instances))
	for _, inst := range r.instances {
		out = append(out, inst)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// activeProfile returns the instance's current profile association.
func (r *ec2Region) activeProfile(instance string) *ec2ProfileAssoc {
	for _, a := range r.profiles {
		if a.Instance == instance && a.State == "associated" {
			return a
		}
	}
	return nil
}

func (r *ec2Region) groupSet(ids []string) *xnNode {
	items := make([]*xnNode, 0, len(ids))
	for _, id := range ids {
		name := ""
		if g := r.groups[id]; g != nil {
			name = g.Name
		}
		items = append(items, xnEl("", xnText("groupId", id), xnText("groupName", name)))
	}
	return xnItems("groupSet", items)
}

// instanceNode is one instance as DescribeInstances shows it.
func (r *ec2Region) instanceNode(inst *ec2Instance, state string) *xnNode {
	if state == "" {
		state = inst.State
	}
	n := xnEl("",
		xnText("instanceId", inst.ID), xnText("imageId", inst.Image), ec2StateNode("instanceState", state),
		xnText("privateDnsName", "ip-"+strings.ReplaceAll(inst.PrivateIP, ".", "-")+"."+r.region+".compute.internal"),
		xnOpt("keyName", inst.KeyName), xnInt("amiLaunchIndex", 0), xnText("instanceType", inst.Type),
		xnTime("launchTime", inst.Launched),
		xnEl("placement", xnText("availabilityZone", r.subnets[inst.Subnet].AZ), xnText("tenancy", "default")),
		xnEl("monitoring", xnText("state", "disabled")),
	)
	if inst.State != "terminated" {
		n.kids = append(n.kids, xnText("subnetId", inst.Subnet), xnText("vpcId", inst.VPC), xnText("privateIpAddress", inst.PrivateIP))
		if inst.PublicIP != "" {
			n.kids = append(n.kids, xnText("ipAddress", inst.PublicIP))
		}
	}
	n.kids = append(n.kids, xnText("architecture", "x86_64"), xnText("rootDeviceType", "ebs"), xnText("rootDeviceName", "/dev/xvda"))
	var bdm, enis []*xnNode
	var groups []string
	if v := r.volumes[inst.RootVolume]; v != nil && v.Instance == inst.ID {
		bdm = append(bdm, xnEl("", xnText("deviceName", v.Device), xnEl("ebs",
			xnText("volumeId", v.ID), xnText("status", "attached"), xnTime("attachTime", v.Created), xnBool("deleteOnTermination", true))))
	}
	if e := r.enis[inst.ENI]; e != nil {
		groups = e.Groups
		enis = append(enis, r.instanceENINode(e))
	}
	n.kids = append(n.kids, xnItems("blockDeviceMapping", bdm), xnText("virtualizationType", "hvm"))
	if inst.ClientToken != "" {
		n.kids = append(n.kids, xnText("clientToken", inst.ClientToken))
	}
	n.kids = append(n.kids, r.tagSet(inst.ID), r.groupSet(groups), xnBool("sourceDestCheck", true), xnText("hypervisor", "xen"),
		xnItems("networkInterfaceSet", enis))
	if a := r.activeProfile(inst.ID); a != nil {
		n.kids = append(n.kids, xnEl("iamInstanceProfile", xnText("arn", a.ARN), xnText("id", a.ProfileID)))
	}
	n.kids = append(n.kids, xnBool("ebsOptimized", false), xnBool("enaSupport", true))
	return n
}

func (r *ec2Region) instanceENINode(e *ec2ENI) *xnNode {
	return xnEl("",
		xnText("networkInterfaceId", e.ID), xnText("subnetId", e.Subnet), xnText("vpcId", e.VPC),
		xnText("description", e.Description), xnText("ownerId", r.account), xnText("status", e.Status),
		xnText("privateIpAddress", e.PrivateIP), xnBool("sourceDestCheck", true), r.groupSet(e.Groups),
		xnEl("attachment", xnText("attachmentId", e.Attachment), xnInt("deviceIndex", 0), xnText("status", "attached"),
			xnBool("deleteOnTermination", true)),
		xnText("interfaceType", "interface"),
	)
}

// instanceFields are the DescribeInstances filters.
func (r *ec2Region) instanceFields(inst *ec2Instance) func(string) ([]string, bool) {
	return func(name string) ([]string, bool) {
		switch name {
		case "instance-id":
			return []string{inst.ID}, true
		case "instance-state-name":
			return []string{inst.State}, true
		case "instance-state-code":
			return []string{fmt.Sprint(ec2StateCodes[inst.State])}, true
		case "vpc-id":
			return []string{inst.VPC}, true
		case "subnet-id":
			return []string{inst.Subnet}, true
		case "instance-type":
			return []string{inst.Type}, true
		case "image-id":
			return []string{inst.Image}, true
		case "reservation-id":
			return []string{inst.Reservation}, true
		case "key-name":
			return []string{inst.KeyName}, true
		case "private-ip-address":
			return []string{inst.PrivateIP}, true
		case "ip-address":
			return []string{inst.PublicIP}, true
		case "availability-zone":
			return []string{r.subnets[inst.Subnet].AZ}, true
		case "network-interface.network-interface-id":
			return []string{inst.ENI}, true
		case "instance.group-id", "network-interface.group-id":
			if e := r.enis[inst.ENI]; e != nil {
				return e.Groups, true
			}
			return nil, true
		case "iam-instance-profile.arn":
			if a := r.activeProfile(inst.ID); a != nil {
				return []string{a.ARN}, true
			}
			return nil, true
		}
		return nil, false
	}
}

func (c *ec2Call) describeInstances() ([]*xnNode, error) {
	ids := c.p.list("InstanceId")
	if len(ids) > 0 && c.p.str("MaxResults") != "" {
		return nil, ec2Errorf("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	var candidates []*ec2Instance
	if len(ids) > 0 {
		found, err := c.instances()
		if err != nil {
			return nil, err
		}
		candidates = found
	} else {
		candidates = c.r.sortedInstances()
	}
	filters := c.p.filters()
	var matched []*ec2Instance
	for _, inst := range candidates {
		ok, err := ec2Match(filters, c.r.tags[inst.ID], c.r.instanceFields(inst))
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, inst)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	// Consecutive instances of one reservation share a reservation item.
	var reservations []*xnNode
	var current *xnNode
	var currentID string
	for _, inst := range matched[lo:hi] {
		if current == nil || inst.Reservation != currentID {
			currentID = inst.Reservation
			current = xnItems("instancesSet", nil)
			reservations = append(reservations, xnEl("", xnText("reservationId", inst.Reservation),
				xnText("ownerId", c.r.account), xnEl("groupSet"), current))
		}
		item := c.r.instanceNode(inst, "")
		item.name = "item"
		current.kids = append(current.kids, item)
	}
	return []*xnNode{xnItems("reservationSet", reservations), xnOpt("nextToken", next)}, nil
}

// transition moves every instance of InstanceId.N: allowed says which
// states may move and to what stored state; shown is the state the
// response reports (EC2 answers with the in-between state).
func (c *ec2Call) transition(move func(inst *ec2Instance) (stored, shown string, err error)) ([]*xnNode, error) {
	insts, err := c.instances()
	if err != nil {
		return nil, err
	}
	type change struct {
		inst                  *ec2Instance
		prev, stored, current string
	}
	var changes []change
	for _, inst := range insts {
		stored, shown, err := move(inst)
		if err != nil {
			return nil, err
		}
		changes = append(changes, change{inst, inst.State, stored, shown})
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, ch := range changes {
		ch.inst.State = ch.stored
		c.touched(ch.inst.ID)
		if ch.prev != ch.stored {
			c.stateChanged(ch.inst.ID, ch.current, ch.stored)
		}
		items = append(items, xnEl("", xnText("instanceId", ch.inst.ID),
			ec2StateNode("currentState", ch.current), ec2StateNode("previousState", ch.prev)))
	}
	return []*xnNode{xnItems("instancesSet", items)}, nil
}

func ec2IncorrectState(inst *ec2Instance, verb string) error {
	return ec2Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be %s.", inst.ID, verb)
}

func (c *ec2Call) stopInstances() ([]*xnNode, error) {
	return c.transition(func(inst *ec2Instance) (string, string, error) {
		switch inst.State {
		case "running", "pending", "stopping":
			return "stopped", "stopping", nil
		case "stopped":
			return "stopped", "stopped", nil
		}
		return "", "", ec2IncorrectState(inst, "stopped")
	})
}

func (c *ec2Call) startInstances() ([]*xnNode, error) {
	return c.transition(func(inst *ec2Instance) (string, string, error) {
		switch inst.State {
		case "stopped", "stopping":
			// As in EC2, LaunchTime is the last start, not the first.
			inst.Launched = c.now
			return "running", "pending", nil
		case "running", "pending":
			return "running", "running", nil
		}
		return "", "", ec2IncorrectState(inst, "started")
	})
}

func (c *ec2Call) terminateInstances() ([]*xnNode, error) {
	insts, err := c.instances()
	if err != nil {
		return nil, err
	}
	for _, inst := range insts {
		if inst.DisableAPITermination && inst.State != "terminated" {
			return nil, ec2Errorf("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", inst.ID)
		}
	}
	out, err := c.transition(func(inst *ec2Instance) (string, string, error) {
		if inst.State == "terminated" {
			return "terminated", "terminated", nil
		}
		return "terminated", "shutting-down", nil
	})
	if err != nil {
		return nil, err
	}
	// Terminated instances stay visible; what they held goes.
	for _, inst := range insts {
		if e := c.r.enis[inst.ENI]; e != nil {
			delete(c.r.enis, e.ID)
			delete(c.r.tags, e.ID)
		}
		if v := c.r.volumes[inst.RootVolume]; v != nil && v.Instance == inst.ID {
			delete(c.r.volumes, v.ID)
			delete(c.r.tags, v.ID)
		}
		if a := c.r.activeProfile(inst.ID); a != nil {
			delete(c.r.profiles, a.ID)
		}
	}
	return out, nil
}

func (c *ec2Call) rebootInstances() ([]*xnNode, error) {
	insts, err := c.instances()
	if err != nil {
		return nil, err
	}
	for _, inst := range insts {
		if inst.State != "running" {
			return nil, ec2IncorrectState(inst, "rebooted")
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	for _, inst := range insts {
		inst.Console += fmt.Sprintf("[    0.000000] reboot requested at %s\r\n", c.now.Format("2006-01-02T15:04:05Z"))
		c.touched(inst.ID)
	}
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) modifyInstanceAttribute() ([]*xnNode, error) {
	id, err := c.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	inst, err := c.instance(id)
	if err != nil {
		return nil, err
	}
	if inst.State == "terminated" {
		return nil, ec2IncorrectState(inst, "modified")
	}
	var apply []func()
	if groups := c.p.list("GroupId"); len(groups) > 0 {
		ids, err := c.groupsIn(inst.VPC, groups, nil)
		if err != nil {
			return nil, err
		}
		apply = append(apply, func() { c.r.enis[inst.ENI].Groups = ids })
	}
	protect := c.p.str("DisableApiTermination.Value")
	if c.p.str("Attribute") == "disableApiTermination" {
		protect = c.p.str("Value")
	}
	if protect != "" {
		v, err := ec2Params{"v": {protect}}.boolean("v")
		if err != nil {
			return nil, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter disableApiTermination is invalid. Expected a boolean.", protect)
		}
		apply = append(apply, func() { inst.DisableAPITermination = v })
	}
	if t := c.p.str("InstanceType.Value"); t != "" {
		if inst.State != "stopped" {
			return nil, ec2Errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", inst.ID)
		}
		apply = append(apply, func() { inst.Type = t })
	}
	if len(apply) == 0 {
		if a := c.p.str("Attribute"); a != "" {
			return nil, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. The sandbox modifies only groupId, disableApiTermination and instanceType.", a)
		}
		return nil, ec2Errorf("MissingParameter", "No attributes specified.")
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	for _, f := range apply {
		f()
	}
	c.touched(inst.ID)
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) describeInstanceAttribute() ([]*xnNode, error) {
	id, err := c.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	attr, err := c.p.required("Attribute")
	if err != nil {
		return nil, err
	}
	inst, err := c.instance(id)
	if err != nil {
		return nil, err
	}
	var v *xnNode
	switch attr {
	case "disableApiTermination":
		v = xnEl("disableApiTermination", xnBool("value", inst.DisableAPITermination))
	case "groupSet":
		var groups []string
		if e := c.r.enis[inst.ENI]; e != nil {
			groups = e.Groups
		}
		v = c.r.groupSet(groups)
	case "instanceType":
		v = xnEl("instanceType", xnText("value", inst.Type))
	case "rootDeviceName":
		v = xnEl("rootDeviceName", xnText("value", "/dev/xvda"))
	case "sourceDestCheck":
		v = xnEl("sourceDestCheck", xnBool("value", true))
	case "userData":
		v = xnEl("userData")
	default:
		return nil, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	return []*xnNode{xnText("instanceId", inst.ID), v}, nil
}

func (c *ec2Call) getConsoleOutput() ([]*xnNode, error) {
	id, err := c.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	inst, err := c.instance(id)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	return []*xnNode{xnText("instanceId", inst.ID), xnTime("timestamp", c.now),
		xnText("output", base64.StdEncoding.EncodeToString([]byte(inst.Console)))}, nil
}

// Instance profile associations.

func (c *ec2Call) profileNode(a *ec2ProfileAssoc, state string) *xnNode {
	if state == "" {
		state = a.State
	}
	return xnEl("", xnText("associationId", a.ID), xnText("instanceId", a.Instance),
		xnEl("iamInstanceProfile", xnText("arn", a.ARN), xnText("id", a.ProfileID)),
		xnText("state", state), xnTime("timestamp", a.Time))
}

func (c *ec2Call) needProfile() error {
	if c.profile == nil {
		return ec2Errorf("MissingParameter", "The request must contain the parameter IamInstanceProfile")
	}
	return nil
}

func (c *ec2Call) associateIamInstanceProfile() ([]*xnNode, error) {
	id, err := c.p.required("InstanceId")
	if err != nil {
		return nil, err
	}
	inst, err := c.instance(id)
	if err != nil {
		return nil, err
	}
	if err := c.needProfile(); err != nil {
		return nil, err
	}
	if inst.State == "terminated" || inst.State == "shutting-down" {
		return nil, ec2IncorrectState(inst, "associated")
	}
	if c.r.activeProfile(inst.ID) != nil {
		return nil, ec2Errorf("IncorrectState", "There is an existing association for instance %s", inst.ID)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	a := &ec2ProfileAssoc{ID: c.id("iip-assoc"), Instance: inst.ID, ARN: c.profile.ARN, ProfileID: c.profile.ID, State: "associated", Time: c.now}
	c.r.profiles[a.ID] = a
	c.touched(inst.ID)
	n := c.profileNode(a, "associating")
	n.name = "iamInstanceProfileAssociation"
	return []*xnNode{n}, nil
}

func (c *ec2Call) association() (*ec2ProfileAssoc, error) {
	id, err := c.p.required("AssociationId")
	if err != nil {
		return nil, err
	}
	a := c.r.profiles[id]
	if a == nil {
		return nil, ec2Errorf("InvalidAssociationID.NotFound", "An association with ID %s does not exist.", id)
	}
	return a, nil
}

func (c *ec2Call) replaceIamInstanceProfileAssociation() ([]*xnNode, error) {
	old, err := c.association()
	if err != nil {
		return nil, err
	}
	if err := c.needProfile(); err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	delete(c.r.profiles, old.ID)
	a := &ec2ProfileAssoc{ID: c.id("iip-assoc"), Instance: old.Instance, ARN: c.profile.ARN, ProfileID: c.profile.ID, State: "associated", Time: c.now}
	c.r.profiles[a.ID] = a
	c.touched(a.Instance)
	n := c.profileNode(a, "associating")
	n.name = "iamInstanceProfileAssociation"
	return []*xnNode{n}, nil
}

func (c *ec2Call) disassociateIamInstanceProfile() ([]*xnNode, error) {
	a, err := c.association()
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	delete(c.r.profiles, a.ID)
	c.touched(a.Instance)
	n := c.profileNode(a, "disassociating")
	n.name = "iamInstanceProfileAssociation"
	return []*xnNode{n}, nil
}

func (c *ec2Call) describeIamInstanceProfileAssociations() ([]*xnNode, error) {
	want := c.p.list("AssociationId")
	for _, id := range want {
		if c.r.profiles[id] == nil {
			return nil, ec2Errorf("InvalidAssociationID.NotFound", "An association with ID %s does not exist.", id)
		}
	}
	filters := c.p.filters()
	var matched []*ec2ProfileAssoc
	for _, id := range ec2Sorted(c.r.profiles) {
		a := c.r.profiles[id]
		if len(want) > 0 && !ec2AnyMatch(want, []string{id}) {
			continue
		}
		ok, err := ec2Match(filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "instance-id":
				return []string{a.Instance}, true
			case "state":
				return []string{a.State}, true
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
		items = append(items, c.profileNode(a, ""))
	}
	return []*xnNode{xnItems("iamInstanceProfileAssociationSet", items), xnOpt("nextToken", next)}, nil
}
