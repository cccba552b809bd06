package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// This file is what Auto Scaling (autoscaling.go) and GuardDuty's finding
// builder reach of the EC2 state. Every function takes the EC2 lock itself;
// callers must not hold their own.

// asGroupTag is the tag Auto Scaling puts on the instances of a group.
const asGroupTag = "aws:autoscaling:groupName"

// ec2LaunchSpec is what an Auto Scaling group launches instances from: the
// launch template it would have, taken from the group's first instance.
type ec2LaunchSpec struct {
	Image, Type, Subnet string
	Groups              []string
	ProfileARN          string
	PublicIP            bool
}

// ec2FleetInstance is an instance as Auto Scaling sees it.
type ec2FleetInstance struct {
	ID, AZ, Type, Image, State, Subnet string
	Spec                               ec2LaunchSpec
}

func (r *ec2Region) fleetInstance(inst *ec2Instance) ec2FleetInstance {
	fi := ec2FleetInstance{ID: inst.ID, Type: inst.Type, Image: inst.Image, State: inst.State, Subnet: inst.Subnet}
	if sn := r.subnets[inst.Subnet]; sn != nil {
		fi.AZ = sn.AZ
	}
	fi.Spec = ec2LaunchSpec{Image: inst.Image, Type: inst.Type, Subnet: inst.Subnet, PublicIP: inst.PublicIP != ""}
	if e := r.enis[inst.ENI]; e != nil {
		fi.Spec.Groups = slices.Clone(e.Groups)
	}
	if a := r.activeProfile(inst.ID); a != nil {
		fi.Spec.ProfileARN = a.ARN
	}
	return fi
}

// ec2FleetFind returns the instance whose id, or else whose Name tag, is
// ref. More than one instance of that name is an error.
func (sb *Sandbox) ec2FleetFind(account, region, ref string) (ec2FleetInstance, error) {
	var out ec2FleetInstance
	err := fmt.Errorf("no instance %q in account %s, %s", ref, account, region)
	sb.ec2Read(account, region, func(r *ec2Region) {
		if inst := r.instances[ref]; inst != nil {
			out, err = r.fleetInstance(inst), nil
			return
		}
		var found []*ec2Instance
		for _, inst := range r.sortedInstances() {
			if r.tags[inst.ID]["Name"] == ref && inst.State != "terminated" {
				found = append(found, inst)
			}
		}
		switch len(found) {
		case 0:
		case 1:
			out, err = r.fleetInstance(found[0]), nil
		default:
			err = fmt.Errorf("%d instances are named %q in account %s, %s: use an instance id", len(found), ref, account, region)
		}
	})
	return out, err
}

// ec2FleetTag sets (group != "") or removes the aws:autoscaling:groupName
// tag of instances, and sets extra tags when attaching.
func (sb *Sandbox) ec2FleetTag(account, region string, ids []string, group string, extra map[string]string) {
	sb.ec2Read(account, region, func(r *ec2Region) {
		for _, id := range ids {
			if r.instances[id] == nil {
				continue
			}
			if group == "" {
				delete(r.tags[id], asGroupTag)
				continue
			}
			r.setTags(id, ec2TagList("", extra))
			r.setTags(id, []ec2Tag{{Key: asGroupTag, Value: group}})
		}
	})
}

// ec2FleetDefaultSpec is the launch spec of a group that declares no
// instance: the default VPC's first default subnet and security group.
func (sb *Sandbox) ec2FleetDefaultSpec(account, region string) ec2LaunchSpec {
	spec := ec2LaunchSpec{Image: "ami-0abcdef1234567890", Type: "t3.micro", PublicIP: true}
	sb.ec2Read(account, region, func(r *ec2Region) {
		for _, id := range ec2Sorted(r.subnets) {
			if sn := r.subnets[id]; sn.VPC == r.defaultVPC && sn.DefaultForAZ {
				spec.Subnet = sn.ID
				break
			}
		}
		if g := r.defaultGroup(r.defaultVPC); g != nil {
			spec.Groups = []string{g.ID}
		}
	})
	return spec
}

// ec2FleetLaunch launches n instances from spec for an Auto Scaling group,
// tagged with the group's name and tags. It returns their "EC2 Instance
// State-change Notification" events for the caller to publish.
func (sb *Sandbox) ec2FleetLaunch(account, region string, spec ec2LaunchSpec, group string, tags map[string]string, n int) ([]ec2FleetInstance, []BusEvent, error) {
	s := sb.ec2()
	if s == nil {
		return nil, nil, fmt.Errorf("the sandbox does not run EC2")
	}
	var profile *InstanceProfile
	if spec.ProfileARN != "" {
		ip, ok := sb.InstanceProfile(account, spec.ProfileARN)
		if !ok {
			return nil, nil, fmt.Errorf("instance profile %s no longer exists", spec.ProfileARN)
		}
		profile = &ip
	}
	now := sb.Now()
	var out []ec2FleetInstance
	var events []BusEvent
	s.mu.Lock()
	r := s.region(account, region)
	subnet := r.subnets[spec.Subnet]
	if subnet == nil {
		s.mu.Unlock()
		return nil, nil, fmt.Errorf("subnet %s no longer exists", spec.Subnet)
	}
	groups := slices.DeleteFunc(slices.Clone(spec.Groups), func(g string) bool { return r.groups[g] == nil })
	if len(groups) == 0 {
		groups = []string{r.defaultGroup(subnet.VPC).ID}
	}
	ids := sb.IDs()
	res := ids.Hex("r-", 17)
	for range n {
		inst := &ec2Instance{
			ID: ids.Hex("i-", 17), Reservation: res, Image: spec.Image, Type: spec.Type, State: "running",
			Launched: now, Subnet: subnet.ID, VPC: subnet.VPC, PrivateIP: subnet.nextIP(), Owner: account,
		}
		if spec.PublicIP {
			inst.PublicIP = s.publicIP()
		}
		s.launch(r, inst, subnet, groups, profile, now)
		r.setTags(inst.ID, ec2TagList("", tags))
		r.setTags(inst.ID, []ec2Tag{{Key: asGroupTag, Value: group}})
		out = append(out, r.fleetInstance(inst))
		for _, st := range []string{"pending", "running"} {
			detail, _ := json.Marshal(map[string]string{"instance-id": inst.ID, "state": st})
			events = append(events, BusEvent{
				Source: "aws.ec2", DetailType: "EC2 Instance State-change Notification", Account: account, Region: region, Time: now,
				Resources: []string{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, account, inst.ID)}, Detail: detail,
			})
		}
	}
	s.mu.Unlock()
	return out, events, nil
}

// ec2GuardDutyInstance returns the resource.instanceDetails of a GuardDuty
// finding about an instance, from its EC2 state; ok is false when the
// instance is unknown.
func (sb *Sandbox) ec2GuardDutyInstance(account, region, id string) (details map[string]any, ok bool) {
	sb.ec2Read(account, region, func(r *ec2Region) {
		inst := r.instances[id]
		if inst == nil {
			return
		}
		ok = true
		tags := []any{}
		for _, k := range ec2Sorted(r.tags[id]) {
			tags = append(tags, map[string]any{"key": k, "value": r.tags[id][k]})
		}
		az := ""
		if sn := r.subnets[inst.Subnet]; sn != nil {
			az = sn.AZ
		}
		details = map[string]any{
			"instanceId": inst.ID, "instanceType": inst.Type, "imageId": inst.Image, "instanceState": inst.State,
			"launchTime": inst.Launched.UTC().Format(time.RFC3339), "availabilityZone": az, "tags": tags,
			"platform": nil, "productCodes": []any{},
		}
		if a := r.activeProfile(id); a != nil {
			details["iamInstanceProfile"] = map[string]any{"arn": a.ARN, "id": a.ProfileID}
		}
		if e := r.enis[inst.ENI]; e != nil {
			var groups []any
			for _, g := range e.Groups {
				name := ""
				if grp := r.groups[g]; grp != nil {
					name = grp.Name
				}
				groups = append(groups, map[string]any{"groupId": g, "groupName": name})
			}
			eni := map[string]any{
				"networkInterfaceId": e.ID, "privateIpAddress": e.PrivateIP, "subnetId": e.Subnet, "vpcId": e.VPC,
				"securityGroups": groups, "ipv6Addresses": []any{},
				"privateIpAddresses": []any{map[string]any{"privateIpAddress": e.PrivateIP}},
			}
			if inst.PublicIP != "" {
				eni["publicIp"] = inst.PublicIP
			}
			details["networkInterfaces"] = []any{eni}
		}
	})
	return details, ok
}
