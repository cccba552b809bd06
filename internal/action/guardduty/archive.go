package guardduty

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsgd "github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// ArchiveFinding archives a GuardDuty finding (aws.guardduty.archive_finding).
type ArchiveFinding struct{}

var (
	_ action.Action   = ArchiveFinding{}
	_ action.Checker  = ArchiveFinding{}
	_ action.Reverter = ArchiveFinding{}
)

const archiveID = "aws.guardduty.archive_finding"

// Meta describes aws.guardduty.archive_finding.
func (ArchiveFinding) Meta() action.Meta {
	return action.Meta{
		ID:      archiveID,
		Summary: "Archive a GuardDuty finding the response has dealt with",
		Doc: "Finds the detector (detector_id, or guardduty:ListDetectors) and reads the finding with " +
			"guardduty:GetFindings; a finding already archived is left alone, so a retry makes no second call. " +
			"Otherwise it archives it with guardduty:ArchiveFindings. instance_id and account_id, when given, must " +
			"match the finding (the instance it is about, its account); they are also what the guardrail checks, so " +
			"give at least one. Archive last, once containment succeeded: an archived finding leaves the console's " +
			"default view. Only the GuardDuty administrator or a standalone account may archive. Revert unarchives " +
			"the finding when this run archived it (guardduty:UnarchiveFindings).",
		Risk: action.Reversible,
		Params: []action.Param{
			findingParam,
			detectorParam,
			{Name: "instance_id", Type: action.InstanceID, Target: action.TargetInstance, Doc: "the instance the finding must be about; checked by the guardrail"},
			{Name: "account_id", Type: action.AccountID, Target: action.TargetAccount, Doc: "the account the finding must belong to; checked by the guardrail"},
		},
		Outputs: []action.Field{
			{Name: "detector_id", Type: action.String, Doc: "the detector the finding belongs to"},
			{Name: "type", Type: action.String, Doc: "the finding type, UnauthorizedAccess:EC2/SSHBruteForce"},
			{Name: "was_archived", Type: action.Bool, Doc: "whether the finding was archived before this run"},
			{Name: "changed", Type: action.Bool, Doc: "whether this run called ArchiveFindings"},
		},
		IAM:         []string{"guardduty:ArchiveFindings", "guardduty:GetFindings", "guardduty:ListDetectors"},
		RevertIAM:   []string{"guardduty:UnarchiveFindings"},
		Idempotency: action.Idempotent,
	}
}

func (ArchiveFinding) plan(ctx context.Context, call action.Call) (*lookup, error) {
	if acct := call.Params.Str("account_id"); acct != "" && acct != call.Target.Account {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter account_id %s is not the target account %s", archiveID, acct, call.Target.Account))
	}
	l, err := find(ctx, archiveID, call)
	if err != nil {
		return nil, err
	}
	id := aws.ToString(l.finding.Id)
	if acct := call.Params.Str("account_id"); acct != "" && aws.ToString(l.finding.AccountId) != acct {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: finding %s belongs to account %s, not %s", archiveID, id, aws.ToString(l.finding.AccountId), acct))
	}
	if inst := call.Params.Str("instance_id"); inst != "" && instanceOf(l.finding) != inst {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: finding %s is about %q, not instance %s", archiveID, id, instanceOf(l.finding), inst))
	}
	if archived(l.finding) {
		return l, nil
	}
	detector := l.detector
	l.Write("guardduty:ArchiveFindings", id, "DetectorId="+detector, func(ctx context.Context) error {
		_, err := l.api.ArchiveFindings(ctx, &awsgd.ArchiveFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{id}})
		if err != nil {
			return fmt.Errorf("%s: archive finding %s: %w", archiveID, id, err)
		}
		call.Log().InfoContext(ctx, "guardduty finding archived", "finding", id, "detector", detector)
		return nil
	})
	return l, nil
}

// Check reports the calls Do would make, changing nothing.
func (a ArchiveFinding) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	l, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	return l.Calls(), nil
}

// Do archives the finding unless it is archived already.
func (a ArchiveFinding) Do(ctx context.Context, call action.Call) (action.Values, error) {
	l, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := l.Apply(ctx, call); err != nil {
		return nil, err
	}
	return action.Values{
		"detector_id":  action.StringValue(l.detector),
		"type":         action.StringValue(aws.ToString(l.finding.Type)),
		"was_archived": action.BoolValue(archived(l.finding)),
		"changed":      action.BoolValue(l.HasWrites() && !call.DryRun),
	}, nil
}

// Revert unarchives the finding when Do archived it. Unarchiving a finding
// that is not archived changes nothing, so a retried revert is harmless.
func (ArchiveFinding) Revert(ctx context.Context, call action.Call, done action.Values) error {
	if !done.Bool("changed") {
		return nil
	}
	api, err := client(ctx, archiveID, call)
	if err != nil {
		return err
	}
	id, detector := call.Params.Str("finding_id"), done.Str("detector_id")
	if _, err := api.UnarchiveFindings(ctx, &awsgd.UnarchiveFindingsInput{DetectorId: aws.String(detector), FindingIds: []string{id}}); err != nil {
		return fmt.Errorf("%s: revert: unarchive finding %s: %w", archiveID, id, err)
	}
	call.Log().InfoContext(ctx, "guardduty finding unarchived", "finding", id, "detector", detector)
	return nil
}
