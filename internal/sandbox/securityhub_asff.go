package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// This file holds the AWS Security Finding Format (ASFF) as the sandbox's
// Security Hub stores it: a finding is its JSON object, decoded into
// map[string]any, so that every member a product sends is kept and
// returned as sent. The functions here validate the members Security Hub
// requires and fill the ones it adds.

// asffSchemaVersion is the only ASFF schema version.
const asffSchemaVersion = "2018-10-08"

// asffMembers are the top-level members of AwsSecurityFinding. A world
// file finding with another member is refused (a typo would otherwise be
// kept silently).
var asffMembers = map[string]bool{
	"Action": true, "AwsAccountId": true, "AwsAccountName": true, "CompanyName": true, "Compliance": true,
	"Confidence": true, "CreatedAt": true, "Criticality": true, "Description": true, "Detection": true,
	"FindingProviderFields": true, "FirstObservedAt": true, "GeneratorDetails": true, "GeneratorId": true,
	"Id": true, "LastObservedAt": true, "Malware": true, "Network": true, "NetworkPath": true, "Note": true,
	"PatchSummary": true, "Process": true, "ProcessedAt": true, "ProductArn": true, "ProductFields": true,
	"ProductName": true, "RecordState": true, "Region": true, "RelatedFindings": true, "Remediation": true,
	"Resources": true, "Sample": true, "SchemaVersion": true, "Severity": true, "SourceUrl": true,
	"ThreatIntelIndicators": true, "Threats": true, "Title": true, "Types": true, "UpdatedAt": true,
	"UserDefinedFields": true, "VerificationState": true, "Vulnerabilities": true, "Workflow": true,
	"WorkflowState": true,
}

// asffRequired are the members BatchImportFindings requires, in the order
// it reports them.
var asffRequired = []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}

var reProductARN = regexp.MustCompile(`^arn:aws[a-z-]*:securityhub:([a-z]{2}(?:-[a-z]+)+-[0-9]):([0-9]{12})?:product/([^/]+)/(.+)$`)

// productARN splits a Security Hub product ARN into its region, account
// ("" for AWS products), company ("aws" or an account id) and product.
func productARN(arn string) (region, account, company, product string, ok bool) {
	m := reProductARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", "", false
	}
	return m[1], m[2], m[3], m[4], true
}

// awsProductNames are the ProductName Security Hub shows for AWS
// integrations, by the product part of their ARN.
var awsProductNames = map[string]string{
	"guardduty": "GuardDuty", "inspector": "Inspector", "macie": "Macie", "securityhub": "Security Hub",
	"access-analyzer": "IAM Access Analyzer", "health": "Health", "config": "Config", "ssm-patch-manager": "Systems Manager Patch Manager",
	"firewall-manager": "Firewall Manager",
}

func asffInvalid(format string, args ...any) error {
	return fmt.Errorf("Finding does not adhere to Amazon Security Finding Format. "+format, args...)
}

// checkASFF validates f the way BatchImportFindings does and returns the
// first problem, in ASFF's own words ("data should have required property
// 'Title'").
func checkASFF(f map[string]any) error {
	for _, k := range asffRequired {
		if _, ok := f[k]; !ok {
			return asffInvalid("data should have required property '%s'.", k)
		}
	}
	for _, k := range []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "SchemaVersion", "Title", "UpdatedAt"} {
		s, ok := f[k].(string)
		if !ok {
			return asffInvalid("data.%s should be string.", k)
		}
		if strings.TrimSpace(s) == "" {
			return asffInvalid("data.%s should NOT be shorter than 1 characters.", k)
		}
	}
	if s := f["SchemaVersion"].(string); s != asffSchemaVersion {
		return asffInvalid("data.SchemaVersion should be equal to one of the allowed values: %s.", asffSchemaVersion)
	}
	if !accountRE.MatchString(f["AwsAccountId"].(string)) {
		return asffInvalid("data.AwsAccountId should match pattern \"^[0-9]{12}$\".")
	}
	if len(f["Id"].(string)) > 512 {
		return asffInvalid("data.Id should NOT be longer than 512 characters.")
	}
	if len(f["Title"].(string)) > 256 {
		return asffInvalid("data.Title should NOT be longer than 256 characters.")
	}
	if len(f["Description"].(string)) > 1024 {
		return asffInvalid("data.Description should NOT be longer than 1024 characters.")
	}
	if _, _, _, _, ok := productARN(f["ProductArn"].(string)); !ok {
		return asffInvalid("data.ProductArn should match pattern \"arn:aws:securityhub:<region>:<account>:product/<company>/<product>\".")
	}
	for _, k := range []string{"CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"} {
		v, ok := f[k]
		if !ok {
			continue
		}
		s, _ := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return asffInvalid("data.%s should match format \"date-time\".", k)
		}
	}
	types, ok := f["Types"].([]any)
	if !ok {
		return asffInvalid("data.Types should be array.")
	}
	if len(types) < 1 || len(types) > 50 {
		return asffInvalid("data.Types should NOT have fewer than 1 items or more than 50.")
	}
	for i, t := range types {
		s, ok := t.(string)
		if !ok || s == "" {
			return asffInvalid("data.Types[%d] should be a non-empty string.", i)
		}
		ns, _, _ := strings.Cut(s, "/")
		switch ns {
		case "Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications":
		default:
			return asffInvalid("data.Types[%d] should start with a namespace: Software and Configuration Checks, TTPs, Effects, Unusual Behaviors or Sensitive Data Identifications.", i)
		}
	}
	resources, ok := f["Resources"].([]any)
	if !ok {
		return asffInvalid("data.Resources should be array.")
	}
	if len(resources) < 1 || len(resources) > 32 {
		return asffInvalid("data.Resources should NOT have fewer than 1 items or more than 32.")
	}
	for i, r := range resources {
		rm, ok := r.(map[string]any)
		if !ok {
			return asffInvalid("data.Resources[%d] should be object.", i)
		}
		for _, k := range []string{"Type", "Id"} {
			if s, ok := rm[k].(string); !ok || s == "" {
				return asffInvalid("data.Resources[%d] should have required property '%s'.", i, k)
			}
		}
	}
	sev, ok := f["Severity"].(map[string]any)
	if !ok {
		return asffInvalid("data.Severity should be object.")
	}
	label, hasLabel := sev["Label"]
	norm, hasNorm := sev["Normalized"]
	if !hasLabel && !hasNorm {
		return asffInvalid("data.Severity should have required property 'Label' or 'Normalized'.")
	}
	if hasLabel {
		if s, ok := label.(string); !ok || severityRank(s) == 0 {
			return asffInvalid("data.Severity.Label should be equal to one of the allowed values: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL.")
		}
	}
	if hasNorm {
		if n, ok := norm.(float64); !ok || n < 0 || n > 100 || n != float64(int(n)) {
			return asffInvalid("data.Severity.Normalized should be an integer from 0 to 100.")
		}
	}
	if w, ok := f["Workflow"]; ok {
		wm, ok := w.(map[string]any)
		if !ok {
			return asffInvalid("data.Workflow should be object.")
		}
		if s, ok := wm["Status"]; ok && !validWorkflowStatus(fmt.Sprint(s)) {
			return asffInvalid("data.Workflow.Status should be equal to one of the allowed values: NEW, NOTIFIED, RESOLVED, SUPPRESSED.")
		}
	}
	if s, ok := f["RecordState"]; ok && s != "ACTIVE" && s != "ARCHIVED" {
		return asffInvalid("data.RecordState should be equal to one of the allowed values: ACTIVE, ARCHIVED.")
	}
	if pf, ok := f["ProductFields"]; ok {
		m, ok := pf.(map[string]any)
		if !ok {
			return asffInvalid("data.ProductFields should be object.")
		}
		for k, v := range m {
			if _, ok := v.(string); !ok {
				return asffInvalid("data.ProductFields['%s'] should be string.", k)
			}
		}
	}
	return nil
}

func validWorkflowStatus(s string) bool {
	switch s {
	case "NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED":
		return true
	}
	return false
}

// workflowState is the deprecated WorkflowState that goes with a
// Workflow.Status.
func workflowState(status string) string {
	switch status {
	case "NOTIFIED":
		return "ASSIGNED"
	case "RESOLVED":
		return "RESOLVED"
	case "SUPPRESSED":
		return "DEFERRED"
	}
	return "NEW"
}

// severityLabel is the label Security Hub gives a normalized severity.
func severityLabel(n float64) string {
	switch {
	case n >= 90:
		return "CRITICAL"
	case n >= 70:
		return "HIGH"
	case n >= 40:
		return "MEDIUM"
	case n >= 1:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// severityNormalized is the normalized severity Security Hub gives a label.
func severityNormalized(label string) float64 {
	switch label {
	case "CRITICAL":
		return 90
	case "HIGH":
		return 70
	case "MEDIUM":
		return 40
	case "LOW":
		return 1
	}
	return 0
}

// completeASFF fills the members Security Hub adds to an imported finding:
// both severity forms, the workflow, the record state, the product and
// company names, the region and the aws/securityhub/* product fields.
func completeASFF(f map[string]any, now time.Time) {
	sev := f["Severity"].(map[string]any)
	if l, ok := sev["Label"].(string); ok {
		if _, ok := sev["Normalized"]; !ok {
			sev["Normalized"] = severityNormalized(l)
		}
	} else {
		sev["Label"] = severityLabel(sev["Normalized"].(float64))
	}
	w, _ := f["Workflow"].(map[string]any)
	if w == nil {
		w = map[string]any{}
		f["Workflow"] = w
	}
	if _, ok := w["Status"]; !ok {
		w["Status"] = "NEW"
	}
	f["WorkflowState"] = workflowState(w["Status"].(string))
	if _, ok := f["RecordState"]; !ok {
		f["RecordState"] = "ACTIVE"
	}
	region, _, company, product, _ := productARN(f["ProductArn"].(string))
	if company == "aws" {
		f["CompanyName"] = "Amazon"
		f["ProductName"] = orDefault(awsProductNames[product], product)
	} else {
		f["CompanyName"] = "Personal"
		f["ProductName"] = strings.ToUpper(product[:1]) + product[1:]
	}
	f["Region"] = region
	f["ProcessedAt"] = now.Format(time.RFC3339Nano)
	pf, _ := f["ProductFields"].(map[string]any)
	if pf == nil {
		pf = map[string]any{}
		f["ProductFields"] = pf
	}
	pf["aws/securityhub/FindingId"] = f["ProductArn"].(string) + "/" + f["Id"].(string)
	pf["aws/securityhub/ProductName"] = f["ProductName"]
	pf["aws/securityhub/CompanyName"] = f["CompanyName"]
}

// normalizeJSON returns v as encoding/json decodes it into map[string]any
// (numbers as float64, lists as []any), a deep copy.
func normalizeJSON(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("a finding is a JSON object")
	}
	return m, nil
}

// GuardDutyASFF says which GuardDuty finding to describe in ASFF.
type GuardDutyASFF struct {
	Account    string
	Region     string
	DetectorID string
	// FindingID is GuardDuty's finding id (32 hex characters).
	FindingID string
	// Type is the GuardDuty finding type,
	// "UnauthorizedAccess:EC2/SSHBruteForce".
	Type        string
	Title       string
	Description string
	// Severity is GuardDuty's severity, 1.0 to 8.9.
	Severity float64
	// InstanceID names the instance the finding is about; AccessKeyID and
	// UserName the access key, for IAM findings. Without either the
	// finding names the account (resource type Other).
	InstanceID  string
	AccessKeyID string
	UserName    string
	// RemoteIP is the attacker's address, when the finding has one.
	RemoteIP  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Count is how many times GuardDuty saw the activity; 0 means 1.
	Count int
}

// ASFF returns the finding as GuardDuty sends it to Security Hub: product
// arn:aws:securityhub:<region>::product/aws/guardduty, Id
// arn:aws:guardduty:<region>:<account>:detector/<detector>/finding/<id>,
// the GuardDuty type as the GeneratorId, TTPs types, GuardDuty's severity
// as Severity.Product and the aws/guardduty/service/* product fields.
func (g GuardDutyASFF) ASFF() map[string]any {
	created, updated := g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	if updated.IsZero() {
		updated = created
	}
	count := max(g.Count, 1)
	normalized := float64(int(g.Severity * 10))
	label := "LOW"
	switch {
	case g.Severity >= 7:
		label = "HIGH"
	case g.Severity >= 4:
		label = "MEDIUM"
	}
	family, _, _ := strings.Cut(g.Type, ":")
	namespace := "TTPs/" + family
	switch family {
	case "UnauthorizedAccess", "CredentialAccess":
		namespace = "TTPs/Initial Access"
	case "Recon", "Discovery":
		namespace = "TTPs/Discovery"
	case "CryptoCurrency":
		namespace = "Effects/Resource Consumption"
	case "Backdoor", "Trojan":
		namespace = "TTPs/Command and Control"
	}
	var resources []any
	if g.InstanceID != "" {
		resources = append(resources, map[string]any{
			"Type": "AwsEc2Instance", "Id": fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", g.Region, g.Account, g.InstanceID),
			"Partition": "aws", "Region": g.Region,
		})
	}
	if g.AccessKeyID != "" {
		resources = append(resources, map[string]any{
			"Type": "AwsIamAccessKey", "Id": "AWS::IAM::AccessKey:" + g.AccessKeyID, "Partition": "aws", "Region": g.Region,
			"Details": map[string]any{"AwsIamAccessKey": map[string]any{"PrincipalName": g.UserName, "PrincipalType": "IAMUser", "UserName": g.UserName}},
		})
	}
	if len(resources) == 0 {
		// GuardDuty findings about other resources (S3, EKS, the account)
		// still name one.
		resources = append(resources, map[string]any{"Type": "Other", "Id": "AWS::::Account:" + g.Account, "Partition": "aws", "Region": g.Region})
	}
	title := cmp.Or(g.Title, g.Type)
	description := cmp.Or(g.Description, title)
	pf := map[string]any{
		"aws/guardduty/service/action/actionType":   "AWS_API_CALL",
		"aws/guardduty/service/archived":            "false",
		"aws/guardduty/service/count":               fmt.Sprint(count),
		"aws/guardduty/service/detectorId":          g.DetectorID,
		"aws/guardduty/service/eventFirstSeen":      created.Format(time.RFC3339Nano),
		"aws/guardduty/service/eventLastSeen":       updated.Format(time.RFC3339Nano),
		"aws/guardduty/service/resourceRole":        "TARGET",
		"aws/guardduty/service/serviceName":         "guardduty",
		"aws/guardduty/service/additionalInfo/type": "default",
	}
	if g.InstanceID != "" {
		pf["aws/guardduty/service/action/actionType"] = "NETWORK_CONNECTION"
	}
	f := map[string]any{
		"SchemaVersion":   asffSchemaVersion,
		"Id":              fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s/finding/%s", g.Region, g.Account, g.DetectorID, g.FindingID),
		"ProductArn":      fmt.Sprintf("arn:aws:securityhub:%s::product/aws/guardduty", g.Region),
		"GeneratorId":     g.Type,
		"AwsAccountId":    g.Account,
		"Types":           []any{namespace + "/" + strings.ReplaceAll(g.Type, "/", "-")},
		"FirstObservedAt": created.Format(time.RFC3339Nano),
		"LastObservedAt":  updated.Format(time.RFC3339Nano),
		"CreatedAt":       created.Format(time.RFC3339Nano),
		"UpdatedAt":       updated.Format(time.RFC3339Nano),
		"Severity":        map[string]any{"Product": g.Severity, "Label": label, "Normalized": normalized},
		"Title":           title,
		"Description":     description,
		"ProductFields":   pf,
		"Resources":       resources,
	}
	if g.RemoteIP != "" {
		f["Network"] = map[string]any{"Direction": "IN", "SourceIpV4": g.RemoteIP}
	}
	return f
}
