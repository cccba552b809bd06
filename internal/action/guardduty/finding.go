package guardduty

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// GetFinding reads one GuardDuty finding for the evidence
// (aws.guardduty.get_finding).
type GetFinding struct{}

var (
	_ action.Action  = GetFinding{}
	_ action.Checker = GetFinding{}
)

const getID = "aws.guardduty.get_finding"

// Meta describes aws.guardduty.get_finding.
func (GetFinding) Meta() action.Meta {
	return action.Meta{
		ID:      getID,
		Summary: "Read a GuardDuty finding and sum it up for the evidence",
		Doc: "Finds the detector (detector_id, or guardduty:ListDetectors) and reads the finding with " +
			"guardduty:GetFindings, as GuardDuty has it now (an event may be hours old: the finding's count and " +
			"last-seen time keep growing while the activity goes on, and a person may have archived it). A finding " +
			"the detector does not have is a permanent error.",
		Risk:   action.ReadOnly,
		Params: []action.Param{findingParam, detectorParam},
		Outputs: []action.Field{
			{Name: "detector_id", Type: action.String, Doc: "the detector the finding belongs to"},
			{Name: "type", Type: action.String, Doc: "the finding type, UnauthorizedAccess:EC2/SSHBruteForce"},
			{Name: "severity", Type: action.String, Doc: "GuardDuty's severity, 1.0 to 10.0"},
			{Name: "severity_label", Type: action.String, Doc: "Low, Medium, High or Critical, as the console names the severity"},
			{Name: "title", Type: action.String, Doc: "the finding's one-line title"},
			{Name: "resource_type", Type: action.String, Doc: "what the finding is about: Instance, AccessKey, S3Bucket…"},
			{Name: "instance_id", Type: action.String, Doc: "the instance the finding is about; empty when none"},
			{Name: "access_key_id", Type: action.String, Doc: "the access key the finding is about; empty when none"},
			{Name: "user_name", Type: action.String, Doc: "the user (or role) of that access key; empty when none"},
			{Name: "remote_ip", Type: action.String, Doc: "the address the activity came from; empty when the finding names none"},
			{Name: "archived", Type: action.Bool, Doc: "whether the finding is archived"},
			{Name: "count", Type: action.Int, Doc: "how many times GuardDuty saw the activity"},
			{Name: "first_seen", Type: action.String, Doc: "when GuardDuty first saw the activity (RFC 3339)"},
			{Name: "last_seen", Type: action.String, Doc: "when GuardDuty last saw the activity (RFC 3339)"},
		},
		IAM:         []string{"guardduty:GetFindings", "guardduty:ListDetectors"},
		Idempotency: action.Idempotent,
	}
}

// Check reports the reads Do makes.
func (GetFinding) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	l, err := find(ctx, getID, call)
	if err != nil {
		return nil, err
	}
	return l.Calls(), nil
}

// Do reads the finding.
func (GetFinding) Do(ctx context.Context, call action.Call) (action.Values, error) {
	l, err := find(ctx, getID, call)
	if err != nil {
		return nil, err
	}
	f := l.finding
	sev := aws.ToFloat64(f.Severity)
	out := action.Values{
		"detector_id": action.StringValue(l.detector), "type": action.StringValue(aws.ToString(f.Type)),
		"severity": action.StringValue(strconv.FormatFloat(sev, 'f', 1, 64)), "severity_label": action.StringValue(severityLabel(sev)),
		"title": action.StringValue(aws.ToString(f.Title)), "instance_id": action.StringValue(instanceOf(f)),
		"remote_ip": action.StringValue(remoteIP(f)), "archived": action.BoolValue(archived(f)),
		"resource_type": action.StringValue(""), "access_key_id": action.StringValue(""), "user_name": action.StringValue(""),
		"count": action.IntValue(0), "first_seen": action.StringValue(""), "last_seen": action.StringValue(""),
	}
	if r := f.Resource; r != nil {
		out["resource_type"] = action.StringValue(aws.ToString(r.ResourceType))
		if k := r.AccessKeyDetails; k != nil {
			out["access_key_id"], out["user_name"] = action.StringValue(aws.ToString(k.AccessKeyId)), action.StringValue(aws.ToString(k.UserName))
		}
	}
	if s := f.Service; s != nil {
		out["count"] = action.IntValue(int64(aws.ToInt32(s.Count)))
		out["first_seen"], out["last_seen"] = action.StringValue(aws.ToString(s.EventFirstSeen)), action.StringValue(aws.ToString(s.EventLastSeen))
	}
	return out, nil
}
