package guardduty

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsgd "github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the GuardDuty client the actions call.
// *guardduty.Client satisfies it.
type API interface {
	ListDetectors(ctx context.Context, in *awsgd.ListDetectorsInput, opts ...func(*awsgd.Options)) (*awsgd.ListDetectorsOutput, error)
	GetFindings(ctx context.Context, in *awsgd.GetFindingsInput, opts ...func(*awsgd.Options)) (*awsgd.GetFindingsOutput, error)
	ArchiveFindings(ctx context.Context, in *awsgd.ArchiveFindingsInput, opts ...func(*awsgd.Options)) (*awsgd.ArchiveFindingsOutput, error)
	UnarchiveFindings(ctx context.Context, in *awsgd.UnarchiveFindingsInput, opts ...func(*awsgd.Options)) (*awsgd.UnarchiveFindingsOutput, error)
}

var _ API = (*awsgd.Client)(nil)

// client builds the GuardDuty client for the call's target.
func client(ctx context.Context, id string, call action.Call) (API, error) {
	cfg, err := call.AWSConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return awsgd.NewFromConfig(cfg), nil
}

// reID matches GuardDuty finding and detector ids: 32 lowercase letters
// and digits (hex in practice).
var reID = regexp.MustCompile(`^[a-z0-9]{32}$`)

var (
	findingParam = action.Param{Name: "finding_id", Type: action.String, Required: true,
		Doc: "the GuardDuty finding id (32 characters, the event's detail.id)"}
	detectorParam = action.Param{Name: "detector_id", Type: action.String,
		Doc: "the detector the finding belongs to (the event's detail.service.detectorId); default: the region's detector, from ListDetectors"}
)

// lookup is the finding a call names and the reads that found it.
type lookup struct {
	action.Plan
	api      API
	detector string
	finding  types.Finding
}

// find resolves the detector and reads the finding; a missing detector or
// finding is a permanent error.
func find(ctx context.Context, actionID string, call action.Call) (*lookup, error) {
	id := strings.TrimSpace(call.Params.Str("finding_id"))
	detector := strings.TrimSpace(call.Params.Str("detector_id"))
	switch {
	case !reID.MatchString(id):
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter finding_id: %q is not a GuardDuty finding id (32 lowercase letters or digits)", actionID, id))
	case detector != "" && !reID.MatchString(detector):
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter detector_id: %q is not a GuardDuty detector id (32 lowercase letters or digits)", actionID, detector))
	}
	api, err := client(ctx, actionID, call)
	if err != nil {
		return nil, err
	}
	l := &lookup{api: api, detector: detector}
	if l.detector == "" {
		l.Read("guardduty:ListDetectors", call.Target.Region, "")
		out, err := api.ListDetectors(ctx, &awsgd.ListDetectorsInput{})
		if err != nil {
			return nil, fmt.Errorf("%s: list detectors: %w", actionID, err)
		}
		if len(out.DetectorIds) == 0 {
			return nil, action.Mark(action.Permanent, fmt.Errorf("%s: GuardDuty is not enabled in account %s region %s (no detector)", actionID, call.Target.Account, call.Target.Region))
		}
		l.detector = out.DetectorIds[0]
	}
	l.Read("guardduty:GetFindings", id, "DetectorId="+l.detector)
	out, err := api.GetFindings(ctx, &awsgd.GetFindingsInput{DetectorId: aws.String(l.detector), FindingIds: []string{id}})
	if action.ErrorCode(err) == "BadRequestException" {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: get finding %s of detector %s: %w", actionID, id, l.detector, err))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: get finding %s: %w", actionID, id, err)
	}
	for _, f := range out.Findings {
		if aws.ToString(f.Id) == id {
			l.finding = f
			return l, nil
		}
	}
	return nil, action.Mark(action.Permanent, fmt.Errorf("%s: detector %s in account %s region %s has no finding %s", actionID, l.detector, call.Target.Account, call.Target.Region, id))
}

// instanceOf returns the instance a finding is about, "" when none.
func instanceOf(f types.Finding) string {
	if f.Resource != nil && f.Resource.InstanceDetails != nil {
		return aws.ToString(f.Resource.InstanceDetails.InstanceId)
	}
	return ""
}

func archived(f types.Finding) bool {
	return f.Service != nil && aws.ToBool(f.Service.Archived)
}

// remoteIP returns the address the finding's activity came from, "" when
// it names none.
func remoteIP(f types.Finding) string {
	if f.Service == nil || f.Service.Action == nil {
		return ""
	}
	a := f.Service.Action
	var d *types.RemoteIpDetails
	switch {
	case a.NetworkConnectionAction != nil:
		d = a.NetworkConnectionAction.RemoteIpDetails
	case a.AwsApiCallAction != nil:
		d = a.AwsApiCallAction.RemoteIpDetails
	case a.PortProbeAction != nil && len(a.PortProbeAction.PortProbeDetails) > 0:
		d = a.PortProbeAction.PortProbeDetails[0].RemoteIpDetails
	case a.RdsLoginAttemptAction != nil:
		d = a.RdsLoginAttemptAction.RemoteIpDetails
	case a.KubernetesApiCallAction != nil:
		d = a.KubernetesApiCallAction.RemoteIpDetails
	}
	if d == nil {
		return ""
	}
	if v4 := aws.ToString(d.IpAddressV4); v4 != "" {
		return v4
	}
	return aws.ToString(d.IpAddressV6)
}

// severityLabel names a GuardDuty severity as the console does.
func severityLabel(s float64) string {
	switch {
	case s >= 9:
		return "Critical"
	case s >= 7:
		return "High"
	case s >= 4:
		return "Medium"
	}
	return "Low"
}
