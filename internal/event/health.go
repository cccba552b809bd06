package event

import (
	"encoding/json"
	"strings"
)

// healthDetail is the part of an AWS Health event's detail Firebreak
// reads.
type healthDetail struct {
	EventArn          string          `json:"eventArn"`
	EventTypeCode     string          `json:"eventTypeCode"`
	EventTypeCategory string          `json:"eventTypeCategory"`
	StartTime         json.RawMessage `json:"startTime"`
	AffectedEntities  []struct {
		EntityValue string `json:"entityValue"`
	} `json:"affectedEntities"`
	EventMetadata map[string]json.RawMessage `json:"eventMetadata"`
}

// health reads an AWS Health event. For AWS_RISK_* events every affected
// entity, every resources[] entry and eventMetadata.publicKey is an
// access key id, whatever it looks like (AWS's own samples use
// placeholders); for other events entities are classified by form
// (instance id, ARN, access key id).
func health(detail []byte, resources []string, path string) (finding, error) {
	var h healthDetail
	if err := unmarshal(detail, &h, path); err != nil {
		return finding{}, err
	}
	f := finding{
		source:      "aws.health",
		detailType:  "AWS Health Event",
		findingType: h.EventTypeCode,
		severity:    healthSeverity(h.EventTypeCode, h.EventTypeCategory),
	}
	if a, ok := parseARN(h.EventArn); ok && a.region != "global" {
		f.region = a.region
	}
	var err error
	if f.time, err = findingTime(h.StartTime, nil, path, "startTime", ""); err != nil {
		return finding{}, err
	}
	meta := func(k string) string {
		var s string
		_ = json.Unmarshal(h.EventMetadata[k], &s)
		return s
	}
	userName := meta("userName")
	risk := strings.HasPrefix(h.EventTypeCode, "AWS_RISK_")
	b := &f.subjects
	var entities []string
	for _, e := range h.AffectedEntities {
		v := strings.TrimSpace(e.EntityValue)
		if v == "" {
			continue
		}
		entities = append(entities, v)
		switch {
		case risk:
			b.key(AccessKey{ID: v, UserName: userName})
		case isAccessKeyID(v):
			b.key(AccessKey{ID: v})
		default:
			b.resource(v)
		}
	}
	if risk {
		for _, r := range resources {
			if !strings.HasPrefix(r, "arn:") {
				b.key(AccessKey{ID: r, UserName: userName})
			}
		}
		b.key(AccessKey{ID: meta("publicKey"), UserName: userName})
	}
	b.user(User{Name: userName, Type: "IAMUser"})
	f.findingID = h.EventArn
	if len(entities) > 0 {
		f.findingID += "/" + strings.Join(entities, ",")
	}
	return f, nil
}
