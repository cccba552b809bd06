package event

import (
	"encoding/json"
	"strings"
)

// taDetail is a Trusted Advisor Check Item Refresh Notification's detail.
// check-item-detail's keys are the check's column headings, spaces and
// all ("Access Key ID", "User Name (IAM or Root)").
type taDetail struct {
	CheckName       string                     `json:"check-name"`
	CheckItemDetail map[string]json.RawMessage `json:"check-item-detail"`
	Status          string                     `json:"status"`
	ResourceID      string                     `json:"resource_id"`
	UUID            string                     `json:"uuid"`
}

// trustedAdvisor reads a Trusted Advisor check item event.
func trustedAdvisor(detail []byte, path string) (finding, error) {
	var t taDetail
	if err := unmarshal(detail, &t, path); err != nil {
		return finding{}, err
	}
	item := func(k string) string {
		var s string
		_ = json.Unmarshal(t.CheckItemDetail[k], &s)
		return strings.TrimSpace(s)
	}
	f := finding{
		source:      "aws.trustedadvisor",
		detailType:  "Trusted Advisor Check Item Refresh Notification",
		findingType: t.CheckName,
		severity:    trustedAdvisorSeverity(t.CheckName, t.Status),
	}
	b := &f.subjects
	user := item("User Name (IAM or Root)")
	key := item("Access Key ID")
	b.key(AccessKey{ID: key, UserName: user})
	if user != "" {
		typ := "IAMUser"
		if strings.EqualFold(user, "root") || strings.EqualFold(user, "<root_account>") {
			typ = "Root"
		}
		b.user(User{Name: user, Type: typ})
	}
	b.bucket(item("Bucket Name"))
	if id := item("Instance ID"); isInstanceID(id) {
		b.instance(Instance{ID: id, Region: item("Region")})
	}
	b.resource(t.ResourceID)

	// One check item is one finding: the check and the resource it is
	// about (the key, for Exposed Access Keys, which has no resource id).
	res := firstNonEmpty(t.ResourceID, key, t.UUID)
	f.findingID = t.CheckName + "/" + res
	return f, nil
}
