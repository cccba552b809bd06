package sandbox

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// inspectorWorld is an account's "inspector2" section of the world file:
//
//	inspector2:
//	  enabled: true            # false: every call is AccessDeniedException
//	  region: us-east-1        # default: the account's first region
//	  findings:
//	    - instance: web-1      # an instance id, or the Name tag of one in the ec2 section
//	      vulnerability: CVE-2024-6387
//	      package: openssh-server
//	      version: 8.9p1-3ubuntu0.6
//	      fixed_in: 8.9p1-3ubuntu0.10   # fixAvailable YES; NO when empty
//	      severity: CRITICAL
//	      score: 9.8                    # inspectorScore; default by severity
//	      exploit_available: true
//	      title: "CVE-2024-6387 - openssh-server"   # default: vulnerability - package
//	      first_observed: 72h           # RFC 3339, or a duration before the sandbox clock
//
// type NETWORK_REACHABILITY findings take port (and protocol, default TCP)
// instead of vulnerability and package.
type inspectorWorld struct {
	Enabled  *bool                   `yaml:"enabled"`
	Region   string                  `yaml:"region"`
	Findings []inspectorWorldFinding `yaml:"findings"`
}

type inspectorWorldFinding struct {
	Instance         string   `yaml:"instance"`
	Type             string   `yaml:"type"`
	Vulnerability    string   `yaml:"vulnerability"`
	Package          string   `yaml:"package"`
	Version          string   `yaml:"version"`
	FixedIn          string   `yaml:"fixed_in"`
	Severity         string   `yaml:"severity"`
	Score            *float64 `yaml:"score"`
	ExploitAvailable bool     `yaml:"exploit_available"`
	Title            string   `yaml:"title"`
	Description      string   `yaml:"description"`
	Status           string   `yaml:"status"`
	FirstObserved    string   `yaml:"first_observed"`
	Port             int      `yaml:"port"`
	Protocol         string   `yaml:"protocol"`
}

var (
	reCVE          = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,}|GHSA-[a-z0-9-]+|ALAS[0-9A-Z-]*-[0-9]{4}-[0-9]+)$`)
	inspectorScore = map[string]float64{"INFORMATIONAL": 0, "LOW": 3.1, "MEDIUM": 5.3, "HIGH": 7.5, "CRITICAL": 9.8, "UNTRIAGED": 0}
)

// Seed creates an account's Inspector findings from its "inspector2"
// section.
func (s *inspectorService) Seed(acct *Account, section *yaml.Node) error {
	if section == nil {
		return nil
	}
	var w inspectorWorld
	if err := DecodeStrict(section, &w); err != nil {
		return prefixField("inspector2.", err)
	}
	region := sectionRegion(acct, w.Region)
	if w.Region != "" && !regionRE.MatchString(region) {
		return NodeError(child(section, "region"), "inspector2.region: not a region name: %q", region)
	}
	// Instances live in EC2: resolve them before taking our lock.
	instances := s.sb.EC2Instances(acct.ID, region)
	now := s.sb.Now()
	findingsNode := child(section, "findings")
	var findings []*inspectorFinding
	for i, wf := range w.Findings {
		n := item(findingsNode, i)
		field := fmt.Sprintf("inspector2.findings[%d]", i)
		at := func(key string) *yaml.Node { return orNode(child(n, key), n) }
		if wf.Instance == "" {
			return NodeError(n, "%s.instance: required (an instance id or Name tag)", field)
		}
		var inst *EC2InstanceState
		for j := range instances {
			if instances[j].ID == wf.Instance || instances[j].Tags["Name"] == wf.Instance {
				inst = &instances[j]
				break
			}
		}
		if inst == nil {
			return NodeError(at("instance"), "%s.instance: no instance %q in account %s region %s", field, wf.Instance, acct.ID, region)
		}
		typ := orDefault(wf.Type, "PACKAGE_VULNERABILITY")
		if typ != "PACKAGE_VULNERABILITY" && typ != "NETWORK_REACHABILITY" {
			return NodeError(at("type"), "%s.type: must be PACKAGE_VULNERABILITY or NETWORK_REACHABILITY, got %q", field, typ)
		}
		score, ok := inspectorScore[wf.Severity]
		if !ok {
			return NodeError(at("severity"), "%s.severity: must be INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL or UNTRIAGED, got %q", field, wf.Severity)
		}
		if wf.Score != nil {
			if *wf.Score < 0 || *wf.Score > 10 {
				return NodeError(at("score"), "%s.score: must be between 0 and 10, got %v", field, *wf.Score)
			}
			score = *wf.Score
		}
		status := orDefault(wf.Status, "ACTIVE")
		if status != "ACTIVE" && status != "SUPPRESSED" && status != "CLOSED" {
			return NodeError(at("status"), "%s.status: must be ACTIVE, SUPPRESSED or CLOSED, got %q", field, status)
		}
		first := now.Add(-7 * 24 * time.Hour)
		if wf.FirstObserved != "" {
			if t, err := time.Parse(time.RFC3339, wf.FirstObserved); err == nil {
				first = t.UTC()
			} else if d, err := time.ParseDuration(wf.FirstObserved); err == nil && d >= 0 {
				first = now.Add(-d)
			} else {
				return NodeError(at("first_observed"), "%s.first_observed: not an RFC 3339 time or a duration: %q", field, wf.FirstObserved)
			}
		}
		f := &inspectorFinding{
			FindingArn:      fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%s", region, acct.ID, s.sb.ids.Hex("", 32)),
			AwsAccountID:    acct.ID,
			Type:            typ,
			Severity:        wf.Severity,
			Status:          status,
			InspectorScore:  &score,
			FirstObservedAt: epochSeconds(first),
			LastObservedAt:  epochSeconds(now),
			UpdatedAt:       epochSeconds(now),
			Resources:       []inspectorResource{inspectorInstanceResource(acct.ID, region, inst, now)},
		}
		switch typ {
		case "PACKAGE_VULNERABILITY":
			if !reCVE.MatchString(wf.Vulnerability) {
				return NodeError(at("vulnerability"), "%s.vulnerability: required, a CVE-YYYY-NNNN (or GHSA/ALAS) id, got %q", field, wf.Vulnerability)
			}
			if wf.Package == "" || wf.Version == "" {
				return NodeError(at("package"), "%s.package: package and version are required for a PACKAGE_VULNERABILITY finding", field)
			}
			if wf.Port != 0 {
				return NodeError(at("port"), "%s.port: only NETWORK_REACHABILITY findings have a port", field)
			}
			f.Title = orDefault(wf.Title, wf.Vulnerability+" - "+wf.Package)
			f.Description = orDefault(wf.Description, fmt.Sprintf("%s is affected by %s.", wf.Package, wf.Vulnerability))
			f.ExploitAvailable, f.FixAvailable = "NO", "NO"
			if wf.ExploitAvailable {
				f.ExploitAvailable = "YES"
				f.ExploitabilityDetails = &inspectorExploitability{LastKnownExploitAt: epochSeconds(first)}
			}
			pkg := inspectorVulnerablePkg{Name: wf.Package, Version: wf.Version, Arch: "X86_64", PackageManager: "OS", FixedInVersion: "NotAvailable"}
			if wf.FixedIn != "" {
				f.FixAvailable = "YES"
				pkg.FixedInVersion = wf.FixedIn
				pkg.Remediation = "apt-get update && apt-get upgrade " + wf.Package
			}
			f.Remediation.Recommendation.Text = "None Provided"
			source := "NVD"
			f.PackageVulnerabilityDetails = &inspectorPackageVuln{
				VulnerabilityID:    wf.Vulnerability,
				Source:             source,
				SourceURL:          "https://nvd.nist.gov/vuln/detail/" + wf.Vulnerability,
				VendorSeverity:     wf.Severity,
				Cvss:               []inspectorCVSS{{BaseScore: score, ScoringVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Source: source, Version: "3.1"}},
				ReferenceUrls:      []string{"https://nvd.nist.gov/vuln/detail/" + wf.Vulnerability},
				VulnerablePackages: []inspectorVulnerablePkg{pkg},
			}
			sd := &inspectorScoreDetailsOut{}
			sd.AdjustedCvss.Score, sd.AdjustedCvss.ScoreSource, sd.AdjustedCvss.Version = score, source, "3.1"
			sd.AdjustedCvss.ScoringVector = f.PackageVulnerabilityDetails.Cvss[0].ScoringVector
			f.InspectorScoreDetails = sd
		case "NETWORK_REACHABILITY":
			if wf.Port < 1 || wf.Port > 65535 {
				return NodeError(at("port"), "%s.port: required for NETWORK_REACHABILITY, 1 to 65535", field)
			}
			if wf.Vulnerability != "" || wf.Package != "" {
				return NodeError(at("vulnerability"), "%s: NETWORK_REACHABILITY findings have no vulnerability or package", field)
			}
			proto := orDefault(wf.Protocol, "TCP")
			if proto != "TCP" && proto != "UDP" {
				return NodeError(at("protocol"), "%s.protocol: must be TCP or UDP, got %q", field, proto)
			}
			f.Title = orDefault(wf.Title, fmt.Sprintf("Port %d is reachable from an Internet Gateway", wf.Port))
			f.Description = orDefault(wf.Description, fmt.Sprintf("On the instance %s, the port range %d to %d is reachable from the internet through an Internet Gateway.", inst.ID, wf.Port, wf.Port))
			f.Remediation.Recommendation.Text = "You can restrict access to your instance by modifying the Security Groups or ACLs in the network path."
			nr := &inspectorNetworkReach{Protocol: proto}
			nr.OpenPortRange.Begin, nr.OpenPortRange.End = wf.Port, wf.Port
			nr.NetworkPath.Steps = []inspectorStep{{ComponentID: "igw-" + inst.VPC, ComponentType: "AWS::EC2::InternetGateway"}, {ComponentID: inst.NetworkInterface, ComponentType: "AWS::EC2::NetworkInterface"}}
			for _, g := range inst.SecurityGroups {
				nr.NetworkPath.Steps = append(nr.NetworkPath.Steps, inspectorStep{ComponentID: g, ComponentType: "AWS::EC2::SecurityGroup"})
			}
			nr.NetworkPath.Steps = append(nr.NetworkPath.Steps, inspectorStep{ComponentID: inst.ID, ComponentType: "AWS::EC2::Instance"})
			f.NetworkReachabilityDetails = nr
		}
		findings = append(findings, f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(acct.ID, region)
	if w.Enabled != nil && !*w.Enabled {
		if len(w.Findings) > 0 {
			return NodeError(findingsNode, "inspector2.findings: Inspector is not enabled in account %s (enabled: false) and can have no findings", acct.ID)
		}
		// Inspector is off everywhere in the account, not only in region.
		for _, reg := range acct.Regions {
			s.region(acct.ID, reg).disabled = true
		}
		r.disabled = true
	}
	r.findings = append(r.findings, findings...)
	return nil
}

// inspectorInstanceResource describes inst as Inspector's AWS_EC2_INSTANCE
// resource.
func inspectorInstanceResource(account, region string, inst *EC2InstanceState, now time.Time) inspectorResource {
	r := inspectorResource{Type: "AWS_EC2_INSTANCE", ID: inst.ID, Partition: "aws", Region: region, Tags: inst.Tags}
	d := &inspectorEC2Details{
		IamInstanceProfileArn: inst.InstanceProfileARN,
		ImageID:               inst.Image,
		LaunchedAt:            epochSeconds(now.Add(-30 * 24 * time.Hour)),
		Platform:              "UBUNTU_22_04",
		SubnetID:              inst.Subnet,
		Type:                  inst.Type,
		VpcID:                 inst.VPC,
	}
	if inst.PrivateIP != "" {
		d.IPV4Addresses = append(d.IPV4Addresses, inst.PrivateIP)
	}
	if inst.PublicIP != "" {
		d.IPV4Addresses = append(d.IPV4Addresses, inst.PublicIP)
	}
	r.Details.AwsEc2Instance = d
	return r
}

// prefixField puts prefix before the field path of a positioned decoding
// error ("findings[0].cvss: unknown field" becomes
// "inspector2.findings[0].cvss: unknown field").
func prefixField(prefix string, err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		c := *pe
		c.Msg = prefix + c.Msg
		return &c
	}
	return err
}
