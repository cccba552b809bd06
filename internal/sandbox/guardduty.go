package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// guardDutyService simulates the GuardDuty API (restJson1) that incident
// response uses: ListDetectors, GetDetector, ListFindings, GetFindings,
// ArchiveFindings and UnarchiveFindings. Each account has one detector per
// region of the world, created at seed unless its "guardduty" section says
// enabled: false. The findings are the ones the sandbox's finding builder
// (NewFinding, PublishFinding, the scenarios) produced.
//
// The account's world-file section:
//
//	guardduty:
//	  enabled: true          # default; false: no detector in any region
//	  detector_id: 32 hex    # fixes the detector id of the first region
type guardDutyService struct {
	sb *Sandbox

	mu        sync.Mutex
	detectors map[string]*gdDetector // account + "/" + region
}

type gdDetector struct {
	id, account, region string
	created             time.Time
	findings            map[string]map[string]any // by finding id, API shape
	order               []string                  // finding ids, oldest first
}

func newGuardDutyService(sb *Sandbox) Service {
	return &guardDutyService{sb: sb, detectors: map[string]*gdDetector{}}
}

func (s *guardDutyService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "guardduty", Protocol: ProtocolRESTJSON, EventSource: "guardduty.amazonaws.com"}
}

type gdWorld struct {
	Enabled    *bool  `yaml:"enabled"`
	DetectorID string `yaml:"detector_id"`
}

var gdDetectorRE = regexp.MustCompile(`^[a-z0-9]{32}$`)

// Seed creates the account's detectors.
func (s *guardDutyService) Seed(acct *Account, section *yaml.Node) error {
	var w gdWorld
	if err := DecodeStrict(section, &w); err != nil {
		return err
	}
	if w.Enabled != nil && !*w.Enabled {
		if w.DetectorID != "" {
			return NodeError(ec2Child(section, "detector_id"), "guardduty.detector_id: set on a disabled GuardDuty (enabled: false)")
		}
		return nil
	}
	if w.DetectorID != "" && !gdDetectorRE.MatchString(w.DetectorID) {
		return NodeError(ec2Child(section, "detector_id"), "guardduty.detector_id: %q is not a detector id (32 lowercase letters or digits)", w.DetectorID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, region := range acct.Regions {
		id := gdDerivedID(acct.ID, region)
		if i == 0 && w.DetectorID != "" {
			id = w.DetectorID
		}
		s.detectors[acct.ID+"/"+region] = &gdDetector{id: id, account: acct.ID, region: region, created: s.sb.Now(), findings: map[string]map[string]any{}}
	}
	return nil
}

// gdDerivedID is a detector id that depends only on account and region, so
// that seeding draws nothing from the id sequence.
func gdDerivedID(account, region string) string {
	sum := sha256.Sum256([]byte("guardduty/" + account + "/" + region))
	return hex.EncodeToString(sum[:16])
}

// OperationName names the request from its method and path.
func (s *guardDutyService) OperationName(req *Request) string {
	parts := strings.Split(strings.Trim(req.HTTP.URL.Path, "/"), "/")
	if len(parts) == 0 || parts[0] != "detector" {
		return ""
	}
	get, post := req.HTTP.Method == http.MethodGet, req.HTTP.Method == http.MethodPost
	switch {
	case len(parts) == 1 && get:
		return "ListDetectors"
	case len(parts) == 2 && get:
		return "GetDetector"
	case len(parts) == 3 && parts[2] == "findings" && post:
		return "ListFindings"
	case len(parts) == 4 && parts[2] == "findings" && post:
		switch parts[3] {
		case "get":
			return "GetFindings"
		case "archive":
			return "ArchiveFindings"
		case "unarchive":
			return "UnarchiveFindings"
		}
	}
	return ""
}

func gdBadRequest(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusBadRequest, "BadRequestException", format, args...)
}

func gdInvalidInput(what string) *APIError {
	return gdBadRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: %s.", what)
}

func (s *guardDutyService) Handle(ctx context.Context, req *Request) (*Response, error) {
	if req.Operation == "" {
		return nil, ErrorStatus(http.StatusNotFound, "NotFoundException", "The sandbox does not simulate GuardDuty %s %s.", req.HTTP.Method, req.HTTP.URL.Path)
	}
	if req.Operation == "ListDetectors" {
		return s.listDetectors(req)
	}
	parts := strings.Split(strings.Trim(req.HTTP.URL.Path, "/"), "/")
	id := parts[1]
	req.Trail.RequestParameters = map[string]any{"detectorId": id}
	var body map[string]json.RawMessage
	if req.HTTP.Method == http.MethodPost && len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &body); err != nil {
			return nil, gdBadRequest("The request is rejected because the JSON body could not be parsed: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.detectors[req.Caller.Account+"/"+req.Region]
	if d == nil || d.id != id {
		return nil, gdBadRequest("The request is rejected because the input detectorId is not owned by the current account.")
	}
	switch req.Operation {
	case "GetDetector":
		created := d.created.UTC().Format("2006-01-02T15:04:05.000Z")
		return JSONResult(map[string]any{
			"createdAt": created, "updatedAt": created, "status": "ENABLED", "findingPublishingFrequency": "SIX_HOURS",
			"serviceRole": "arn:aws:iam::" + d.account + ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
			"tags":        map[string]string{},
		})
	case "ListFindings":
		return s.listFindings(req, d, body)
	case "GetFindings":
		return s.getFindings(req, d, body)
	case "ArchiveFindings", "UnarchiveFindings":
		return s.archive(req, d, body, req.Operation == "ArchiveFindings")
	}
	return nil, ErrorStatus(http.StatusNotFound, "NotFoundException", "The sandbox does not simulate GuardDuty %s.", req.Operation)
}

func (s *guardDutyService) listDetectors(req *Request) (*Response, error) {
	q := req.HTTP.URL.Query()
	if m := q.Get("maxResults"); m != "" {
		if n, err := strconv.Atoi(m); err != nil || n < 1 || n > 50 {
			return nil, gdInvalidInput("maxResults must be from 1 to 50")
		}
	}
	ids := []string{}
	s.mu.Lock()
	if d := s.detectors[req.Caller.Account+"/"+req.Region]; d != nil {
		ids = append(ids, d.id)
	}
	s.mu.Unlock()
	return JSONResult(map[string]any{"detectorIds": ids})
}

// findingIDs reads the findingIds member: 1 to 50 ids.
func findingIDs(body map[string]json.RawMessage) ([]string, error) {
	var ids []string
	if raw, ok := body["findingIds"]; ok {
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, gdInvalidInput("findingIds must be a list of strings")
		}
	}
	if len(ids) == 0 {
		return nil, gdBadRequest("The request is rejected because the input findingIds is missing or empty.")
	}
	if len(ids) > 50 {
		return nil, gdInvalidInput("findingIds has more than 50 members")
	}
	return ids, nil
}

func (s *guardDutyService) getFindings(req *Request, d *gdDetector, body map[string]json.RawMessage) (*Response, error) {
	ids, err := findingIDs(body)
	if err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"detectorId": d.id, "findingIds": ids}
	var out []map[string]any
	for _, id := range ids {
		if f := d.findings[id]; f != nil {
			out = append(out, f)
		}
	}
	if raw, ok := body["sortCriteria"]; ok {
		sc, err := gdSort(raw)
		if err != nil {
			return nil, err
		}
		sc.sort(out)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return JSONResult(map[string]any{"findings": out})
}

func (s *guardDutyService) archive(req *Request, d *gdDetector, body map[string]json.RawMessage, archived bool) (*Response, error) {
	ids, err := findingIDs(body)
	if err != nil {
		return nil, err
	}
	req.Trail.RequestParameters = map[string]any{"detectorId": d.id, "findingIds": ids}
	for _, id := range ids {
		if d.findings[id] == nil {
			return nil, gdBadRequest("The request is rejected because the input findingIds contains %s, which is not a finding of detector %s.", id, d.id)
		}
	}
	for _, id := range ids {
		set(d.findings[id], "service.archived", archived)
	}
	return JSONResult(nil)
}

// gdCriteria lists the FindingCriteria fields the sandbox filters on.
var gdCriteria = map[string]bool{
	"accountId": true, "region": true, "id": true, "type": true, "severity": true, "createdAt": true, "updatedAt": true,
	"resource.resourceType": true, "resource.instanceDetails.instanceId": true,
	"resource.instanceDetails.tags.key": true, "resource.instanceDetails.tags.value": true,
	"resource.accessKeyDetails.accessKeyId": true, "resource.accessKeyDetails.userName": true, "resource.accessKeyDetails.principalId": true,
	"service.archived": true, "service.resourceRole": true, "service.action.actionType": true,
	"service.action.awsApiCallAction.api": true, "service.action.awsApiCallAction.serviceName": true,
	"service.action.awsApiCallAction.remoteIpDetails.ipAddressV4":        true,
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": true,
	"service.action.networkConnectionAction.localPortDetails.port":       true,
}

// gdCondition is one Condition of FindingCriteria.
type gdCondition struct {
	Eq                 []string `json:"eq"`
	Equals             []string `json:"equals"`
	Neq                []string `json:"neq"`
	NotEquals          []string `json:"notEquals"`
	Gt                 *float64 `json:"gt"`
	Gte                *float64 `json:"gte"`
	Lt                 *float64 `json:"lt"`
	Lte                *float64 `json:"lte"`
	GreaterThan        *float64 `json:"greaterThan"`
	GreaterThanOrEqual *float64 `json:"greaterThanOrEqual"`
	LessThan           *float64 `json:"lessThan"`
	LessThanOrEqual    *float64 `json:"lessThanOrEqual"`
	Matches            []string `json:"matches"`
	NotMatches         []string `json:"notMatches"`
}

func (c gdCondition) match(values []any) bool {
	strs := make([]string, 0, len(values))
	nums := make([]float64, 0, len(values))
	for _, v := range values {
		switch x := v.(type) {
		case string:
			strs = append(strs, x)
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				nums = append(nums, float64(t.UnixMilli()))
			}
		case bool:
			strs = append(strs, strconv.FormatBool(x))
		case float64:
			strs = append(strs, strconv.FormatFloat(x, 'f', -1, 64))
			nums = append(nums, x)
		}
	}
	anyIn := func(want []string) bool {
		for _, w := range want {
			for _, s := range strs {
				if s == w {
					return true
				}
			}
		}
		return false
	}
	for _, eq := range [][]string{c.Eq, c.Equals} {
		if eq != nil && !anyIn(eq) {
			return false
		}
	}
	for _, neq := range [][]string{c.Neq, c.NotEquals} {
		if neq != nil && anyIn(neq) {
			return false
		}
	}
	globs := func(pats []string) bool {
		for _, p := range pats {
			for _, s := range strs {
				if ec2Glob(p, s) {
					return true
				}
			}
		}
		return false
	}
	if c.Matches != nil && !globs(c.Matches) {
		return false
	}
	if c.NotMatches != nil && globs(c.NotMatches) {
		return false
	}
	cmps := []struct {
		bound *float64
		ok    func(v, b float64) bool
	}{
		{c.Gt, func(v, b float64) bool { return v > b }}, {c.GreaterThan, func(v, b float64) bool { return v > b }},
		{c.Gte, func(v, b float64) bool { return v >= b }}, {c.GreaterThanOrEqual, func(v, b float64) bool { return v >= b }},
		{c.Lt, func(v, b float64) bool { return v < b }}, {c.LessThan, func(v, b float64) bool { return v < b }},
		{c.Lte, func(v, b float64) bool { return v <= b }}, {c.LessThanOrEqual, func(v, b float64) bool { return v <= b }},
	}
	for _, cmp := range cmps {
		if cmp.bound == nil {
			continue
		}
		found := false
		for _, n := range nums {
			if cmp.ok(n, *cmp.bound) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// gdValues returns the values at a dotted path; lists on the way fan out.
func gdValues(v any, path []string) []any {
	if len(path) == 0 {
		if l, ok := v.([]any); ok {
			return l
		}
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		next, ok := x[path[0]]
		if !ok {
			return nil
		}
		return gdValues(next, path[1:])
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, gdValues(e, path)...)
		}
		return out
	}
	return nil
}

type gdSortCriteria struct {
	AttributeName string `json:"attributeName"`
	OrderBy       string `json:"orderBy"`
}

func gdSort(raw json.RawMessage) (gdSortCriteria, error) {
	var sc gdSortCriteria
	if err := json.Unmarshal(raw, &sc); err != nil {
		return sc, gdInvalidInput("sortCriteria")
	}
	if sc.OrderBy != "" && sc.OrderBy != "ASC" && sc.OrderBy != "DESC" {
		return sc, gdInvalidInput("sortCriteria.orderBy must be ASC or DESC")
	}
	return sc, nil
}

func (sc gdSortCriteria) sort(fs []map[string]any) {
	if sc.AttributeName == "" {
		return
	}
	path := strings.Split(sc.AttributeName, ".")
	key := func(f map[string]any) (float64, string) {
		vs := gdValues(f, path)
		if len(vs) == 0 {
			return 0, ""
		}
		switch x := vs[0].(type) {
		case float64:
			return x, ""
		case string:
			return 0, x
		case bool:
			return 0, strconv.FormatBool(x)
		}
		return 0, ""
	}
	less := func(a, b map[string]any) bool {
		an, as := key(a)
		bn, bs := key(b)
		if an != bn {
			return an < bn
		}
		return as < bs
	}
	// Insertion sort keeps equal findings in creation order.
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0; j-- {
			a, b := fs[j-1], fs[j]
			swap := less(b, a)
			if sc.OrderBy == "DESC" {
				swap = less(a, b)
			}
			if !swap {
				break
			}
			fs[j-1], fs[j] = b, a
		}
	}
}

func (s *guardDutyService) listFindings(req *Request, d *gdDetector, body map[string]json.RawMessage) (*Response, error) {
	var in struct {
		FindingCriteria *struct {
			Criterion map[string]gdCondition `json:"criterion"`
		} `json:"findingCriteria"`
		MaxResults *int            `json:"maxResults"`
		NextToken  string          `json:"nextToken"`
		Sort       *gdSortCriteria `json:"sortCriteria"`
	}
	raw, _ := json.Marshal(body)
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, gdInvalidInput(err.Error())
	}
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, gdInvalidInput("maxResults must be from 1 to 50")
		}
		limit = *in.MaxResults
	}
	if in.Sort != nil && in.Sort.OrderBy != "" && in.Sort.OrderBy != "ASC" && in.Sort.OrderBy != "DESC" {
		return nil, gdInvalidInput("sortCriteria.orderBy must be ASC or DESC")
	}
	var criterion map[string]gdCondition
	if in.FindingCriteria != nil {
		criterion = in.FindingCriteria.Criterion
	}
	for name := range criterion {
		if !gdCriteria[name] {
			return nil, gdInvalidInput("the sandbox does not filter on " + name)
		}
	}
	var matched []map[string]any
	for _, id := range d.order {
		f := d.findings[id]
		ok := true
		for name, c := range criterion {
			if !c.match(gdValues(f, strings.Split(name, "."))) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, f)
		}
	}
	if in.Sort != nil {
		in.Sort.sort(matched)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(matched) {
			return nil, gdInvalidInput("nextToken")
		}
		start = n
	}
	end := min(start+limit, len(matched))
	ids := []string{}
	for _, f := range matched[start:end] {
		ids = append(ids, f["id"].(string))
	}
	out := map[string]any{"findingIds": ids}
	if end < len(matched) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return JSONResult(out)
}

// guardDuty returns the sandbox's GuardDuty service, nil when it is not
// registered.
func (sb *Sandbox) guardDuty() *guardDutyService {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*guardDutyService); ok {
			return s
		}
	}
	return nil
}

// detectorID returns the account's detector in region, "" when GuardDuty
// is not enabled there.
func (s *guardDutyService) detectorID(account, region string) string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.detectors[account+"/"+region]; d != nil {
		return d.id
	}
	return ""
}

// record stores a finding built from the EventBridge detail of a GuardDuty
// event, in the API's shape: GetFindings returns additionalInfo as
// {"type","value"} with the value a JSON string, where events carry an
// object. It does nothing when GuardDuty is not enabled in the finding's
// account and region.
func (s *guardDutyService) record(account, region string, detail map[string]any) error {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if _, ok := f["schemaVersion"]; !ok {
		f["schemaVersion"] = "2.0"
	}
	if _, ok := f["partition"]; !ok {
		f["partition"] = "aws"
	}
	if svc, ok := f["service"].(map[string]any); ok {
		if info, ok := svc["additionalInfo"].(map[string]any); ok {
			if _, typed := info["type"]; !typed {
				v, err := json.Marshal(info)
				if err != nil {
					return err
				}
				svc["additionalInfo"] = map[string]any{"type": "default", "value": string(v)}
			}
		}
		if _, ok := svc["archived"]; !ok {
			svc["archived"] = false
		}
	}
	id, _ := f["id"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.detectors[account+"/"+region]
	if d == nil || id == "" {
		return nil
	}
	if d.findings[id] == nil {
		d.order = append(d.order, id)
	}
	d.findings[id] = f
	return nil
}

// GuardDutyDetector returns the id of an account's GuardDuty detector in a
// region; ok is false when GuardDuty is not enabled there.
func (sb *Sandbox) GuardDutyDetector(account, region string) (id string, ok bool) {
	id = sb.guardDuty().detectorID(account, region)
	return id, id != ""
}

// GuardDutyFindingArchived reports whether a finding is archived; ok is
// false when the detector of the account and region has no such finding.
func (sb *Sandbox) GuardDutyFindingArchived(account, region, id string) (archived, ok bool) {
	s := sb.guardDuty()
	if s == nil {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.detectors[account+"/"+region]
	if d == nil || d.findings[id] == nil {
		return false, false
	}
	for _, v := range gdValues(d.findings[id], []string{"service", "archived"}) {
		archived, _ = v.(bool)
	}
	return archived, true
}
