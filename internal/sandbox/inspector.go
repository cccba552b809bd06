package sandbox

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// inspectorService simulates Amazon Inspector (inspector2) over restJson1:
// ListFindings and ListCoverage. Findings come from the world file's
// "inspector2" section (inspector_world.go); coverage is every EC2
// instance of the region. An account whose section says enabled: false
// gets AccessDeniedException, as an account that never activated
// Inspector does.
type inspectorService struct {
	sb *Sandbox

	mu      sync.Mutex
	regions map[string]*inspectorRegion // account/region
}

// inspectorRegion is Inspector's state in one account and region.
type inspectorRegion struct {
	disabled bool
	findings []*inspectorFinding
}

func newInspectorService(sb *Sandbox) Service {
	return &inspectorService{sb: sb, regions: map[string]*inspectorRegion{}}
}

func (s *inspectorService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "inspector2", Protocol: ProtocolRESTJSON, EventSource: "inspector2.amazonaws.com"}
}

// OperationName names the operation from the method and path.
func (s *inspectorService) OperationName(req *Request) string {
	if req.HTTP.Method != http.MethodPost {
		return ""
	}
	switch strings.TrimSuffix(req.HTTP.URL.Path, "/") {
	case "/findings/list":
		return "ListFindings"
	case "/coverage/list":
		return "ListCoverage"
	}
	return ""
}

// region returns the state of account/region, creating it. Callers hold
// s.mu.
func (s *inspectorService) region(account, region string) *inspectorRegion {
	k := account + "/" + region
	r := s.regions[k]
	if r == nil {
		r = &inspectorRegion{}
		s.regions[k] = r
	}
	return r
}

// epochSeconds is a timestamp on the restJson1 wire: seconds since the
// epoch, as a JSON number.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	tm := time.Time(t)
	return []byte(strconv.FormatFloat(float64(tm.UnixMilli())/1000, 'f', -1, 64)), nil
}

// inspectorFinding is an Inspector2 Finding, with the wire's member names.
type inspectorFinding struct {
	FindingArn                  string                    `json:"findingArn"`
	AwsAccountID                string                    `json:"awsAccountId"`
	Type                        string                    `json:"type"`
	Title                       string                    `json:"title,omitempty"`
	Description                 string                    `json:"description"`
	Severity                    string                    `json:"severity"`
	Status                      string                    `json:"status"`
	InspectorScore              *float64                  `json:"inspectorScore,omitempty"`
	ExploitAvailable            string                    `json:"exploitAvailable,omitempty"`
	FixAvailable                string                    `json:"fixAvailable,omitempty"`
	FirstObservedAt             epochSeconds              `json:"firstObservedAt"`
	LastObservedAt              epochSeconds              `json:"lastObservedAt"`
	UpdatedAt                   epochSeconds              `json:"updatedAt"`
	Remediation                 inspectorRemediation      `json:"remediation"`
	Resources                   []inspectorResource       `json:"resources"`
	PackageVulnerabilityDetails *inspectorPackageVuln     `json:"packageVulnerabilityDetails,omitempty"`
	NetworkReachabilityDetails  *inspectorNetworkReach    `json:"networkReachabilityDetails,omitempty"`
	ExploitabilityDetails       *inspectorExploitability  `json:"exploitabilityDetails,omitempty"`
	InspectorScoreDetails       *inspectorScoreDetailsOut `json:"inspectorScoreDetails,omitempty"`
}

type inspectorRemediation struct {
	Recommendation struct {
		Text string `json:"text,omitempty"`
		URL  string `json:"Url,omitempty"`
	} `json:"recommendation"`
}

type inspectorResource struct {
	Type      string            `json:"type"`
	ID        string            `json:"id"`
	Partition string            `json:"partition"`
	Region    string            `json:"region"`
	Tags      map[string]string `json:"tags,omitempty"`
	Details   struct {
		AwsEc2Instance *inspectorEC2Details `json:"awsEc2Instance,omitempty"`
	} `json:"details"`
}

type inspectorEC2Details struct {
	IamInstanceProfileArn string       `json:"iamInstanceProfileArn,omitempty"`
	ImageID               string       `json:"imageId,omitempty"`
	IPV4Addresses         []string     `json:"ipV4Addresses,omitempty"`
	KeyName               string       `json:"keyName,omitempty"`
	LaunchedAt            epochSeconds `json:"launchedAt"`
	Platform              string       `json:"platform,omitempty"`
	SubnetID              string       `json:"subnetId,omitempty"`
	Type                  string       `json:"type,omitempty"`
	VpcID                 string       `json:"vpcId,omitempty"`
}

type inspectorCVSS struct {
	BaseScore     float64 `json:"baseScore"`
	ScoringVector string  `json:"scoringVector"`
	Source        string  `json:"source"`
	Version       string  `json:"version"`
}

type inspectorPackageVuln struct {
	VulnerabilityID        string                   `json:"vulnerabilityId"`
	Source                 string                   `json:"source"`
	SourceURL              string                   `json:"sourceUrl,omitempty"`
	VendorSeverity         string                   `json:"vendorSeverity,omitempty"`
	Cvss                   []inspectorCVSS          `json:"cvss,omitempty"`
	ReferenceUrls          []string                 `json:"referenceUrls,omitempty"`
	RelatedVulnerabilities []string                 `json:"relatedVulnerabilities,omitempty"`
	VulnerablePackages     []inspectorVulnerablePkg `json:"vulnerablePackages"`
	VendorCreatedAt        *epochSeconds            `json:"vendorCreatedAt,omitempty"`
}

type inspectorVulnerablePkg struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Release        string `json:"release,omitempty"`
	Arch           string `json:"arch,omitempty"`
	Epoch          int    `json:"epoch"`
	FixedInVersion string `json:"fixedInVersion,omitempty"`
	PackageManager string `json:"packageManager,omitempty"`
	Remediation    string `json:"remediation,omitempty"`
}

type inspectorNetworkReach struct {
	Protocol      string `json:"protocol"`
	OpenPortRange struct {
		Begin int `json:"begin"`
		End   int `json:"end"`
	} `json:"openPortRange"`
	NetworkPath struct {
		Steps []inspectorStep `json:"steps"`
	} `json:"networkPath"`
}

type inspectorStep struct {
	ComponentID   string `json:"componentId"`
	ComponentType string `json:"componentType"`
}

type inspectorExploitability struct {
	LastKnownExploitAt epochSeconds `json:"lastKnownExploitAt"`
}

type inspectorScoreDetailsOut struct {
	AdjustedCvss struct {
		Score         float64 `json:"score"`
		ScoreSource   string  `json:"scoreSource"`
		ScoringVector string  `json:"scoringVector"`
		Version       string  `json:"version"`
	} `json:"adjustedCvss"`
}

// inspectorFilters is the part of FilterCriteria the sandbox applies.
// Other criteria are refused with ValidationException rather than
// ignored, so that a test never passes on a filter that did nothing.
type inspectorFilters struct {
	AwsAccountID        []wireStringFilter `json:"awsAccountId"`
	FindingArn          []wireStringFilter `json:"findingArn"`
	FindingStatus       []wireStringFilter `json:"findingStatus"`
	FindingType         []wireStringFilter `json:"findingType"`
	Severity            []wireStringFilter `json:"severity"`
	Title               []wireStringFilter `json:"title"`
	ResourceID          []wireStringFilter `json:"resourceId"`
	ResourceType        []wireStringFilter `json:"resourceType"`
	Ec2InstanceImageID  []wireStringFilter `json:"ec2InstanceImageId"`
	Ec2InstanceSubnetID []wireStringFilter `json:"ec2InstanceSubnetId"`
	Ec2InstanceVpcID    []wireStringFilter `json:"ec2InstanceVpcId"`
	VulnerabilityID     []wireStringFilter `json:"vulnerabilityId"`
	VulnerabilitySource []wireStringFilter `json:"vulnerabilitySource"`
	ExploitAvailable    []wireStringFilter `json:"exploitAvailable"`
	FixAvailable        []wireStringFilter `json:"fixAvailable"`
	InspectorScore      []struct {
		LowerInclusive *float64 `json:"lowerInclusive"`
		UpperInclusive *float64 `json:"upperInclusive"`
	} `json:"inspectorScore"`
}

// inspectorField is one string criterion: its name, its filters and the
// finding's values for it.
type inspectorField struct {
	name string
	fs   []wireStringFilter
	get  func(f *inspectorFinding) []string
}

func (fc *inspectorFilters) fields() []inspectorField {
	one := func(s string) []string { return []string{s} }
	ec2 := func(pick func(d *inspectorEC2Details) string) func(f *inspectorFinding) []string {
		return func(f *inspectorFinding) []string {
			var out []string
			for _, r := range f.Resources {
				if d := r.Details.AwsEc2Instance; d != nil {
					out = append(out, pick(d))
				}
			}
			return out
		}
	}
	vuln := func(pick func(p *inspectorPackageVuln) string) func(f *inspectorFinding) []string {
		return func(f *inspectorFinding) []string {
			if f.PackageVulnerabilityDetails == nil {
				return nil
			}
			return one(pick(f.PackageVulnerabilityDetails))
		}
	}
	return []inspectorField{
		{"awsAccountId", fc.AwsAccountID, func(f *inspectorFinding) []string { return one(f.AwsAccountID) }},
		{"findingArn", fc.FindingArn, func(f *inspectorFinding) []string { return one(f.FindingArn) }},
		{"findingStatus", fc.FindingStatus, func(f *inspectorFinding) []string { return one(f.Status) }},
		{"findingType", fc.FindingType, func(f *inspectorFinding) []string { return one(f.Type) }},
		{"severity", fc.Severity, func(f *inspectorFinding) []string { return one(f.Severity) }},
		{"title", fc.Title, func(f *inspectorFinding) []string { return one(f.Title) }},
		{"resourceId", fc.ResourceID, func(f *inspectorFinding) []string {
			var out []string
			for _, r := range f.Resources {
				out = append(out, r.ID)
			}
			return out
		}},
		{"resourceType", fc.ResourceType, func(f *inspectorFinding) []string {
			var out []string
			for _, r := range f.Resources {
				out = append(out, r.Type)
			}
			return out
		}},
		{"ec2InstanceImageId", fc.Ec2InstanceImageID, ec2(func(d *inspectorEC2Details) string { return d.ImageID })},
		{"ec2InstanceSubnetId", fc.Ec2InstanceSubnetID, ec2(func(d *inspectorEC2Details) string { return d.SubnetID })},
		{"ec2InstanceVpcId", fc.Ec2InstanceVpcID, ec2(func(d *inspectorEC2Details) string { return d.VpcID })},
		{"vulnerabilityId", fc.VulnerabilityID, vuln(func(p *inspectorPackageVuln) string { return p.VulnerabilityID })},
		{"vulnerabilitySource", fc.VulnerabilitySource, vuln(func(p *inspectorPackageVuln) string { return p.Source })},
		{"exploitAvailable", fc.ExploitAvailable, func(f *inspectorFinding) []string { return one(f.ExploitAvailable) }},
		{"fixAvailable", fc.FixAvailable, func(f *inspectorFinding) []string { return one(f.FixAvailable) }},
	}
}

// inspectorKnownCriteria are the FilterCriteria members the sandbox
// applies.
var inspectorKnownCriteria = map[string]bool{
	"awsAccountId": true, "findingArn": true, "findingStatus": true, "findingType": true, "severity": true,
	"title": true, "resourceId": true, "resourceType": true, "ec2InstanceImageId": true, "ec2InstanceSubnetId": true,
	"ec2InstanceVpcId": true, "vulnerabilityId": true, "vulnerabilitySource": true, "exploitAvailable": true,
	"fixAvailable": true, "inspectorScore": true,
}

func (s *inspectorService) Handle(ctx context.Context, req *Request) (*Response, error) {
	switch req.Operation {
	case "ListFindings", "ListCoverage":
	default:
		return nil, ErrorStatus(http.StatusNotFound, "ResourceNotFoundException", "The sandbox does not simulate Inspector2 %s %s.", req.HTTP.Method, req.HTTP.URL.Path)
	}
	s.mu.Lock()
	disabled := s.region(req.Caller.Account, req.Region).disabled
	s.mu.Unlock()
	if disabled {
		return nil, ErrorStatus(http.StatusForbidden, "AccessDeniedException", "Invoking account %s is not enabled for Amazon Inspector in %s.", req.Caller.Account, req.Region)
	}
	if req.Operation == "ListCoverage" {
		return s.listCoverage(req)
	}
	return s.listFindings(req)
}

func inspectorValidation(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusBadRequest, "ValidationException", format, args...)
}

func (s *inspectorService) listFindings(req *Request) (*Response, error) {
	var in struct {
		FilterCriteria json.RawMessage `json:"filterCriteria"`
		MaxResults     *int            `json:"maxResults"`
		NextToken      string          `json:"nextToken"`
		SortCriteria   *struct {
			Field     string `json:"field"`
			SortOrder string `json:"sortOrder"`
		} `json:"sortCriteria"`
	}
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &in); err != nil {
			return nil, inspectorValidation("could not parse the request body: %v", err)
		}
	}
	var fc inspectorFilters
	if len(in.FilterCriteria) > 0 {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(in.FilterCriteria, &raw); err != nil {
			return nil, inspectorValidation("filterCriteria: %v", err)
		}
		for _, k := range sortedKeys(raw) {
			if !inspectorKnownCriteria[k] {
				return nil, inspectorValidation("filterCriteria.%s: the sandbox does not apply this criterion", k)
			}
		}
		if err := json.Unmarshal(in.FilterCriteria, &fc); err != nil {
			return nil, inspectorValidation("filterCriteria: %v", err)
		}
	}
	fields := fc.fields()
	for _, f := range fields {
		if len(f.fs) > 10 {
			return nil, inspectorValidation("filterCriteria.%s: at most 10 filters", f.name)
		}
		if err := checkStringFilters("filterCriteria."+f.name, f.fs, "EQUALS", "PREFIX", "NOT_EQUALS"); err != nil {
			return nil, inspectorValidation("%v", err)
		}
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, inspectorValidation("maxResults: must be between 1 and 100, got %d", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	offset, ok := parsePageToken("inspector2", in.NextToken)
	if !ok {
		return nil, inspectorValidation("nextToken: invalid pagination token")
	}
	sortField, order := "SEVERITY", "DESC"
	if in.SortCriteria != nil {
		sortField, order = in.SortCriteria.Field, in.SortCriteria.SortOrder
		switch sortField {
		case "SEVERITY", "FIRST_OBSERVED_AT", "LAST_OBSERVED_AT", "INSPECTOR_SCORE", "VULNERABILITY_ID", "FINDING_STATUS", "FINDING_TYPE", "RESOURCE_TYPE", "AWS_ACCOUNT_ID":
		default:
			return nil, inspectorValidation("sortCriteria.field: the sandbox does not sort by %q", sortField)
		}
		if order != "ASC" && order != "DESC" {
			return nil, inspectorValidation("sortCriteria.sortOrder: must be ASC or DESC, got %q", order)
		}
	}

	s.mu.Lock()
	var out []inspectorFinding
	for _, f := range s.region(req.Caller.Account, req.Region).findings {
		if inspectorMatches(&fc, fields, f) {
			out = append(out, *f)
		}
	}
	s.mu.Unlock()

	slices.SortStableFunc(out, func(a, b inspectorFinding) int {
		c := inspectorCompare(sortField, &a, &b)
		if order == "DESC" {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.FindingArn, b.FindingArn))
	})
	res := struct {
		Findings  []inspectorFinding `json:"findings"`
		NextToken string             `json:"nextToken,omitempty"`
	}{Findings: []inspectorFinding{}}
	if offset < len(out) {
		end := min(offset+max, len(out))
		res.Findings = out[offset:end]
		if end < len(out) {
			res.NextToken = pageToken("inspector2", end)
		}
	}
	req.Trail.RequestParameters = map[string]any{"maxResults": max}
	return JSONResult(res)
}

func inspectorMatches(fc *inspectorFilters, fields []inspectorField, f *inspectorFinding) bool {
	for _, fl := range fields {
		if len(fl.fs) > 0 && !matchStringFilters(fl.fs, fl.get(f)) {
			return false
		}
	}
	if len(fc.InspectorScore) > 0 {
		if f.InspectorScore == nil {
			return false
		}
		inRange := false
		for _, r := range fc.InspectorScore {
			if (r.LowerInclusive == nil || *f.InspectorScore >= *r.LowerInclusive) && (r.UpperInclusive == nil || *f.InspectorScore <= *r.UpperInclusive) {
				inRange = true
			}
		}
		if !inRange {
			return false
		}
	}
	return true
}

func inspectorCompare(field string, a, b *inspectorFinding) int {
	switch field {
	case "SEVERITY":
		return cmp.Compare(severityRank(a.Severity), severityRank(b.Severity))
	case "FIRST_OBSERVED_AT":
		return time.Time(a.FirstObservedAt).Compare(time.Time(b.FirstObservedAt))
	case "LAST_OBSERVED_AT":
		return time.Time(a.LastObservedAt).Compare(time.Time(b.LastObservedAt))
	case "INSPECTOR_SCORE":
		var x, y float64
		if a.InspectorScore != nil {
			x = *a.InspectorScore
		}
		if b.InspectorScore != nil {
			y = *b.InspectorScore
		}
		return cmp.Compare(x, y)
	case "VULNERABILITY_ID":
		return cmp.Compare(vulnID(a), vulnID(b))
	case "FINDING_STATUS":
		return cmp.Compare(a.Status, b.Status)
	case "FINDING_TYPE":
		return cmp.Compare(a.Type, b.Type)
	case "RESOURCE_TYPE":
		return cmp.Compare(firstResourceType(a), firstResourceType(b))
	case "AWS_ACCOUNT_ID":
		return cmp.Compare(a.AwsAccountID, b.AwsAccountID)
	}
	return 0
}

func vulnID(f *inspectorFinding) string {
	if f.PackageVulnerabilityDetails == nil {
		return ""
	}
	return f.PackageVulnerabilityDetails.VulnerabilityID
}

func firstResourceType(f *inspectorFinding) string {
	if len(f.Resources) == 0 {
		return ""
	}
	return f.Resources[0].Type
}

// listCoverage reports every EC2 instance of the region as covered by
// agent-based package scanning.
func (s *inspectorService) listCoverage(req *Request) (*Response, error) {
	var in struct {
		FilterCriteria struct {
			AccountID      []wireStringFilter `json:"accountId"`
			ResourceID     []wireStringFilter `json:"resourceId"`
			ResourceType   []wireStringFilter `json:"resourceType"`
			ScanType       []wireStringFilter `json:"scanType"`
			ScanStatusCode []wireStringFilter `json:"scanStatusCode"`
		} `json:"filterCriteria"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &in); err != nil {
			return nil, inspectorValidation("could not parse the request body: %v", err)
		}
	}
	fc := in.FilterCriteria
	checks := []struct {
		name string
		fs   []wireStringFilter
	}{{"accountId", fc.AccountID}, {"resourceId", fc.ResourceID}, {"resourceType", fc.ResourceType}, {"scanType", fc.ScanType}, {"scanStatusCode", fc.ScanStatusCode}}
	for _, c := range checks {
		if err := checkStringFilters("filterCriteria."+c.name, c.fs, "EQUALS", "NOT_EQUALS"); err != nil {
			return nil, inspectorValidation("%v", err)
		}
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 200 {
			return nil, inspectorValidation("maxResults: must be between 1 and 200, got %d", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	offset, ok := parsePageToken("inspector2-coverage", in.NextToken)
	if !ok {
		return nil, inspectorValidation("nextToken: invalid pagination token")
	}
	type covered struct {
		AccountID    string `json:"accountId"`
		ResourceID   string `json:"resourceId"`
		ResourceType string `json:"resourceType"`
		ScanType     string `json:"scanType"`
		ScanMode     string `json:"scanMode"`
		ScanStatus   struct {
			StatusCode string `json:"statusCode"`
			Reason     string `json:"reason"`
		} `json:"scanStatus"`
		ResourceMetadata struct {
			Ec2 struct {
				AmiID    string            `json:"amiId,omitempty"`
				Platform string            `json:"platform"`
				Tags     map[string]string `json:"tags,omitempty"`
			} `json:"ec2"`
		} `json:"resourceMetadata"`
		LastScannedAt epochSeconds `json:"lastScannedAt"`
	}
	var all []covered
	now := s.sb.Now()
	for _, inst := range s.sb.EC2Instances(req.Caller.Account, req.Region) {
		if inst.State == "terminated" {
			continue
		}
		c := covered{AccountID: req.Caller.Account, ResourceID: inst.ID, ResourceType: "AWS_EC2_INSTANCE", ScanType: "PACKAGE", ScanMode: "EC2_SSM_AGENT_BASED", LastScannedAt: epochSeconds(now)}
		c.ScanStatus.StatusCode, c.ScanStatus.Reason = "ACTIVE", "SUCCESSFUL"
		c.ResourceMetadata.Ec2.AmiID, c.ResourceMetadata.Ec2.Platform, c.ResourceMetadata.Ec2.Tags = inst.Image, "LINUX", inst.Tags
		ok := matchStringFilters(fc.AccountID, []string{c.AccountID}) && matchStringFilters(fc.ResourceID, []string{c.ResourceID}) &&
			matchStringFilters(fc.ResourceType, []string{c.ResourceType}) && matchStringFilters(fc.ScanType, []string{c.ScanType}) &&
			matchStringFilters(fc.ScanStatusCode, []string{c.ScanStatus.StatusCode})
		if ok {
			all = append(all, c)
		}
	}
	res := struct {
		CoveredResources []covered `json:"coveredResources"`
		NextToken        string    `json:"nextToken,omitempty"`
	}{CoveredResources: []covered{}}
	if offset < len(all) {
		end := min(offset+max, len(all))
		res.CoveredResources = all[offset:end]
		if end < len(all) {
			res.NextToken = pageToken("inspector2-coverage", end)
		}
	}
	return JSONResult(res)
}

// InspectorFindingState is an Inspector finding as tests and the demo see
// it.
type InspectorFindingState struct {
	ARN             string
	InstanceID      string
	Type            string
	Severity        string
	Status          string
	VulnerabilityID string
	Title           string
}

// InspectorFindings lists the Inspector findings of an account and
// region, in the order the world seeded them.
func (sb *Sandbox) InspectorFindings(account, region string) []InspectorFindingState {
	s := sb.inspector()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []InspectorFindingState
	for _, f := range s.region(account, region).findings {
		st := InspectorFindingState{ARN: f.FindingArn, Type: f.Type, Severity: f.Severity, Status: f.Status, VulnerabilityID: vulnID(f), Title: f.Title}
		if len(f.Resources) > 0 {
			st.InstanceID = f.Resources[0].ID
		}
		out = append(out, st)
	}
	return out
}

// inspector returns the current Inspector service.
func (sb *Sandbox) inspector() *inspectorService {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*inspectorService); ok {
			return s
		}
	}
	return nil
}
