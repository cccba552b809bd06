package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// autoScalingService simulates the EC2 Auto Scaling API (awsQuery) that
// incident response uses: DescribeAutoScalingGroups,
// DescribeAutoScalingInstances, DetachInstances, AttachInstances,
// EnterStandby, ExitStandby and SetInstanceProtection. Groups are declared
// in the world file; their instances are EC2 instances of the sandbox, and
// a group that must keep its capacity (DetachInstances or EnterStandby
// without decrementing) launches real replacement instances in EC2 at once.
//
// The account's world-file section:
//
//	autoscaling:
//	  region: us-east-1            # default: the account's first region
//	  groups:
//	    - name: web                # required, unique
//	      min: 2                   # required
//	      max: 6                   # required
//	      desired: 3               # default: the number of instances; more launches the rest
//	      instances: [web-1, web-2, i-0123456789abcdef0]   # EC2 world names or ids
//	      launch_template: web     # shown in LaunchTemplate; default <name>-template
//	      tags: {team: web}        # group tags, propagated at launch
//
// New instances are launched like the group's first instance (its image,
// type, subnet, security groups and instance profile), as from a launch
// template taken when the world was seeded.
type autoScalingService struct {
	sb *Sandbox

	mu     sync.Mutex
	groups map[string]*asGroup // account + "/" + region + "/" + name
}

type asGroup struct {
	name, arn, account, region string
	min, max, desired          int
	created                    time.Time
	template, templateID       string
	tags                       map[string]string
	spec                       ec2LaunchSpec
	instances                  []*asInstance
}

type asInstance struct {
	id, az, typ, image string
	lifecycle          string // InService, Standby
	protected          bool
}

const asNamespace = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

func newAutoScalingService(sb *Sandbox) Service {
	return &autoScalingService{sb: sb, groups: map[string]*asGroup{}}
}

func (s *autoScalingService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "autoscaling", Protocol: ProtocolQuery, EventSource: "autoscaling.amazonaws.com", XMLNamespace: asNamespace}
}

type asWorld struct {
	Region string         `yaml:"region"`
	Groups []asWorldGroup `yaml:"groups"`
}

type asWorldGroup struct {
	Name           string            `yaml:"name"`
	Min            *int              `yaml:"min"`
	Max            *int              `yaml:"max"`
	Desired        *int              `yaml:"desired"`
	Instances      []string          `yaml:"instances"`
	LaunchTemplate string            `yaml:"launch_template"`
	Tags           map[string]string `yaml:"tags"`
}

// Seed creates the account's groups from its "autoscaling" section. It runs
// after EC2's seed, so the section names the world's instances.
func (s *autoScalingService) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w asWorld
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	region := w.Region
	if region == "" {
		region = acct.Regions[0]
	}
	groupsNode := ec2Child(section, "groups")
	taken := map[string]string{} // instance id → group
	names := map[string]bool{}
	var groups []*asGroup
	for i, wg := range w.Groups {
		n := ec2Item(groupsNode, i)
		f := fmt.Sprintf("autoscaling.groups[%d]", i)
		if wg.Name == "" {
			return NodeError(n, "%s.name: required", f)
		}
		if names[wg.Name] {
			return NodeError(ec2Child(n, "name"), "%s.name: duplicate group %q", f, wg.Name)
		}
		names[wg.Name] = true
		if wg.Min == nil || wg.Max == nil {
			return NodeError(n, "%s: min and max are required", f)
		}
		g := &asGroup{
			name: wg.Name, account: acct.ID, region: region, min: *wg.Min, max: *wg.Max, desired: len(wg.Instances),
			created: s.sb.Now(), template: orDefault(wg.LaunchTemplate, wg.Name+"-template"), tags: wg.Tags,
		}
		// Derived, not drawn: adding a group to a world does not change the
		// other ids a seeded sandbox generates.
		sum := sha256.Sum256([]byte("autoscaling/" + acct.ID + "/" + region + "/" + g.name))
		h := hex.EncodeToString(sum[:])
		g.arn = fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s-%s-4%s-8%s-%s:autoScalingGroupName/%s", region, acct.ID, h[:8], h[8:12], h[13:16], h[17:20], h[20:32], g.name)
		g.templateID = "lt-" + h[32:49]
		if wg.Desired != nil {
			g.desired = *wg.Desired
		}
		if g.min < 0 || g.max < g.min {
			return NodeError(ec2Child(n, "max"), "%s: need 0 <= min <= max, got min %d and max %d", f, g.min, g.max)
		}
		if g.desired < g.min || g.desired > g.max {
			return NodeError(orNode(child(n, "desired"), n), "%s.desired: %d is not between min %d and max %d", f, g.desired, g.min, g.max)
		}
		if g.desired < len(wg.Instances) {
			return NodeError(ec2Child(n, "desired"), "%s.desired: %d is less than the %d instances listed", f, g.desired, len(wg.Instances))
		}
		instNode := ec2Child(n, "instances")
		for j, ref := range wg.Instances {
			fi, err := s.sb.ec2FleetFind(acct.ID, region, ref)
			if err != nil {
				return NodeError(ec2Item(instNode, j), "%s.instances[%d]: %v", f, j, err)
			}
			if fi.State == "terminated" {
				return NodeError(ec2Item(instNode, j), "%s.instances[%d]: instance %s is terminated", f, j, fi.ID)
			}
			if other, dup := taken[fi.ID]; dup {
				return NodeError(ec2Item(instNode, j), "%s.instances[%d]: instance %q is already in group %q", f, j, ref, other)
			}
			taken[fi.ID] = g.name
			if j == 0 {
				g.spec = fi.Spec
			}
			g.instances = append(g.instances, &asInstance{id: fi.ID, az: fi.AZ, typ: fi.Type, image: fi.Image, lifecycle: "InService"})
		}
		if len(wg.Instances) == 0 {
			g.spec = s.sb.ec2FleetDefaultSpec(acct.ID, region)
		}
		var ids []string
		for _, in := range g.instances {
			ids = append(ids, in.id)
		}
		s.sb.ec2FleetTag(acct.ID, region, ids, g.name, g.tags)
		if missing := g.desired - len(g.instances); missing > 0 {
			launched, _, err := s.sb.ec2FleetLaunch(acct.ID, region, g.spec, g.name, g.tags, missing)
			if err != nil {
				return NodeError(n, "%s: launch %d instances: %v", f, missing, err)
			}
			for _, fi := range launched {
				g.instances = append(g.instances, &asInstance{id: fi.ID, az: fi.AZ, typ: fi.Type, image: fi.Image, lifecycle: "InService"})
			}
		}
		groups = append(groups, g)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		s.groups[g.account+"/"+g.region+"/"+g.name] = g
	}
	return nil
}

// asValidation is the ValidationError every Auto Scaling check returns.
func asValidation(format string, args ...any) *APIError {
	return Errorf("ValidationError", format, args...)
}

func (s *autoScalingService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "DescribeAutoScalingGroups":
		return s.describeGroups(req)
	case "DescribeAutoScalingInstances":
		return s.describeInstances(req)
	case "DetachInstances":
		return s.detach(ctx, req, "detach")
	case "EnterStandby":
		return s.detach(ctx, req, "standby")
	case "AttachInstances":
		return s.attach(req, "attach")
	case "ExitStandby":
		return s.attach(req, "exit")
	case "SetInstanceProtection":
		return s.protect(req)
	}
	return nil, Errorf("InvalidAction", "The sandbox does not simulate Auto Scaling %s.", req.Operation)
}

func (s *autoScalingService) group(req *Request, name string) *asGroup {
	return s.groups[req.Caller.Account+"/"+req.Region+"/"+name]
}

// groupOf returns the group holding an instance in the caller's account
// and region. Callers hold s.mu.
func (s *autoScalingService) groupOf(req *Request, id string) (*asGroup, *asInstance) {
	prefix := req.Caller.Account + "/" + req.Region + "/"
	for key, g := range s.groups {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		for _, in := range g.instances {
			if in.id == id {
				return g, in
			}
		}
	}
	return nil, nil
}

func (s *autoScalingService) sortedGroups(req *Request) []*asGroup {
	prefix := req.Caller.Account + "/" + req.Region + "/"
	var out []*asGroup
	for key, g := range s.groups {
		if strings.HasPrefix(key, prefix) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// asPage reads MaxRecords and NextToken (an opaque offset).
func asPage(form map[string][]string, n, def, most int) (start, end int, next string, err error) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit := def
	if m := get("MaxRecords"); m != "" {
		limit, err = strconv.Atoi(m)
		if err != nil || limit < 1 || limit > most {
			return 0, 0, "", asValidation("1 validation error detected: Value '%s' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and %d", m, most)
		}
	}
	if t := get("NextToken"); t != "" {
		start, err = strconv.Atoi(t)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", asValidation("The token '%s' is invalid.", t)
		}
	}
	end = min(start+limit, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

type asXMLTemplate struct {
	LaunchTemplateID   string `xml:"LaunchTemplateId"`
	LaunchTemplateName string `xml:"LaunchTemplateName"`
	Version            string `xml:"Version"`
}

type asXMLInstance struct {
	InstanceID           string        `xml:"InstanceId"`
	InstanceType         string        `xml:"InstanceType"`
	AvailabilityZone     string        `xml:"AvailabilityZone"`
	LifecycleState       string        `xml:"LifecycleState"`
	HealthStatus         string        `xml:"HealthStatus"`
	LaunchTemplate       asXMLTemplate `xml:"LaunchTemplate"`
	ProtectedFromScaleIn bool          `xml:"ProtectedFromScaleIn"`
	AutoScalingGroupName string        `xml:"AutoScalingGroupName,omitempty"`
}

type asXMLTag struct {
	ResourceID        string `xml:"ResourceId"`
	ResourceType      string `xml:"ResourceType"`
	Key               string `xml:"Key"`
	Value             string `xml:"Value"`
	PropagateAtLaunch bool   `xml:"PropagateAtLaunch"`
}

type asXMLGroup struct {
	AutoScalingGroupName             string          `xml:"AutoScalingGroupName"`
	AutoScalingGroupARN              string          `xml:"AutoScalingGroupARN"`
	LaunchTemplate                   asXMLTemplate   `xml:"LaunchTemplate"`
	MinSize                          int             `xml:"MinSize"`
	MaxSize                          int             `xml:"MaxSize"`
	DesiredCapacity                  int             `xml:"DesiredCapacity"`
	DefaultCooldown                  int             `xml:"DefaultCooldown"`
	AvailabilityZones                []string        `xml:"AvailabilityZones>member"`
	LoadBalancerNames                []string        `xml:"LoadBalancerNames>member"`
	TargetGroupARNs                  []string        `xml:"TargetGroupARNs>member"`
	HealthCheckType                  string          `xml:"HealthCheckType"`
	HealthCheckGracePeriod           int             `xml:"HealthCheckGracePeriod"`
	Instances                        []asXMLInstance `xml:"Instances>member"`
	CreatedTime                      string          `xml:"CreatedTime"`
	VPCZoneIdentifier                string          `xml:"VPCZoneIdentifier"`
	Tags                             []asXMLTag      `xml:"Tags>member"`
	TerminationPolicies              []string        `xml:"TerminationPolicies>member"`
	NewInstancesProtectedFromScaleIn bool            `xml:"NewInstancesProtectedFromScaleIn"`
	ServiceLinkedRoleARN             string          `xml:"ServiceLinkedRoleARN"`
}

func (g *asGroup) xmlInstance(in *asInstance, withGroup bool) asXMLInstance {
	x := asXMLInstance{
		InstanceID: in.id, InstanceType: in.typ, AvailabilityZone: in.az, LifecycleState: in.lifecycle, HealthStatus: "Healthy",
		LaunchTemplate: g.xmlTemplate(), ProtectedFromScaleIn: in.protected,
	}
	if withGroup {
		// DescribeAutoScalingInstances spells health in capitals.
		x.AutoScalingGroupName, x.HealthStatus = g.name, "HEALTHY"
	}
	return x
}

func (g *asGroup) xmlTemplate() asXMLTemplate {
	return asXMLTemplate{LaunchTemplateID: g.templateID, LaunchTemplateName: g.template, Version: "$Default"}
}

func (g *asGroup) xml() asXMLGroup {
	x := asXMLGroup{
		AutoScalingGroupName: g.name, AutoScalingGroupARN: g.arn, LaunchTemplate: g.xmlTemplate(),
		MinSize: g.min, MaxSize: g.max, DesiredCapacity: g.desired, DefaultCooldown: 300, HealthCheckType: "EC2",
		HealthCheckGracePeriod: 300, CreatedTime: g.created.UTC().Format("2006-01-02T15:04:05.000Z"),
		VPCZoneIdentifier: g.spec.Subnet, TerminationPolicies: []string{"Default"},
		ServiceLinkedRoleARN: "arn:aws:iam::" + g.account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
	}
	azs := map[string]bool{}
	for _, in := range g.instances {
		x.Instances = append(x.Instances, g.xmlInstance(in, false))
		if in.az != "" && !azs[in.az] {
			azs[in.az] = true
			x.AvailabilityZones = append(x.AvailabilityZones, in.az)
		}
	}
	sort.Strings(x.AvailabilityZones)
	for _, k := range sortedKeys(g.tags) {
		x.Tags = append(x.Tags, asXMLTag{ResourceID: g.name, ResourceType: "auto-scaling-group", Key: k, Value: g.tags[k], PropagateAtLaunch: true})
	}
	return x
}

func (s *autoScalingService) describeGroups(req *Request) (*Response, error) {
	names := formList(req.Form, "AutoScalingGroupNames.member")
	var filters []struct {
		name   string
		values []string
	}
	for i := 1; ; i++ {
		p := fmt.Sprintf("Filters.member.%d.", i)
		name, ok := req.Form[p+"Name"]
		if !ok {
			break
		}
		filters = append(filters, struct {
			name   string
			values []string
		}{name[0], formList(req.Form, p+"Values.member")})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []asXMLGroup
	for _, g := range s.sortedGroups(req) {
		if len(names) > 0 && !slices.Contains(names, g.name) {
			continue
		}
		ok := true
		for _, f := range filters {
			switch {
			case strings.HasPrefix(f.name, "tag:"):
				v, has := g.tags[strings.TrimPrefix(f.name, "tag:")]
				ok = ok && has && slices.Contains(f.values, v)
			case f.name == "tag-key":
				found := false
				for _, v := range f.values {
					_, has := g.tags[v]
					found = found || has
				}
				ok = ok && found
			case f.name == "tag-value":
				found := false
				for _, v := range g.tags {
					found = found || slices.Contains(f.values, v)
				}
				ok = ok && found
			default:
				return nil, asValidation("Filter name %s is invalid.", f.name)
			}
		}
		if ok {
			out = append(out, g.xml())
		}
	}
	start, end, next, err := asPage(req.Form, len(out), 50, 100)
	if err != nil {
		return nil, err
	}
	return QueryResult(req, struct {
		Groups    []asXMLGroup `xml:"AutoScalingGroups>member"`
		NextToken string       `xml:"NextToken,omitempty"`
	}{out[start:end], next})
}

func (s *autoScalingService) describeInstances(req *Request) (*Response, error) {
	ids := formList(req.Form, "InstanceIds.member")
	if len(ids) > 50 {
		return nil, asValidation("The number of instance ids that may be passed in is limited to 50.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []asXMLInstance
	for _, g := range s.sortedGroups(req) {
		for _, in := range g.instances {
			if len(ids) == 0 || slices.Contains(ids, in.id) {
				out = append(out, g.xmlInstance(in, true))
			}
		}
	}
	start, end, next, err := asPage(req.Form, len(out), 50, 50)
	if err != nil {
		return nil, err
	}
	return QueryResult(req, struct {
		Instances []asXMLInstance `xml:"AutoScalingInstances>member"`
		NextToken string          `xml:"NextToken,omitempty"`
	}{out[start:end], next})
}

type asXMLActivity struct {
	ActivityID           string `xml:"ActivityId"`
	AutoScalingGroupName string `xml:"AutoScalingGroupName"`
	AutoScalingGroupARN  string `xml:"AutoScalingGroupARN"`
	Description          string `xml:"Description"`
	Cause                string `xml:"Cause"`
	StartTime            string `xml:"StartTime"`
	StatusCode           string `xml:"StatusCode"`
	Progress             int    `xml:"Progress"`
	Details              string `xml:"Details"`
}

// request reads the group name, the instance ids (1 to 20) and, when
// decrement names it, the required boolean.
func (s *autoScalingService) request(req *Request, decrement string) (name string, ids []string, dec bool, err error) {
	if name, err = required(req.Form, "AutoScalingGroupName"); err != nil {
		return
	}
	ids = formList(req.Form, "InstanceIds.member")
	if len(ids) > 20 {
		err = asValidation("1 validation error detected: Value '%v' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 20", ids)
		return
	}
	req.Trail.RequestParameters = map[string]any{"autoScalingGroupName": name, "instanceIds": ids}
	if decrement != "" {
		var v string
		if v, err = required(req.Form, decrement); err != nil {
			return
		}
		if dec, err = strconv.ParseBool(v); err != nil {
			err = asValidation("Invalid value %q for %s.", v, decrement)
			return
		}
		req.Trail.RequestParameters.(map[string]any)[lowerFirst(decrement)] = dec
	}
	return
}

func (s *autoScalingService) trail(req *Request, g *asGroup, ids []string) {
	req.Trail.Resources = append(req.Trail.Resources, TrailResource{Type: "AWS::AutoScaling::AutoScalingGroup", Name: g.name, ARN: g.arn})
	for _, id := range ids {
		req.Trail.Resources = append(req.Trail.Resources, TrailResource{Type: "AWS::EC2::Instance", Name: id, ARN: fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", g.region, g.account, id)})
	}
}

func asNotFound(name string) *APIError {
	return asValidation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

func plural(n int, one string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// detach serves DetachInstances (verb "detach") and EnterStandby
// ("standby"): the instances leave service; without decrementing the
// desired capacity the group launches replacements.
func (s *autoScalingService) detach(ctx context.Context, req *Request, verb string) (*Response, error) {
	name, ids, dec, err := s.request(req, "ShouldDecrementDesiredCapacity")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	g := s.group(req, name)
	if g == nil {
		s.mu.Unlock()
		return nil, asNotFound(name)
	}
	var picked []*asInstance
	for _, id := range ids {
		i := slices.IndexFunc(g.instances, func(in *asInstance) bool { return in.id == id })
		if i < 0 {
			s.mu.Unlock()
			return nil, asValidation("The instance %s is not part of Auto Scaling group %s.", id, name)
		}
		in := g.instances[i]
		switch {
		case verb == "detach" && in.lifecycle != "InService" && in.lifecycle != "Standby":
			s.mu.Unlock()
			return nil, asValidation("The instance %s is not in InService or Standby.", id)
		case verb == "standby" && in.lifecycle != "InService":
			s.mu.Unlock()
			return nil, asValidation("The instance %s is not in InService.", id)
		}
		if !slices.Contains(picked, in) {
			picked = append(picked, in)
		}
	}
	if dec && g.desired-len(picked) < g.min {
		s.mu.Unlock()
		what := "detach"
		if verb == "standby" {
			what = "place into standby"
		}
		return nil, asValidation("AutoScalingGroup %s has min-size=%d, max-size=%d, and desired-size=%d. To %s %s, please update the AutoScalingGroup sizes appropriately.",
			name, g.min, g.max, g.desired, what, plural(len(picked), "instance"))
	}
	now := req.Time.UTC()
	before := g.desired
	var acts []asXMLActivity
	var gone []string
	for _, in := range picked {
		a := asXMLActivity{
			ActivityID: s.sb.IDs().UUID(), AutoScalingGroupName: name, AutoScalingGroupARN: g.arn, StartTime: now.Format("2006-01-02T15:04:05.000Z"),
			StatusCode: "InProgress", Progress: 50, Details: fmt.Sprintf(`{"Subnet ID":%q,"Availability Zone":%q}`, g.spec.Subnet, in.az),
		}
		if verb == "detach" {
			g.instances = slices.DeleteFunc(g.instances, func(x *asInstance) bool { return x == in })
			gone = append(gone, in.id)
			a.Description = "Detaching EC2 instance: " + in.id
			a.Cause = fmt.Sprintf("At %s instance %s was detached in response to a user request", now.Format(time.RFC3339), in.id)
		} else {
			in.lifecycle = "Standby"
			a.Description = "Moving EC2 instance to Standby: " + in.id
			a.Cause = fmt.Sprintf("At %s instance %s was moved to standby in response to a user request", now.Format(time.RFC3339), in.id)
		}
		acts = append(acts, a)
	}
	replace := 0
	if dec {
		g.desired -= len(picked)
		for i := range acts {
			acts[i].Cause += fmt.Sprintf(", shrinking the capacity from %d to %d.", before, g.desired)
		}
	} else {
		replace = len(picked)
		for i := range acts {
			acts[i].Cause += "."
		}
	}
	spec, tags, account, region := g.spec, g.tags, g.account, g.region
	s.trail(req, g, ids)
	s.mu.Unlock()

	s.sb.ec2FleetTag(account, region, gone, "", nil)
	if replace > 0 {
		launched, events, err := s.sb.ec2FleetLaunch(account, region, spec, name, tags, replace)
		if err != nil {
			return nil, fmt.Errorf("auto scaling group %s: launch replacements: %w", name, err)
		}
		s.mu.Lock()
		if g := s.group(req, name); g != nil {
			for _, fi := range launched {
				g.instances = append(g.instances, &asInstance{id: fi.ID, az: fi.AZ, typ: fi.Type, image: fi.Image, lifecycle: "InService"})
			}
		}
		s.mu.Unlock()
		for _, ev := range events {
			if err := s.sb.Publish(ctx, ev); err != nil {
				return nil, err
			}
		}
	}
	return QueryResult(req, struct {
		Activities []asXMLActivity `xml:"Activities>member"`
	}{acts})
}

// attach serves AttachInstances (verb "attach") and ExitStandby ("exit").
func (s *autoScalingService) attach(req *Request, verb string) (*Response, error) {
	name, ids, _, err := s.request(req, "")
	if err != nil {
		return nil, err
	}
	var found []ec2FleetInstance
	if verb == "attach" {
		for _, id := range ids {
			fi, err := s.sb.ec2FleetFind(req.Caller.Account, req.Region, id)
			if err != nil || fi.ID != id {
				return nil, asValidation("Invalid Instance ID(s) specified")
			}
			if fi.State != "running" {
				return nil, asValidation("Instance %s is not in correct state", id)
			}
			found = append(found, fi)
		}
	}
	s.mu.Lock()
	g := s.group(req, name)
	if g == nil {
		s.mu.Unlock()
		return nil, asNotFound(name)
	}
	n := len(ids)
	if verb == "exit" {
		for _, id := range ids {
			i := slices.IndexFunc(g.instances, func(in *asInstance) bool { return in.id == id })
			if i < 0 {
				s.mu.Unlock()
				return nil, asValidation("The instance %s is not part of Auto Scaling group %s.", id, name)
			}
			if g.instances[i].lifecycle != "Standby" {
				s.mu.Unlock()
				return nil, asValidation("The instance %s is not in Standby.", id)
			}
		}
	} else {
		for _, id := range ids {
			if other, _ := s.groupOf(req, id); other != nil {
				s.mu.Unlock()
				return nil, asValidation("The instance %s is already part of Auto Scaling group %s.", id, other.name)
			}
		}
	}
	if g.desired+n > g.max {
		s.mu.Unlock()
		what := "attach"
		if verb == "exit" {
			what = "move out of standby"
		}
		return nil, asValidation("AutoScalingGroup %s has min-size=%d, max-size=%d, and desired-size=%d. To %s %s, please update the AutoScalingGroup sizes appropriately.",
			name, g.min, g.max, g.desired, what, plural(n, "instance"))
	}
	now := req.Time.UTC()
	var acts []asXMLActivity
	for i, id := range ids {
		if verb == "exit" {
			g.instances[slices.IndexFunc(g.instances, func(in *asInstance) bool { return in.id == id })].lifecycle = "InService"
		} else {
			fi := found[i]
			g.instances = append(g.instances, &asInstance{id: fi.ID, az: fi.AZ, typ: fi.Type, image: fi.Image, lifecycle: "InService"})
		}
		acts = append(acts, asXMLActivity{
			ActivityID: s.sb.IDs().UUID(), AutoScalingGroupName: name, AutoScalingGroupARN: g.arn, StartTime: now.Format("2006-01-02T15:04:05.000Z"),
			StatusCode: "InProgress", Progress: 30, Description: "Moving EC2 instance out of Standby: " + id,
			Cause:   fmt.Sprintf("At %s instance %s was moved out of standby in response to a user request, increasing the capacity from %d to %d.", now.Format(time.RFC3339), id, g.desired+i, g.desired+i+1),
			Details: fmt.Sprintf(`{"Subnet ID":%q}`, g.spec.Subnet),
		})
	}
	g.desired += n
	account, region, tags := g.account, g.region, g.tags
	s.trail(req, g, ids)
	s.mu.Unlock()
	if verb == "exit" {
		return QueryResult(req, struct {
			Activities []asXMLActivity `xml:"Activities>member"`
		}{acts})
	}
	s.sb.ec2FleetTag(account, region, ids, name, tags)
	return QueryResult(req, nil)
}

func (s *autoScalingService) protect(req *Request) (*Response, error) {
	name, ids, _, err := s.request(req, "")
	if err != nil {
		return nil, err
	}
	v, err := required(req.Form, "ProtectedFromScaleIn")
	if err != nil {
		return nil, err
	}
	protect, err := strconv.ParseBool(v)
	if err != nil {
		return nil, asValidation("Invalid value %q for ProtectedFromScaleIn.", v)
	}
	req.Trail.RequestParameters.(map[string]any)["protectedFromScaleIn"] = protect
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.group(req, name)
	if g == nil {
		return nil, asNotFound(name)
	}
	var picked []*asInstance
	for _, id := range ids {
		i := slices.IndexFunc(g.instances, func(in *asInstance) bool { return in.id == id })
		if i < 0 {
			return nil, asValidation("The instance %s is not part of Auto Scaling group %s.", id, name)
		}
		picked = append(picked, g.instances[i])
	}
	for _, in := range picked {
		in.protected = protect
	}
	s.trail(req, g, ids)
	return QueryResult(req, struct{}{})
}

// autoScaling returns the sandbox's Auto Scaling service.
func (sb *Sandbox) autoScaling() *autoScalingService {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*autoScalingService); ok {
			return s
		}
	}
	return nil
}

// AutoScalingGroupState is an Auto Scaling group as tests assert on it.
type AutoScalingGroupState struct {
	Name               string
	Min, Max, Desired  int
	Instances          []string // in the group, oldest first
	Standby, Protected []string
}

// AutoScalingGroup returns a group of an account in a region.
func (sb *Sandbox) AutoScalingGroup(account, region, name string) (AutoScalingGroupState, bool) {
	s := sb.autoScaling()
	if s == nil {
		return AutoScalingGroupState{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[account+"/"+region+"/"+name]
	if g == nil {
		return AutoScalingGroupState{}, false
	}
	st := AutoScalingGroupState{Name: g.name, Min: g.min, Max: g.max, Desired: g.desired}
	for _, in := range g.instances {
		st.Instances = append(st.Instances, in.id)
		if in.lifecycle == "Standby" {
			st.Standby = append(st.Standby, in.id)
		}
		if in.protected {
			st.Protected = append(st.Protected, in.id)
		}
	}
	return st, true
}
