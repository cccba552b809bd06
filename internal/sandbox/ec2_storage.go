package sandbox

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// Volumes and snapshots.

func (c *ec2Call) volumeNode(v *ec2Volume) *xnNode {
	var att []*xnNode
	status := "available"
	if v.Instance != "" {
		status = "in-use"
		att = append(att, xnEl("", xnText("volumeId", v.ID), xnText("instanceId", v.Instance), xnText("device", v.Device),
			xnText("status", "attached"), xnTime("attachTime", v.Created), xnBool("deleteOnTermination", true)))
	}
	return xnEl("", xnText("volumeId", v.ID), xnInt("size", v.Size), xnText("snapshotId", v.Snapshot),
		xnText("availabilityZone", v.AZ), xnText("status", status), xnTime("createTime", v.Created),
		xnItems("attachmentSet", att), xnText("volumeType", v.Type), xnInt("iops", 3000), xnInt("throughput", 125),
		xnBool("encrypted", false), xnBool("multiAttachEnabled", false), c.r.tagSet(v.ID))
}

func (c *ec2Call) describeVolumes() ([]*xnNode, error) {
	want := c.p.list("VolumeId")
	for _, id := range want {
		if c.r.volumes[id] == nil {
			return nil, ec2Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	filters := c.p.filters()
	var matched []*ec2Volume
	for _, id := range ec2Sorted(c.r.volumes) {
		v := c.r.volumes[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "volume-id":
				return []string{v.ID}, true
			case "attachment.instance-id":
				return []string{v.Instance}, true
			case "attachment.device":
				return []string{v.Device}, true
			case "status":
				if v.Instance != "" {
					return []string{"in-use"}, true
				}
				return []string{"available"}, true
			case "availability-zone":
				return []string{v.AZ}, true
			case "snapshot-id":
				return []string{v.Snapshot}, true
			case "volume-type":
				return []string{v.Type}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 5, 500)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, v := range matched[lo:hi] {
		items = append(items, c.volumeNode(v))
	}
	return []*xnNode{xnItems("volumeSet", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) snapshotFields(s *ec2Snapshot, status string) []*xnNode {
	progress := "100%"
	if status == "pending" {
		progress = ""
	}
	return []*xnNode{xnText("snapshotId", s.ID), xnText("volumeId", s.Volume), xnText("status", status),
		xnTime("startTime", s.Started), xnOpt("progress", progress), xnText("ownerId", c.r.account),
		xnInt("volumeSize", s.Size), xnText("description", s.Description), xnBool("encrypted", false),
		xnText("storageTier", "standard"), c.r.tagSet(s.ID)}
}

func (c *ec2Call) createSnapshot() ([]*xnNode, error) {
	id, err := c.p.required("VolumeId")
	if err != nil {
		return nil, err
	}
	v := c.r.volumes[id]
	if v == nil {
		return nil, ec2Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	tags, err := c.p.tagSpecs("snapshot")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	s := &ec2Snapshot{ID: c.id("snap"), Volume: v.ID, Description: c.p.str("Description"), Size: v.Size, Started: c.now}
	c.r.snapshots[s.ID] = s
	c.r.setTags(s.ID, tags["snapshot"])
	c.touched(s.ID)
	c.touched(v.ID)
	return c.snapshotFields(s, "pending"), nil
}

func (c *ec2Call) describeSnapshots() ([]*xnNode, error) {
	want := c.p.list("SnapshotId")
	for _, id := range want {
		if c.r.snapshots[id] == nil {
			return nil, ec2Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
	}
	owners := c.p.list("Owner")
	for i, o := range owners {
		if o == "self" {
			owners[i] = c.r.account
		}
	}
	filters := c.p.filters()
	var matched []*ec2Snapshot
	for _, id := range ec2Sorted(c.r.snapshots) {
		s := c.r.snapshots[id]
		if len(want) > 0 && !slices.Contains(want, id) || len(owners) > 0 && !slices.Contains(owners, c.r.account) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "snapshot-id":
				return []string{s.ID}, true
			case "volume-id":
				return []string{s.Volume}, true
			case "status":
				return []string{"completed"}, true
			case "owner-id":
				return []string{c.r.account}, true
			case "description":
				return []string{s.Description}, true
			case "volume-size":
				return []string{strconv.FormatInt(s.Size, 10)}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, s)
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
	for _, s := range matched[lo:hi] {
		items = append(items, xnEl("", c.snapshotFields(s, "completed")...))
	}
	return []*xnNode{xnItems("snapshotSet", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) deleteSnapshot() ([]*xnNode, error) {
	id, err := c.p.required("SnapshotId")
	if err != nil {
		return nil, err
	}
	if err := ec2CheckID(id, "snap", "InvalidSnapshotID.Malformed"); err != nil {
		return nil, err
	}
	if c.r.snapshots[id] == nil {
		return nil, ec2Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	delete(c.r.snapshots, id)
	delete(c.r.tags, id)
	c.touched(id)
	return []*xnNode{xnBool("return", true)}, nil
}

// Tags.

// ec2NotFound is the error EC2 gives for a missing resource of id's kind.
func ec2NotFound(id string) error {
	_, kind := ec2ResourceType(id)
	switch kind {
	case "instance":
		return ec2Errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	case "security-group":
		return ec2Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case "volume":
		return ec2Errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	case "snapshot":
		return ec2Errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	case "vpc":
		return ec2Errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	case "subnet":
		return ec2Errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	case "network-acl":
		return ec2Errorf("InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
	case "network-interface":
		return ec2Errorf("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	case "prefix-list":
		return ec2Errorf("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
	}
	return ec2Errorf("InvalidID", "The ID '%s' is not valid", id)
}

func (c *ec2Call) tagTargets() ([]string, error) {
	ids := c.p.list("ResourceId")
	if len(ids) == 0 {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	for _, id := range ids {
		if !c.r.exists(id) {
			return nil, ec2NotFound(id)
		}
	}
	return ids, nil
}

func (c *ec2Call) createTags() ([]*xnNode, error) {
	ids, err := c.tagTargets()
	if err != nil {
		return nil, err
	}
	tags := c.p.tagList("Tag")
	if len(tags) == 0 {
		return nil, ec2Errorf("MissingParameter", "The request must contain the parameter tagSet")
	}
	if err := ec2CheckTags(tags); err != nil {
		return nil, err
	}
	for _, id := range ids {
		n := len(c.r.tags[id])
		for _, t := range tags {
			if _, ok := c.r.tags[id][t.Key]; !ok {
				n++
			}
		}
		if n > 50 {
			return nil, ec2Errorf("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		c.r.setTags(id, tags)
		c.touched(id)
	}
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) deleteTags() ([]*xnNode, error) {
	ids, err := c.tagTargets()
	if err != nil {
		return nil, err
	}
	type key struct {
		name, value string
		anyValue    bool
	}
	var keys []key
	for _, ix := range c.p.indexes("Tag") {
		_, hasValue := c.p[ix+".Value"]
		keys = append(keys, key{c.p.str(ix + ".Key"), c.p.str(ix + ".Value"), !hasValue})
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		m := c.r.tags[id]
		if len(keys) == 0 {
			delete(c.r.tags, id)
		}
		for _, k := range keys {
			if v, ok := m[k.name]; ok && (k.anyValue || v == k.value) {
				delete(m, k.name)
			}
		}
		c.touched(id)
	}
	return []*xnNode{xnBool("return", true)}, nil
}

func (c *ec2Call) describeTags() ([]*xnNode, error) {
	filters := c.p.filters()
	type tag struct{ id, kind, key, value string }
	var matched []tag
	for _, id := range ec2Sorted(c.r.tags) {
		m := c.r.tags[id]
		_, kind := ec2ResourceType(id)
		for _, k := range ec2Sorted(m) {
			ok, err := ec2Match(filters, nil, func(name string) ([]string, bool) {
				switch name {
				case "resource-id":
					return []string{id}, true
				case "resource-type":
					return []string{kind}, true
				case "key":
					return []string{k}, true
				case "value":
					return []string{m[k]}, true
				}
				return nil, false
			})
			if err != nil {
				return nil, err
			}
			if ok {
				matched = append(matched, tag{id, kind, k, m[k]})
			}
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
	for _, t := range matched[lo:hi] {
		items = append(items, xnEl("", xnText("resourceId", t.id), xnText("resourceType", t.kind), xnText("key", t.key), xnText("value", t.value)))
	}
	return []*xnNode{xnItems("tagSet", items), xnOpt("nextToken", next)}, nil
}

// Regions.

// ec2Regions are the regions DescribeRegions lists (those enabled by
// default in a new account).
var ec2Regions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

func (c *ec2Call) describeRegions() ([]*xnNode, error) {
	want := c.p.list("RegionName")
	filters := c.p.filters()
	var items []*xnNode
	for _, name := range ec2Regions {
		if len(want) > 0 && !slices.Contains(want, name) {
			continue
		}
		endpoint := "ec2." + name + ".amazonaws.com"
		ok, err := ec2Match(filters, nil, func(f string) ([]string, bool) {
			switch f {
			case "region-name":
				return []string{name}, true
			case "endpoint":
				return []string{endpoint}, true
			case "opt-in-status":
				return []string{"opt-in-not-required"}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, xnEl("", xnText("regionName", name), xnText("regionEndpoint", endpoint), xnText("optInStatus", "opt-in-not-required")))
		}
	}
	for _, w := range want {
		if !slices.Contains(ec2Regions, w) {
			return nil, ec2Errorf("InvalidParameterValue", "Invalid region name: %s", w)
		}
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	return []*xnNode{xnItems("regionInfo", items)}, nil
}

// Managed prefix lists.

func (c *ec2Call) prefixList(id string) (*ec2PrefixList, error) {
	pl := c.r.prefixes[id]
	if pl == nil {
		return nil, ec2Errorf("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", id)
	}
	return pl, nil
}

func (c *ec2Call) prefixListNode(pl *ec2PrefixList, name, state string) *xnNode {
	return xnEl(name, xnText("prefixListId", pl.ID), xnText("addressFamily", pl.Family), xnText("state", state),
		xnText("prefixListArn", fmt.Sprintf("arn:aws:ec2:%s:%s:prefix-list/%s", c.r.region, c.r.account, pl.ID)),
		xnText("prefixListName", pl.Name), xnInt("maxEntries", pl.Max), xnInt("version", pl.Version),
		c.r.tagSet(pl.ID), xnText("ownerId", c.r.account))
}

func (c *ec2Call) prefixEntries(name string) ([]ec2Tag, error) {
	var out []ec2Tag
	for _, ix := range c.p.indexes(name) {
		cidr := c.p.str(ix + ".Cidr")
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return nil, ec2Errorf("InvalidParameterValue", "Value (%s) for parameter cidr is invalid. This is not a valid CIDR block.", cidr)
		}
		out = append(out, ec2Tag{Key: cidr, Value: c.p.str(ix + ".Description")})
	}
	return out, nil
}

func (c *ec2Call) createManagedPrefixList() ([]*xnNode, error) {
	name, err := c.p.required("PrefixListName")
	if err != nil {
		return nil, err
	}
	max, ok, err := c.p.integer("MaxEntries")
	if err != nil {
		return nil, err
	}
	if !ok || max < 1 || max > 1000 {
		return nil, ec2Errorf("InvalidParameterValue", "Value (%d) for parameter maxEntries is invalid.", max)
	}
	family, err := c.p.required("AddressFamily")
	if err != nil {
		return nil, err
	}
	entries, err := c.prefixEntries("Entry")
	if err != nil {
		return nil, err
	}
	if int64(len(entries)) > max {
		return nil, ec2Errorf("InvalidParameterValue", "The prefix list has more entries than its maximum (%d).", max)
	}
	tags, err := c.p.tagSpecs("prefix-list")
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	pl := &ec2PrefixList{ID: c.id("pl"), Name: name, Family: family, Max: max, Version: 1, Entries: entries}
	c.r.prefixes[pl.ID] = pl
	c.r.setTags(pl.ID, tags["prefix-list"])
	c.touched(pl.ID)
	return []*xnNode{c.prefixListNode(pl, "prefixList", "create-in-progress")}, nil
}

func (c *ec2Call) describeManagedPrefixLists() ([]*xnNode, error) {
	want := c.p.list("PrefixListId")
	for _, id := range want {
		if _, err := c.prefixList(id); err != nil {
			return nil, err
		}
	}
	filters := c.p.filters()
	var matched []*ec2PrefixList
	for _, id := range ec2Sorted(c.r.prefixes) {
		pl := c.r.prefixes[id]
		if len(want) > 0 && !slices.Contains(want, id) {
			continue
		}
		ok, err := ec2Match(filters, c.r.tags[id], func(name string) ([]string, bool) {
			switch name {
			case "prefix-list-id":
				return []string{pl.ID}, true
			case "prefix-list-name":
				return []string{pl.Name}, true
			case "owner-id":
				return []string{c.r.account}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, pl)
		}
	}
	lo, hi, next, err := ec2Page(c.p, len(matched), 1, 100)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, pl := range matched[lo:hi] {
		items = append(items, c.prefixListNode(pl, "", "create-complete"))
	}
	return []*xnNode{xnItems("prefixListSet", items), xnOpt("nextToken", next)}, nil
}

func (c *ec2Call) modifyManagedPrefixList() ([]*xnNode, error) {
	id, err := c.p.required("PrefixListId")
	if err != nil {
		return nil, err
	}
	pl, err := c.prefixList(id)
	if err != nil {
		return nil, err
	}
	if v, ok, err := c.p.integer("CurrentVersion"); err != nil {
		return nil, err
	} else if ok && v != pl.Version {
		return nil, ec2Errorf("IncorrectState", "The prefix list %s has version %d, not %d.", pl.ID, pl.Version, v)
	}
	add, err := c.prefixEntries("AddEntry")
	if err != nil {
		return nil, err
	}
	var remove []string
	for _, ix := range c.p.indexes("RemoveEntry") {
		remove = append(remove, c.p.str(ix+".Cidr"))
	}
	entries := slices.DeleteFunc(slices.Clone(pl.Entries), func(e ec2Tag) bool { return slices.Contains(remove, e.Key) })
	for _, a := range add {
		if i := slices.IndexFunc(entries, func(e ec2Tag) bool { return e.Key == a.Key }); i >= 0 {
			entries[i] = a
		} else {
			entries = append(entries, a)
		}
	}
	if int64(len(entries)) > pl.Max {
		return nil, ec2Errorf("PrefixListMaxEntriesExceeded", "The prefix list %s would have %d entries; its maximum is %d.", pl.ID, len(entries), pl.Max)
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	if name := c.p.str("PrefixListName"); name != "" {
		pl.Name = name
	}
	pl.Entries = entries
	pl.Version++
	c.touched(pl.ID)
	return []*xnNode{c.prefixListNode(pl, "prefixList", "modify-in-progress")}, nil
}

func (c *ec2Call) getManagedPrefixListEntries() ([]*xnNode, error) {
	id, err := c.p.required("PrefixListId")
	if err != nil {
		return nil, err
	}
	pl, err := c.prefixList(id)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := ec2Page(c.p, len(pl.Entries), 1, 100)
	if err != nil {
		return nil, err
	}
	if err := c.commit(); err != nil {
		return nil, err
	}
	var items []*xnNode
	for _, e := range pl.Entries[lo:hi] {
		items = append(items, xnEl("", xnText("cidr", e.Key), xnOpt("description", e.Value)))
	}
	return []*xnNode{xnItems("entrySet", items), xnOpt("nextToken", next)}, nil
}
