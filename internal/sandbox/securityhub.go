package sandbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// securityHubService simulates AWS Security Hub over restJson1:
// DescribeHub, GetFindings, BatchImportFindings, BatchUpdateFindings and
// GetFindingHistory. Findings are kept as ASFF JSON (securityhub_asff.go)
// per account and region. Security Hub is enabled in every account unless
// the world's "securityhub" section says enabled: false; then every call
// fails with InvalidAccessException, as in an account that is not
// subscribed.
type securityHubService struct {
	sb *Sandbox

	mu      sync.Mutex
	regions map[string]*hubRegion // account/region
}

// hubRegion is Security Hub's state in one account and region.
type hubRegion struct {
	disabled   bool
	subscribed time.Time
	findings   []*hubFinding
	byKey      map[string]*hubFinding // ProductArn + "\n" + Id
}

// hubFinding is one finding and its history.
type hubFinding struct {
	data    map[string]any
	history []HubHistory
}

// HubFieldUpdate is one changed field in a finding's history.
type HubFieldUpdate struct {
	Field    string `json:"UpdatedField"`
	OldValue string `json:"OldValue"`
	NewValue string `json:"NewValue"`
}

func newSecurityHubService(sb *Sandbox) Service {
	return &securityHubService{sb: sb, regions: map[string]*hubRegion{}}
}

func (s *securityHubService) Info() ServiceInfo {
	return ServiceInfo{SigningName: "securityhub", Protocol: ProtocolRESTJSON, EventSource: "securityhub.amazonaws.com"}
}

// OperationName names the operation from the method and path.
func (s *securityHubService) OperationName(req *Request) string {
	path := strings.TrimSuffix(req.HTTP.URL.Path, "/")
	switch req.HTTP.Method + " " + path {
	case "GET /accounts":
		return "DescribeHub"
	case "POST /findings":
		return "GetFindings"
	case "POST /findings/import":
		return "BatchImportFindings"
	case "PATCH /findings/batchupdate":
		return "BatchUpdateFindings"
	case "POST /findingHistory/get":
		return "GetFindingHistory"
	}
	return ""
}

// region returns the state of account/region, creating it. Callers hold
// s.mu.
func (s *securityHubService) region(account, region string) *hubRegion {
	k := account + "/" + region
	r := s.regions[k]
	if r == nil {
		r = &hubRegion{byKey: map[string]*hubFinding{}, subscribed: s.sb.Now()}
		s.regions[k] = r
	}
	return r
}

func hubKey(productARN, id string) string { return productARN + "\n" + id }

func hubInvalidInput(format string, args ...any) *APIError {
	return ErrorStatus(http.StatusBadRequest, "InvalidInputException", format, args...)
}

func hubNotSubscribed(account string) *APIError {
	return ErrorStatus(http.StatusUnauthorized, "InvalidAccessException", "Account %s is not subscribed to AWS Security Hub", account)
}

func (s *securityHubService) Handle(ctx context.Context, req *Request) (*Response, error) {
	if req.Operation == "" {
		return nil, ErrorStatus(http.StatusNotFound, "ResourceNotFoundException", "The sandbox does not simulate Security Hub %s %s.", req.HTTP.Method, req.HTTP.URL.Path)
	}
	s.mu.Lock()
	r := s.region(req.Caller.Account, req.Region)
	disabled, subscribed := r.disabled, r.subscribed
	s.mu.Unlock()
	if disabled {
		return nil, hubNotSubscribed(req.Caller.Account)
	}
	switch req.Operation {
	case "DescribeHub":
		return JSONResult(map[string]any{
			"HubArn":                  fmt.Sprintf("arn:aws:securityhub:%s:%s:hub/default", req.Region, req.Caller.Account),
			"SubscribedAt":            subscribed.Format(time.RFC3339Nano),
			"AutoEnableControls":      true,
			"ControlFindingGenerator": "SECURITY_CONTROL",
		})
	case "GetFindings":
		return s.getFindings(req)
	case "BatchImportFindings":
		return s.batchImport(req)
	case "BatchUpdateFindings":
		return s.batchUpdate(req)
	case "GetFindingHistory":
		return s.getHistory(req)
	}
	return nil, ErrorStatus(http.StatusNotFound, "ResourceNotFoundException", "The sandbox does not simulate Security Hub %s.", req.Operation)
}

// --- GetFindings ---

// hubPath returns the string values at a path of an ASFF finding. A path
// element "[]" steps into every element of a list.
func hubPath(f map[string]any, path ...string) []string {
	var out []string
	var walk func(v any, p []string)
	walk = func(v any, p []string) {
		if len(p) == 0 {
			switch x := v.(type) {
			case string:
				out = append(out, x)
			case []any:
				for _, e := range x {
					if s, ok := e.(string); ok {
						out = append(out, s)
					}
				}
			}
			return
		}
		if p[0] == "[]" {
			if l, ok := v.([]any); ok {
				for _, e := range l {
					walk(e, p[1:])
				}
			}
			return
		}
		if m, ok := v.(map[string]any); ok {
			if next, ok := m[p[0]]; ok {
				walk(next, p[1:])
			}
		}
	}
	walk(f, path)
	return out
}

// hubStringFields maps the GetFindings string filters the sandbox applies
// to the ASFF path they read.
var hubStringFields = map[string][]string{
	"AwsAccountId":                   {"AwsAccountId"},
	"CompanyName":                    {"CompanyName"},
	"ComplianceStatus":               {"Compliance", "Status"},
	"Description":                    {"Description"},
	"GeneratorId":                    {"GeneratorId"},
	"Id":                             {"Id"},
	"NoteText":                       {"Note", "Text"},
	"NoteUpdatedBy":                  {"Note", "UpdatedBy"},
	"ProductArn":                     {"ProductArn"},
	"ProductName":                    {"ProductName"},
	"RecordState":                    {"RecordState"},
	"Region":                         {"Region"},
	"ResourceId":                     {"Resources", "[]", "Id"},
	"ResourcePartition":              {"Resources", "[]", "Partition"},
	"ResourceRegion":                 {"Resources", "[]", "Region"},
	"ResourceType":                   {"Resources", "[]", "Type"},
	"ResourceAwsEc2InstanceImageId":  {"Resources", "[]", "Details", "AwsEc2Instance", "ImageId"},
	"ResourceAwsEc2InstanceSubnetId": {"Resources", "[]", "Details", "AwsEc2Instance", "SubnetId"},
	"ResourceAwsEc2InstanceVpcId":    {"Resources", "[]", "Details", "AwsEc2Instance", "VpcId"},
	"ResourceAwsEc2InstanceType":     {"Resources", "[]", "Details", "AwsEc2Instance", "Type"},
	"ResourceAwsEc2InstanceIamInstanceProfileArn": {"Resources", "[]", "Details", "AwsEc2Instance", "IamInstanceProfileArn"},
	"ResourceAwsIamAccessKeyUserName":             {"Resources", "[]", "Details", "AwsIamAccessKey", "UserName"},
	"ResourceAwsIamAccessKeyPrincipalName":        {"Resources", "[]", "Details", "AwsIamAccessKey", "PrincipalName"},
	"SeverityLabel":                               {"Severity", "Label"},
	"SourceUrl":                                   {"SourceUrl"},
	"Title":                                       {"Title"},
	"Type":                                        {"Types"},
	"VerificationState":                           {"VerificationState"},
	"WorkflowState":                               {"WorkflowState"},
	"WorkflowStatus":                              {"Workflow", "Status"},
}

// hubMapFields are the map filters the sandbox applies.
var hubMapFields = map[string]string{"ProductFields": "ProductFields", "UserDefinedFields": "UserDefinedFields", "ResourceTags": ""}

// hubDateFields and hubNumberFields are the date and number filters.
var (
	hubDateFields   = map[string]string{"CreatedAt": "CreatedAt", "UpdatedAt": "UpdatedAt", "FirstObservedAt": "FirstObservedAt", "LastObservedAt": "LastObservedAt"}
	hubNumberFields = map[string][]string{"SeverityNormalized": {"Severity", "Normalized"}, "SeverityProduct": {"Severity", "Product"}, "Confidence": {"Confidence"}, "Criticality": {"Criticality"}}
)

type hubMapFilter struct {
	Key        string `json:"Key"`
	Value      string `json:"Value"`
	Comparison string `json:"Comparison"`
}

type hubNumberFilter struct {
	Gte *float64 `json:"Gte"`
	Lte *float64 `json:"Lte"`
	Gt  *float64 `json:"Gt"`
	Lt  *float64 `json:"Lt"`
	Eq  *float64 `json:"Eq"`
}

type hubDateFilter struct {
	Start     string `json:"Start"`
	End       string `json:"End"`
	DateRange *struct {
		Value int    `json:"Value"`
		Unit  string `json:"Unit"`
	} `json:"DateRange"`
}

// hubFilter is one compiled GetFindings filter.
type hubFilter func(f map[string]any) bool

// compileHubFilters checks the Filters of a GetFindings request and
// returns one predicate per field. A filter the sandbox does not apply is
// refused rather than ignored.
func compileHubFilters(raw map[string]json.RawMessage, now time.Time) ([]hubFilter, error) {
	var out []hubFilter
	for _, name := range sortedKeys(raw) {
		msg := raw[name]
		if path, ok := hubStringFields[name]; ok {
			var fs []wireStringFilter
			if err := json.Unmarshal(msg, &fs); err != nil {
				return nil, fmt.Errorf("Filters.%s: %v", name, err)
			}
			if len(fs) > 20 {
				return nil, fmt.Errorf("Filters.%s: at most 20 filters per field", name)
			}
			if err := checkStringFilters("Filters."+name, fs, "EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"); err != nil {
				return nil, err
			}
			out = append(out, func(f map[string]any) bool { return matchStringFilters(fs, hubPath(f, path...)) })
			continue
		}
		if member, ok := hubMapFields[name]; ok {
			var fs []hubMapFilter
			if err := json.Unmarshal(msg, &fs); err != nil {
				return nil, fmt.Errorf("Filters.%s: %v", name, err)
			}
			for i, mf := range fs {
				switch mf.Comparison {
				case "EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS":
				default:
					return nil, fmt.Errorf("Filters.%s[%d].Comparison: %q is not one of EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS", name, i, mf.Comparison)
				}
				if mf.Key == "" {
					return nil, fmt.Errorf("Filters.%s[%d].Key: required", name, i)
				}
			}
			out = append(out, func(f map[string]any) bool {
				var m map[string]any
				if member == "" { // ResourceTags: the tags of any resource
					m = map[string]any{}
					for _, r := range asList(f["Resources"]) {
						rm, _ := r.(map[string]any)
						tags, _ := rm["Tags"].(map[string]any)
						for k, v := range tags {
							m[k] = v
						}
					}
				} else {
					m, _ = f[member].(map[string]any)
				}
				for _, mf := range fs {
					v, has := m[mf.Key].(string)
					ok := has && compareString(mf.Comparison, mf.Value, v)
					if negativeComparison(mf.Comparison) {
						if ok {
							return false
						}
					} else if !ok {
						return false
					}
				}
				return true
			})
			continue
		}
		if path, ok := hubNumberFields[name]; ok {
			var fs []hubNumberFilter
			if err := json.Unmarshal(msg, &fs); err != nil {
				return nil, fmt.Errorf("Filters.%s: %v", name, err)
			}
			out = append(out, func(f map[string]any) bool {
				var v any = f
				for _, p := range path {
					m, _ := v.(map[string]any)
					v = m[p]
				}
				n, ok := v.(float64)
				if !ok {
					return false
				}
				for _, nf := range fs {
					if (nf.Gte != nil && n < *nf.Gte) || (nf.Lte != nil && n > *nf.Lte) || (nf.Gt != nil && n <= *nf.Gt) ||
						(nf.Lt != nil && n >= *nf.Lt) || (nf.Eq != nil && n != *nf.Eq) {
						return false
					}
				}
				return true
			})
			continue
		}
		if member, ok := hubDateFields[name]; ok {
			var fs []hubDateFilter
			if err := json.Unmarshal(msg, &fs); err != nil {
				return nil, fmt.Errorf("Filters.%s: %v", name, err)
			}
			type window struct{ start, end time.Time }
			var ws []window
			for i, df := range fs {
				var w window
				switch {
				case df.DateRange != nil:
					if df.DateRange.Unit != "DAYS" || df.DateRange.Value < 1 {
						return nil, fmt.Errorf("Filters.%s[%d].DateRange: Unit must be DAYS and Value at least 1", name, i)
					}
					w.start, w.end = now.AddDate(0, 0, -df.DateRange.Value), now
				case df.Start != "" || df.End != "":
					var err error
					if df.Start != "" {
						if w.start, err = time.Parse(time.RFC3339Nano, df.Start); err != nil {
							return nil, fmt.Errorf("Filters.%s[%d].Start: not a date-time: %q", name, i, df.Start)
						}
					}
					if df.End != "" {
						if w.end, err = time.Parse(time.RFC3339Nano, df.End); err != nil {
							return nil, fmt.Errorf("Filters.%s[%d].End: not a date-time: %q", name, i, df.End)
						}
					}
				default:
					return nil, fmt.Errorf("Filters.%s[%d]: give Start and End, or DateRange", name, i)
				}
				ws = append(ws, w)
			}
			out = append(out, func(f map[string]any) bool {
				s, _ := f[member].(string)
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return false
				}
				for _, w := range ws {
					if (!w.start.IsZero() && t.Before(w.start)) || (!w.end.IsZero() && t.After(w.end)) {
						return false
					}
				}
				return true
			})
			continue
		}
		return nil, fmt.Errorf("Filters.%s: the sandbox does not apply this filter", name)
	}
	return out, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// hubSortValue returns what a finding sorts by for a SortCriteria field.
func hubSortValue(f map[string]any, field string) (num float64, str string, isNum bool) {
	if path, ok := hubNumberFields[field]; ok {
		var v any = f
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		n, _ := v.(float64)
		return n, "", true
	}
	if field == "SeverityLabel" {
		l, _ := f["Severity"].(map[string]any)["Label"].(string)
		return float64(severityRank(l)), "", true
	}
	if m, ok := hubDateFields[field]; ok {
		s, _ := f[m].(string)
		t, _ := time.Parse(time.RFC3339Nano, s)
		return float64(t.UnixNano()), "", true
	}
	vals := hubPath(f, hubStringFields[field]...)
	if len(vals) > 0 {
		return 0, vals[0], false
	}
	return 0, "", false
}

func (s *securityHubService) getFindings(req *Request) (*Response, error) {
	var in struct {
		Filters      map[string]json.RawMessage `json:"Filters"`
		MaxResults   *int                       `json:"MaxResults"`
		NextToken    string                     `json:"NextToken"`
		SortCriteria []struct {
			Field     string `json:"Field"`
			SortOrder string `json:"SortOrder"`
		} `json:"SortCriteria"`
	}
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &in); err != nil {
			return nil, hubInvalidInput("could not parse the request body: %v", err)
		}
	}
	filters, err := compileHubFilters(in.Filters, req.Time)
	if err != nil {
		return nil, hubInvalidInput("%v", err)
	}
	max := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, hubInvalidInput("MaxResults: must be between 1 and 100, got %d", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	offset, ok := parsePageToken("securityhub", in.NextToken)
	if !ok {
		return nil, hubInvalidInput("NextToken: the pagination token is not valid")
	}
	for i, sc := range in.SortCriteria {
		_, str := hubStringFields[sc.Field]
		_, num := hubNumberFields[sc.Field]
		_, date := hubDateFields[sc.Field]
		if !str && !num && !date {
			return nil, hubInvalidInput("SortCriteria[%d].Field: the sandbox does not sort by %q", i, sc.Field)
		}
		if sc.SortOrder != "asc" && sc.SortOrder != "desc" {
			return nil, hubInvalidInput("SortCriteria[%d].SortOrder: must be asc or desc, got %q", i, sc.SortOrder)
		}
	}
	sorts := in.SortCriteria
	if len(sorts) == 0 {
		sorts = append(sorts, struct {
			Field     string `json:"Field"`
			SortOrder string `json:"SortOrder"`
		}{"UpdatedAt", "desc"})
	}

	// Sort keys are computed once per finding, and only the page is
	// copied out, so that paging through many findings stays cheap.
	type hit struct {
		f    map[string]any
		id   string
		nums []float64
		strs []string
	}
	s.mu.Lock()
	var hits []hit
	for _, hf := range s.region(req.Caller.Account, req.Region).findings {
		keep := true
		for _, match := range filters {
			if !match(hf.data) {
				keep = false
				break
			}
		}
		if !keep {
			continue
		}
		h := hit{f: hf.data, nums: make([]float64, len(sorts)), strs: make([]string, len(sorts))}
		h.id, _ = hf.data["Id"].(string)
		for k, sc := range sorts {
			h.nums[k], h.strs[k], _ = hubSortValue(hf.data, sc.Field)
		}
		hits = append(hits, h)
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		for k, sc := range sorts {
			c := cmp.Or(cmp.Compare(a.nums[k], b.nums[k]), cmp.Compare(a.strs[k], b.strs[k]))
			if sc.SortOrder == "desc" {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.id, b.id)
	})
	res := struct {
		Findings  []map[string]any `json:"Findings"`
		NextToken string           `json:"NextToken,omitempty"`
	}{Findings: []map[string]any{}}
	if offset < len(hits) {
		end := min(offset+max, len(hits))
		for _, h := range hits[offset:end] {
			c, err := normalizeJSON(h.f)
			if err != nil {
				s.mu.Unlock()
				return nil, fmt.Errorf("security hub: copy finding: %w", err)
			}
			res.Findings = append(res.Findings, c)
		}
		if end < len(hits) {
			res.NextToken = pageToken("securityhub", end)
		}
	}
	s.mu.Unlock()
	req.Trail.RequestParameters = map[string]any{"maxResults": max}
	return JSONResult(res)
}

// --- BatchImportFindings ---

type hubFailed struct {
	ID           string `json:"Id"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (s *securityHubService) batchImport(req *Request) (*Response, error) {
	var in struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return nil, hubInvalidInput("could not parse the request body: %v", err)
	}
	if len(in.Findings) < 1 || len(in.Findings) > 100 {
		return nil, hubInvalidInput("Findings: give 1 to 100 findings, got %d", len(in.Findings))
	}
	res := struct {
		FailedCount    int         `json:"FailedCount"`
		SuccessCount   int         `json:"SuccessCount"`
		FailedFindings []hubFailed `json:"FailedFindings"`
	}{FailedFindings: []hubFailed{}}
	for _, raw := range in.Findings {
		var f map[string]any
		err := json.Unmarshal(raw, &f)
		if f == nil && err == nil {
			err = errors.New("a finding is a JSON object")
		}
		id, _ := f["Id"].(string)
		code := "InvalidInput"
		if err == nil {
			err = checkASFF(f)
		}
		if err == nil {
			code, err = importAllowed(f, req.Caller.Account, req.Region)
		}
		if err == nil {
			err = s.put(req.Caller.Account, req.Region, f, req.Caller.ARN, req.Time)
			code = "InvalidInput"
		}
		if err != nil {
			res.FailedCount++
			res.FailedFindings = append(res.FailedFindings, hubFailed{ID: id, ErrorCode: code, ErrorMessage: err.Error()})
			continue
		}
		res.SuccessCount++
	}
	req.Trail.RequestParameters = map[string]any{"findings": len(in.Findings)}
	req.Trail.ResponseElements = map[string]any{"successCount": res.SuccessCount, "failedCount": res.FailedCount}
	return JSONResult(res)
}

// importAllowed checks that the caller may import f through the API: the
// product must be the caller's own (product/<account>/...), in the
// request's region, for the caller's account. AWS services' products
// (product/aws/...) are imported by the services themselves; the sandbox
// does that through Sandbox.ImportSecurityHubFinding.
func importAllowed(f map[string]any, account, region string) (string, error) {
	arn := f["ProductArn"].(string)
	pregion, paccount, company, _, _ := productARN(arn)
	if company == "aws" || paccount != account || company != account {
		return "AccessDeniedException", fmt.Errorf("The account %s is not allowed to import findings for the product %s.", account, arn)
	}
	if pregion != region {
		return "InvalidInput", fmt.Errorf("The product %s is not in the region of the request, %s.", arn, region)
	}
	if acct := f["AwsAccountId"].(string); acct != account {
		return "AccessDeniedException", fmt.Errorf("The account %s is not allowed to import findings for the account %s.", account, acct)
	}
	return "", nil
}

// hubCustomerFields are the members only BatchUpdateFindings (the
// customer) changes once a finding exists; an import of the same finding
// keeps them.
var hubCustomerFields = []string{"Workflow", "WorkflowState", "Note", "UserDefinedFields", "VerificationState"}

// put stores a valid finding (checkASFF) in account/region: new, or an
// update of the finding with the same ProductArn and Id.
func (s *securityHubService) put(account, region string, f map[string]any, identity string, now time.Time) error {
	completeASFF(f, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.region(account, region)
	if r.disabled {
		return ErrSecurityHubNotEnabled
	}
	k := hubKey(f["ProductArn"].(string), f["Id"].(string))
	if old := r.byKey[k]; old != nil {
		for _, m := range hubCustomerFields {
			if v, ok := old.data[m]; ok {
				f[m] = v
			} else {
				delete(f, m)
			}
		}
		var updates []HubFieldUpdate
		for _, m := range []string{"Title", "Description", "UpdatedAt", "RecordState"} {
			if a, b := fmt.Sprint(old.data[m]), fmt.Sprint(f[m]); a != b {
				updates = append(updates, HubFieldUpdate{Field: m, OldValue: a, NewValue: b})
			}
		}
		if a, b := hubPath(old.data, "Severity", "Label"), hubPath(f, "Severity", "Label"); !slices.Equal(a, b) {
			updates = append(updates, HubFieldUpdate{Field: "Severity.Label", OldValue: strings.Join(a, ""), NewValue: strings.Join(b, "")})
		}
		old.data = f
		old.history = append(old.history, HubHistory{SourceType: "BATCH_IMPORT_FINDINGS", Identity: identity, Time: now, Updates: updates})
		return nil
	}
	hf := &hubFinding{data: f, history: []HubHistory{{Created: true, SourceType: "BATCH_IMPORT_FINDINGS", Identity: identity, Time: now}}}
	r.findings = append(r.findings, hf)
	r.byKey[k] = hf
	return nil
}

// --- BatchUpdateFindings ---

type hubIdentifier struct {
	ID         string `json:"Id"`
	ProductArn string `json:"ProductArn"`
}

func (s *securityHubService) batchUpdate(req *Request) (*Response, error) {
	var in struct {
		FindingIdentifiers []hubIdentifier `json:"FindingIdentifiers"`
		Note               *struct {
			Text      *string `json:"Text"`
			UpdatedBy *string `json:"UpdatedBy"`
		} `json:"Note"`
		Severity *struct {
			Label      *string  `json:"Label"`
			Normalized *float64 `json:"Normalized"`
			Product    *float64 `json:"Product"`
		} `json:"Severity"`
		Workflow *struct {
			Status *string `json:"Status"`
		} `json:"Workflow"`
		VerificationState *string           `json:"VerificationState"`
		Confidence        *float64          `json:"Confidence"`
		Criticality       *float64          `json:"Criticality"`
		Types             []string          `json:"Types"`
		UserDefinedFields map[string]string `json:"UserDefinedFields"`
		RelatedFindings   []hubIdentifier   `json:"RelatedFindings"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return nil, hubInvalidInput("could not parse the request body: %v", err)
	}
	if len(in.FindingIdentifiers) < 1 || len(in.FindingIdentifiers) > 100 {
		return nil, hubInvalidInput("FindingIdentifiers: give 1 to 100 finding identifiers, got %d", len(in.FindingIdentifiers))
	}
	for i, id := range in.FindingIdentifiers {
		if id.ID == "" || id.ProductArn == "" {
			return nil, hubInvalidInput("FindingIdentifiers[%d]: Id and ProductArn are required", i)
		}
	}
	if in.Note == nil && in.Severity == nil && in.Workflow == nil && in.VerificationState == nil && in.Confidence == nil &&
		in.Criticality == nil && in.Types == nil && in.UserDefinedFields == nil && in.RelatedFindings == nil {
		return nil, hubInvalidInput("At least one of Note, Severity, Workflow, VerificationState, Confidence, Criticality, Types, UserDefinedFields or RelatedFindings is required")
	}
	if n := in.Note; n != nil {
		if n.Text == nil || n.UpdatedBy == nil || *n.Text == "" || *n.UpdatedBy == "" {
			return nil, hubInvalidInput("Note: Text and UpdatedBy are both required")
		}
		if n := utf8.RuneCountInString(*n.Text); n > 512 {
			return nil, hubInvalidInput("Note.Text: must be at most 512 characters, got %d", n)
		}
		if utf8.RuneCountInString(*n.UpdatedBy) > 512 {
			return nil, hubInvalidInput("Note.UpdatedBy: must be at most 512 characters")
		}
	}
	if w := in.Workflow; w != nil && (w.Status == nil || !validWorkflowStatus(*w.Status)) {
		return nil, hubInvalidInput("Workflow.Status: must be NEW, NOTIFIED, RESOLVED or SUPPRESSED")
	}
	if sv := in.Severity; sv != nil {
		if sv.Label == nil && sv.Normalized == nil && sv.Product == nil {
			return nil, hubInvalidInput("Severity: give Label, Normalized or Product")
		}
		if sv.Label != nil && severityRank(*sv.Label) == 0 {
			return nil, hubInvalidInput("Severity.Label: must be INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL")
		}
		if sv.Normalized != nil && (*sv.Normalized < 0 || *sv.Normalized > 100) {
			return nil, hubInvalidInput("Severity.Normalized: must be between 0 and 100")
		}
	}
	if v := in.VerificationState; v != nil {
		switch *v {
		case "UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE":
		default:
			return nil, hubInvalidInput("VerificationState: must be UNKNOWN, TRUE_POSITIVE, FALSE_POSITIVE or BENIGN_POSITIVE")
		}
	}
	for name, v := range map[string]*float64{"Confidence": in.Confidence, "Criticality": in.Criticality} {
		if v != nil && (*v < 0 || *v > 100) {
			return nil, hubInvalidInput("%s: must be between 0 and 100", name)
		}
	}

	type unprocessed struct {
		FindingIdentifier hubIdentifier `json:"FindingIdentifier"`
		ErrorCode         string        `json:"ErrorCode"`
		ErrorMessage      string        `json:"ErrorMessage"`
	}
	res := struct {
		ProcessedFindings   []hubIdentifier `json:"ProcessedFindings"`
		UnprocessedFindings []unprocessed   `json:"UnprocessedFindings"`
	}{ProcessedFindings: []hubIdentifier{}, UnprocessedFindings: []unprocessed{}}
	now := req.Time.UTC()
	stamp := now.Format(time.RFC3339Nano)

	s.mu.Lock()
	r := s.region(req.Caller.Account, req.Region)
	seen := map[string]bool{}
	for _, id := range in.FindingIdentifiers {
		k := hubKey(id.ProductArn, id.ID)
		if seen[k] {
			res.UnprocessedFindings = append(res.UnprocessedFindings, unprocessed{id, "DuplicatedFindingIdentifier", "Duplicated finding identifier"})
			continue
		}
		seen[k] = true
		hf := r.byKey[k]
		if hf == nil {
			res.UnprocessedFindings = append(res.UnprocessedFindings, unprocessed{id, "FindingNotFound", "Finding not found"})
			continue
		}
		f := hf.data
		var updates []HubFieldUpdate
		set := func(field string, old, new any) {
			a, b := hubString(old), hubString(new)
			if a != b {
				updates = append(updates, HubFieldUpdate{Field: field, OldValue: a, NewValue: b})
			}
		}
		if w := in.Workflow; w != nil {
			wf, _ := f["Workflow"].(map[string]any)
			if wf == nil {
				wf = map[string]any{}
				f["Workflow"] = wf
			}
			set("Workflow.Status", wf["Status"], *w.Status)
			wf["Status"] = *w.Status
			f["WorkflowState"] = workflowState(*w.Status)
		}
		if n := in.Note; n != nil {
			old, _ := f["Note"].(map[string]any)
			set("Note.Text", old["Text"], *n.Text)
			set("Note.UpdatedBy", old["UpdatedBy"], *n.UpdatedBy)
			f["Note"] = map[string]any{"Text": *n.Text, "UpdatedBy": *n.UpdatedBy, "UpdatedAt": stamp}
		}
		if sv := in.Severity; sv != nil {
			sev, _ := f["Severity"].(map[string]any)
			if sev == nil {
				sev = map[string]any{}
				f["Severity"] = sev
			}
			oldLabel := sev["Label"]
			switch {
			case sv.Label != nil:
				sev["Label"], sev["Normalized"] = *sv.Label, severityNormalized(*sv.Label)
			case sv.Normalized != nil:
				sev["Normalized"], sev["Label"] = *sv.Normalized, severityLabel(*sv.Normalized)
			}
			if sv.Product != nil {
				sev["Product"] = *sv.Product
			}
			set("Severity.Label", oldLabel, sev["Label"])
		}
		if v := in.VerificationState; v != nil {
			set("VerificationState", f["VerificationState"], *v)
			f["VerificationState"] = *v
		}
		if v := in.Confidence; v != nil {
			set("Confidence", f["Confidence"], *v)
			f["Confidence"] = *v
		}
		if v := in.Criticality; v != nil {
			set("Criticality", f["Criticality"], *v)
			f["Criticality"] = *v
		}
		if in.Types != nil {
			l := make([]any, len(in.Types))
			for i, t := range in.Types {
				l[i] = t
			}
			set("Types", f["Types"], l)
			f["Types"] = l
		}
		if in.UserDefinedFields != nil {
			m := map[string]any{}
			for k, v := range in.UserDefinedFields {
				m[k] = v
			}
			set("UserDefinedFields", f["UserDefinedFields"], m)
			f["UserDefinedFields"] = m
		}
		if in.RelatedFindings != nil {
			l := make([]any, len(in.RelatedFindings))
			for i, rf := range in.RelatedFindings {
				l[i] = map[string]any{"Id": rf.ID, "ProductArn": rf.ProductArn}
			}
			set("RelatedFindings", f["RelatedFindings"], l)
			f["RelatedFindings"] = l
		}
		f["UpdatedAt"] = stamp
		f["ProcessedAt"] = stamp
		hf.history = append(hf.history, HubHistory{SourceType: "BATCH_UPDATE_FINDINGS", Identity: req.Caller.ARN, Time: now, Updates: updates})
		res.ProcessedFindings = append(res.ProcessedFindings, id)
	}
	s.mu.Unlock()

	params := map[string]any{"findingIdentifiers": in.FindingIdentifiers}
	if in.Workflow != nil {
		params["workflow"] = map[string]any{"status": *in.Workflow.Status}
	}
	if in.Note != nil {
		params["note"] = map[string]any{"text": *in.Note.Text, "updatedBy": *in.Note.UpdatedBy}
	}
	req.Trail.RequestParameters = params
	req.Trail.ResponseElements = map[string]any{"processedFindings": len(res.ProcessedFindings), "unprocessedFindings": len(res.UnprocessedFindings)}
	return JSONResult(res)
}

// hubString renders a finding value for the history: strings as they
// are, anything else as JSON, absent as "".
func hubString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// --- GetFindingHistory ---

func (s *securityHubService) getHistory(req *Request) (*Response, error) {
	var in struct {
		FindingIdentifier *hubIdentifier `json:"FindingIdentifier"`
		MaxResults        *int           `json:"MaxResults"`
		NextToken         string         `json:"NextToken"`
		StartTime         string         `json:"StartTime"`
		EndTime           string         `json:"EndTime"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return nil, hubInvalidInput("could not parse the request body: %v", err)
	}
	if in.FindingIdentifier == nil || in.FindingIdentifier.ID == "" || in.FindingIdentifier.ProductArn == "" {
		return nil, hubInvalidInput("FindingIdentifier: Id and ProductArn are required")
	}
	max := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, hubInvalidInput("MaxResults: must be between 1 and 100")
		}
		max = *in.MaxResults
	}
	offset, ok := parsePageToken("securityhub-history", in.NextToken)
	if !ok {
		return nil, hubInvalidInput("NextToken: the pagination token is not valid")
	}
	var start, end time.Time
	var err error
	if in.StartTime != "" {
		if start, err = time.Parse(time.RFC3339Nano, in.StartTime); err != nil {
			return nil, hubInvalidInput("StartTime: not a date-time")
		}
	}
	if in.EndTime != "" {
		if end, err = time.Parse(time.RFC3339Nano, in.EndTime); err != nil {
			return nil, hubInvalidInput("EndTime: not a date-time")
		}
	}
	type record struct {
		FindingCreated    bool             `json:"FindingCreated"`
		FindingIdentifier hubIdentifier    `json:"FindingIdentifier"`
		UpdateSource      map[string]any   `json:"UpdateSource"`
		UpdateTime        string           `json:"UpdateTime"`
		Updates           []HubFieldUpdate `json:"Updates"`
	}
	var all []record
	s.mu.Lock()
	hf := s.region(req.Caller.Account, req.Region).byKey[hubKey(in.FindingIdentifier.ProductArn, in.FindingIdentifier.ID)]
	if hf != nil {
		for _, h := range hf.history {
			if (!start.IsZero() && h.Time.Before(start)) || (!end.IsZero() && h.Time.After(end)) {
				continue
			}
			all = append(all, record{
				FindingCreated: h.Created, FindingIdentifier: *in.FindingIdentifier,
				UpdateSource: map[string]any{"Type": h.SourceType, "Identity": h.Identity},
				UpdateTime:   h.Time.UTC().Format(time.RFC3339Nano), Updates: append([]HubFieldUpdate{}, h.Updates...),
			})
		}
	}
	s.mu.Unlock()
	res := struct {
		Records   []record `json:"Records"`
		NextToken string   `json:"NextToken,omitempty"`
	}{Records: []record{}}
	if offset < len(all) {
		e := min(offset+max, len(all))
		res.Records = all[offset:e]
		if e < len(all) {
			res.NextToken = pageToken("securityhub-history", e)
		}
	}
	return JSONResult(res)
}

// --- Go API for the demo, scenarios and tests ---

// ErrSecurityHubNotEnabled is returned by ImportSecurityHubFinding when the
// account's Security Hub is not enabled (the world says enabled: false);
// AWS services send nothing to a hub that does not exist.
var ErrSecurityHubNotEnabled = errors.New("sandbox: security hub is not enabled in the account")

// ImportSecurityHubFinding puts an ASFF finding into the Security Hub of
// account and region the way an integrated AWS service (GuardDuty,
// Inspector, Macie) does: the product may be an AWS one
// (arn:aws:securityhub:<region>::product/aws/guardduty). finding is the
// ASFF JSON object (a map, or a struct that marshals to one, such as
// GuardDutyASFF.ASFF()); it is validated as BatchImportFindings does and
// completed with what Security Hub adds (Workflow NEW, RecordState ACTIVE,
// ProductName, both severity forms...). A finding with the same ProductArn
// and Id is updated, keeping its workflow, note and user-defined fields.
func (sb *Sandbox) ImportSecurityHubFinding(account, region string, finding any) error {
	s := sb.securityHub()
	if s == nil {
		return errors.New("sandbox: security hub is not registered")
	}
	f, err := normalizeJSON(finding)
	if err != nil {
		return fmt.Errorf("sandbox: security hub finding: %w", err)
	}
	if err := checkASFF(f); err != nil {
		return fmt.Errorf("sandbox: security hub finding %v: %w", f["Id"], err)
	}
	if f["AwsAccountId"] != account {
		return fmt.Errorf("sandbox: security hub finding %v: AwsAccountId %v is not the account %s", f["Id"], f["AwsAccountId"], account)
	}
	svc := "securityhub.amazonaws.com"
	if _, _, company, product, _ := productARN(f["ProductArn"].(string)); company == "aws" {
		svc = product + ".amazonaws.com"
	}
	return s.put(account, region, f, svc, sb.Now())
}

// HubFinding is a Security Hub finding as tests and the demo see it.
type HubFinding struct {
	// ASFF is the finding as GetFindings returns it.
	ASFF map[string]any
	// History lists every change, oldest first.
	History []HubHistory
}

// HubHistory is one entry of a finding's history.
type HubHistory struct {
	Created    bool
	SourceType string // BATCH_IMPORT_FINDINGS or BATCH_UPDATE_FINDINGS
	Identity   string
	Time       time.Time
	Updates    []HubFieldUpdate
}

// SecurityHubFindings lists the findings of account and region, oldest
// first, with their history.
func (sb *Sandbox) SecurityHubFindings(account, region string) []HubFinding {
	s := sb.securityHub()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HubFinding
	for _, hf := range s.region(account, region).findings {
		c, _ := normalizeJSON(hf.data)
		h := HubFinding{ASFF: c}
		for _, e := range hf.history {
			e.Updates = slices.Clone(e.Updates)
			h.History = append(h.History, e)
		}
		out = append(out, h)
	}
	return out
}

// securityHub returns the current Security Hub service.
func (sb *Sandbox) securityHub() *securityHubService {
	for _, svc := range sb.state().services {
		if s, ok := svc.(*securityHubService); ok {
			return s
		}
	}
	return nil
}
