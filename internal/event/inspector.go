package event

import (
	"encoding/json"
	"strings"
)

// inspectorFinding is the part of an Inspector2 finding Firebreak reads.
type inspectorFinding struct {
	AwsAccountID   string          `json:"awsAccountId"`
	FindingArn     string          `json:"findingArn"`
	Type           string          `json:"type"`
	Severity       string          `json:"severity"`
	InspectorScore *float64        `json:"inspectorScore"`
	UpdatedAt      json.RawMessage `json:"updatedAt"`
	LastObservedAt json.RawMessage `json:"lastObservedAt"`
	Resources      []struct {
		Type   string `json:"type"`
		ID     string `json:"id"`
		Region string `json:"region"`
	} `json:"resources"`
}

// inspector reads an Inspector2 finding: severity is inspectorScore (0–10)
// when present, else the severity label.
func inspector(data []byte, path string) (finding, error) {
	var in inspectorFinding
	if err := unmarshal(data, &in, path); err != nil {
		return finding{}, err
	}
	f := finding{
		source:      "aws.inspector2",
		detailType:  "Inspector2 Finding",
		account:     in.AwsAccountID,
		findingType: in.Type,
		findingID:   in.FindingArn,
		resources:   []string{},
	}
	if a, ok := parseARN(in.FindingArn); ok {
		f.region = a.region
	}
	switch {
	case in.InspectorScore != nil:
		f.severity = Severity{Score: clamp(*in.InspectorScore), Original: in.Severity}
	case in.Severity != "":
		score, ok := fromLabel(in.Severity)
		if !ok {
			return finding{}, errAt(join(path, "severity"), "unknown severity %q (expected INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL or UNTRIAGED)", clip(in.Severity))
		}
		f.severity = Severity{Score: score, Original: in.Severity}
	}
	var err error
	if f.time, err = findingTime(in.UpdatedAt, in.LastObservedAt, path, "updatedAt", "lastObservedAt"); err != nil {
		return finding{}, err
	}
	for _, r := range in.Resources {
		f.resources = append(f.resources, r.ID)
		if r.Type == "AWS_EC2_INSTANCE" && isInstanceID(strings.TrimSpace(r.ID)) {
			region := r.Region
			if region == "N/A" {
				region = ""
			}
			f.subjects.instance(Instance{ID: strings.TrimSpace(r.ID), Account: in.AwsAccountID, Region: region})
		}
	}
	return f, nil
}
