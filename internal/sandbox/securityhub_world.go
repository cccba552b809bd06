package sandbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// hubWorld is an account's "securityhub" section of the world file:
//
//	securityhub:
//	  enabled: true          # false: every call is InvalidAccessException
//	  region: us-east-1      # default: the account's first region
//	  findings:
//	    # An ASFF finding, with its own member names. SchemaVersion,
//	    # AwsAccountId, ProductArn (the account's default product),
//	    # CreatedAt and UpdatedAt (the sandbox clock) default.
//	    - Id: custom-1
//	      GeneratorId: acme-scanner
//	      Title: Outdated OpenSSH
//	      Description: web-1 runs an OpenSSH with known vulnerabilities
//	      Types: ["Software and Configuration Checks/Vulnerabilities/CVE"]
//	      Severity: {Label: HIGH}
//	      Resources: [{Type: AwsEc2Instance, Id: "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"}]
//	    # Or a GuardDuty finding as GuardDuty sends it to Security Hub.
//	    - guardduty:
//	        id: 7ab1...               # GuardDuty's finding id; default generated
//	        detector: 12ab...         # default generated
//	        type: UnauthorizedAccess:EC2/SSHBruteForce
//	        severity: 5
//	        instance: web-1           # an instance id or Name tag; or access_key and user
//	        remote_ip: 203.0.113.66
type hubWorld struct {
	Enabled  *bool       `yaml:"enabled"`
	Region   string      `yaml:"region"`
	Findings []yaml.Node `yaml:"findings"`
}

type hubWorldGuardDuty struct {
	ID          string  `yaml:"id"`
	Detector    string  `yaml:"detector"`
	Type        string  `yaml:"type"`
	Severity    float64 `yaml:"severity"`
	Title       string  `yaml:"title"`
	Description string  `yaml:"description"`
	Instance    string  `yaml:"instance"`
	AccessKey   string  `yaml:"access_key"`
	User        string  `yaml:"user"`
	RemoteIP    string  `yaml:"remote_ip"`
	Count       int     `yaml:"count"`
}

var (
	reHex32         = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reASFFErrMember = regexp.MustCompile(`data\.([A-Za-z]+)|property '([A-Za-z]+)'`)
)

// Seed creates an account's Security Hub state from its "securityhub"
// section.
func (s *securityHubService) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w hubWorld
	if err := DecodeStrict(section, &w); err != nil {
		return prefixField("securityhub.", err)
	}
	region := sectionRegion(acct, w.Region)
	if w.Region != "" && !regionRE.MatchString(region) {
		return NodeError(child(section, "region"), "securityhub.region: not a region name: %q", region)
	}
	if w.Enabled != nil && !*w.Enabled {
		if len(w.Findings) > 0 {
			return NodeError(child(section, "findings"), "securityhub.findings: Security Hub is not enabled in account %s (enabled: false) and can have no findings", acct.ID)
		}
		s.mu.Lock()
		for _, reg := range append([]string{region}, acct.Regions...) {
			s.region(acct.ID, reg).disabled = true
		}
		s.mu.Unlock()
		return nil
	}
	now := s.sb.Now()
	stamp := now.Format(time.RFC3339Nano)
	var instances []EC2InstanceState
	for i := range w.Findings {
		n := &w.Findings[i]
		field := fmt.Sprintf("securityhub.findings[%d]", i)
		if n.Kind != yaml.MappingNode {
			return NodeError(n, "%s: a finding is a mapping of ASFF members, or {guardduty: ...}", field)
		}
		var f map[string]any
		if gdn := child(n, "guardduty"); gdn != nil {
			if len(n.Content) != 2 {
				return NodeError(n, "%s: a guardduty finding has no other members", field)
			}
			var gd hubWorldGuardDuty
			if err := DecodeStrict(gdn, &gd); err != nil {
				return prefixField(field+".guardduty.", err)
			}
			at := func(key string) *yaml.Node { return orNode(child(gdn, key), gdn) }
			g := GuardDutyASFF{Account: acct.ID, Region: region, DetectorID: gd.Detector, FindingID: gd.ID, Type: gd.Type,
				Title: gd.Title, Description: gd.Description, Severity: gd.Severity, AccessKeyID: gd.AccessKey, UserName: gd.User,
				RemoteIP: gd.RemoteIP, CreatedAt: now, UpdatedAt: now, Count: gd.Count}
			if g.FindingID == "" {
				g.FindingID = s.sb.ids.Hex("", 32)
			} else if !reHex32.MatchString(g.FindingID) {
				return NodeError(at("id"), "%s.guardduty.id: a GuardDuty finding id is 32 lowercase hex characters", field)
			}
			if g.DetectorID == "" {
				g.DetectorID = s.sb.ids.Hex("", 32)
			} else if !reHex32.MatchString(g.DetectorID) {
				return NodeError(at("detector"), "%s.guardduty.detector: a detector id is 32 lowercase hex characters", field)
			}
			if !strings.Contains(g.Type, ":") || !strings.Contains(g.Type, "/") {
				return NodeError(at("type"), "%s.guardduty.type: required, a GuardDuty finding type like UnauthorizedAccess:EC2/SSHBruteForce", field)
			}
			if g.Severity < 1 || g.Severity >= 9 {
				return NodeError(at("severity"), "%s.guardduty.severity: required, 1.0 to 8.9", field)
			}
			if gd.Instance != "" {
				if instances == nil {
					instances = s.sb.EC2Instances(acct.ID, region)
				}
				for _, inst := range instances {
					if inst.ID == gd.Instance || inst.Tags["Name"] == gd.Instance {
						g.InstanceID = inst.ID
					}
				}
				if g.InstanceID == "" {
					return NodeError(at("instance"), "%s.guardduty.instance: no instance %q in account %s region %s", field, gd.Instance, acct.ID, region)
				}
			}
			if g.InstanceID == "" && g.AccessKeyID == "" {
				return NodeError(gdn, "%s.guardduty: name the instance, or the access_key and user", field)
			}
			if g.Title == "" {
				g.Title = g.Type + " finding"
			}
			if g.Description == "" {
				g.Description = "GuardDuty finding " + g.Type + "."
			}
			f = g.ASFF()
		} else {
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j]; !asffMembers[k.Value] {
					return NodeError(k, "%s.%s: not an ASFF member", field, k.Value)
				}
			}
			var v map[string]any
			if err := n.Decode(&v); err != nil {
				return yamlError(n, err)
			}
			var err error
			if f, err = normalizeJSON(v); err != nil {
				return NodeError(n, "%s: %v", field, err)
			}
			defaults := map[string]any{
				"SchemaVersion": asffSchemaVersion, "AwsAccountId": acct.ID, "CreatedAt": stamp, "UpdatedAt": stamp,
				"ProductArn": fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, acct.ID, acct.ID),
			}
			for k, v := range defaults {
				if _, ok := f[k]; !ok {
					f[k] = v
				}
			}
		}
		if err := checkASFF(f); err != nil {
			at := n
			if m := reASFFErrMember.FindStringSubmatch(err.Error()); m != nil {
				if c := child(n, m[1]+m[2]); c != nil {
					at = c
				}
			}
			return NodeError(at, "%s: %v", field, err)
		}
		if f["AwsAccountId"] != acct.ID {
			return NodeError(orNode(child(n, "AwsAccountId"), n), "%s.AwsAccountId: %v is not the account %s", field, f["AwsAccountId"], acct.ID)
		}
		s.mu.Lock()
		dup := s.region(acct.ID, region).byKey[hubKey(f["ProductArn"].(string), f["Id"].(string))] != nil
		s.mu.Unlock()
		if dup {
			return NodeError(n, "%s: duplicate finding %v of product %v", field, f["Id"], f["ProductArn"])
		}
		if err := s.put(acct.ID, region, f, "securityhub.amazonaws.com", now); err != nil {
			return NodeError(n, "%s: %v", field, err)
		}
	}
	return nil
}
