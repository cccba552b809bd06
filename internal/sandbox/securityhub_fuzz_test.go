package sandbox

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzSecurityHubFinding feeds arbitrary JSON to the ASFF validation and
// completion BatchImportFindings runs: whatever passes checkASFF must be
// completed without a panic and keep its identity.
func FuzzSecurityHubFinding(f *testing.F) {
	valid := GuardDutyASFF{Account: "111111111111", Region: "us-east-1", DetectorID: "d", FindingID: "f", Type: "Recon:EC2/PortProbeUnprotectedPort",
		Title: "t", Description: "d", Severity: 2, InstanceID: "i-0123456789abcdef0", CreatedAt: time.Unix(0, 0)}.ASFF()
	b, _ := json.Marshal(valid)
	f.Add(b)
	f.Add([]byte(`{"Severity":{"Normalized":101},"Types":[1],"Resources":[{}]}`))
	f.Add([]byte(`{"SchemaVersion":"2018-10-08","Id":"x","ProductArn":"arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default","GeneratorId":"g","AwsAccountId":"111111111111","Types":["TTPs/x"],"CreatedAt":"2026-01-01T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z","Severity":{"Normalized":55},"Title":"t","Description":"d","Resources":[{"Type":"Other","Id":"r"}],"Workflow":{"Status":"NEW"},"ProductFields":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		if checkASFF(m) != nil {
			return
		}
		id, arn := m["Id"], m["ProductArn"]
		completeASFF(m, time.Unix(0, 0))
		if m["Id"] != id || m["ProductArn"] != arn {
			t.Fatalf("completion changed the identity: %v %v", m["Id"], m["ProductArn"])
		}
		if l, _ := m["Severity"].(map[string]any)["Label"].(string); severityRank(l) == 0 {
			t.Fatalf("completed finding has severity label %q", l)
		}
	})
}

// FuzzSecurityHubFilters feeds arbitrary GetFindings filters to the
// compiler and runs what compiles against a finding.
func FuzzSecurityHubFilters(f *testing.F) {
	f.Add([]byte(`{"Id":[{"Comparison":"PREFIX","Value":"arn:"}],"ProductFields":[{"Key":"k","Value":"v","Comparison":"EQUALS"}]}`))
	f.Add([]byte(`{"UpdatedAt":[{"DateRange":{"Value":1,"Unit":"DAYS"}}],"SeverityNormalized":[{"Gte":10}]}`))
	f.Add([]byte(`{"ResourceTags":[{"Key":"team","Comparison":"NOT_EQUALS","Value":"web"}]}`))
	finding := GuardDutyASFF{Account: "111111111111", Region: "us-east-1", DetectorID: "d", FindingID: "f", Type: "Recon:EC2/PortProbeUnprotectedPort",
		Title: "t", Description: "d", Severity: 2, InstanceID: "i-0123456789abcdef0", CreatedAt: time.Unix(0, 0)}.ASFF()
	m, err := normalizeJSON(finding)
	if err != nil {
		f.Fatal(err)
	}
	completeASFF(m, time.Unix(0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		filters, err := compileHubFilters(raw, time.Unix(0, 0))
		if err != nil {
			return
		}
		for _, match := range filters {
			match(m)
		}
	})
}
