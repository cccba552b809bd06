package securityhub

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshub "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// UpdateFinding sets a finding's workflow status and note
// (aws.securityhub.update_finding).
type UpdateFinding struct{}

var (
	_ action.Action   = UpdateFinding{}
	_ action.Checker  = UpdateFinding{}
	_ action.Reverter = UpdateFinding{}
)

const updateID = "aws.securityhub.update_finding"

// NoteLimit is the longest note Security Hub keeps, in characters.
const NoteLimit = 512

// truncatedMark ends a note cut to NoteLimit.
const truncatedMark = " …[truncated]"

// revertedNote replaces Firebreak's note on revert when the finding had
// none before: Security Hub cannot remove a note.
const revertedNote = "Firebreak's note was withdrawn (its step was reverted)."

// Meta describes aws.securityhub.update_finding.
func (UpdateFinding) Meta() action.Meta {
	return action.Meta{
		ID:      updateID,
		Summary: "Set a Security Hub finding's workflow status and a note saying what Firebreak did",
		Doc: "Finds the finding with securityhub:GetFindings (finding_id is its ASFF Id, or a GuardDuty finding id resolved " +
			"among the GuardDuty product's findings of the account and region) and, when its status or note differ, " +
			"sets them with securityhub:BatchUpdateFindings; a run that would change nothing makes no call. A note longer " +
			fmt.Sprintf("than %d characters is cut and ends with %q. ", NoteLimit, strings.TrimSpace(truncatedMark)) +
			"instance_id and account_id, when given, must match the finding (its resources, its AwsAccountId); they are " +
			"also what the guardrail checks, so give at least one. Revert puts back the status and note this run replaced, " +
			"leaving alone whatever a person changed since; a finding that had no note gets a note saying Firebreak's was " +
			"withdrawn, since Security Hub cannot remove one.",
		Risk: action.Reversible,
		Params: []action.Param{
			{Name: "finding_id", Type: action.String, Required: true, Doc: "the finding: its ASFF Id, or a GuardDuty finding id (32 hex characters)"},
			{Name: "status", Type: action.String, Doc: "the workflow status to set: NEW, NOTIFIED, RESOLVED or SUPPRESSED; give it, note or both"},
			{Name: "note", Type: action.String, Doc: fmt.Sprintf("the note to set, what Firebreak did; cut to %d characters", NoteLimit)},
			{Name: "updated_by", Type: action.String, Default: action.StringValue("firebreak"), Doc: "who the note is from (Note.UpdatedBy)"},
			{Name: "instance_id", Type: action.InstanceID, Target: action.TargetInstance, Doc: "the instance the finding must be about; checked by the guardrail"},
			{Name: "account_id", Type: action.AccountID, Target: action.TargetAccount, Doc: "the account the finding must belong to (AwsAccountId); checked by the guardrail"},
		},
		Outputs: []action.Field{
			{Name: "finding_id", Type: action.String, Doc: "the finding's ASFF Id"},
			{Name: "product_arn", Type: action.String, Doc: "the finding's product ARN"},
			{Name: "previous_status", Type: action.String, Doc: "the workflow status before"},
			{Name: "previous_note", Type: action.String, Doc: "the note text before; empty when none"},
			{Name: "previous_note_by", Type: action.String, Doc: "who wrote the note before"},
			{Name: "status", Type: action.String, Doc: "the workflow status after"},
			{Name: "note", Type: action.String, Doc: "the note text after, as Security Hub keeps it"},
			{Name: "note_truncated", Type: action.Bool, Doc: fmt.Sprintf("whether the note was cut to %d characters", NoteLimit)},
			{Name: "changed", Type: action.Bool, Doc: "whether this run called BatchUpdateFindings"},
		},
		IAM:         []string{"securityhub:BatchUpdateFindings", "securityhub:GetFindings"},
		RevertIAM:   []string{"securityhub:BatchUpdateFindings", "securityhub:GetFindings"},
		Idempotency: action.Idempotent,
	}
}

// update is the plan of one run and what it found.
type update struct {
	action.Plan
	finding             types.AwsSecurityFinding
	status, note        string
	truncated           bool
	setStatus, setNote  bool
	prevStatus, prevBy  string
	prevNote, updatedBy string
}

// truncateNote cuts note to NoteLimit characters, ending with the mark.
func truncateNote(note string) (string, bool) {
	if utf8.RuneCountInString(note) <= NoteLimit {
		return note, false
	}
	r := []rune(note)
	keep := NoteLimit - utf8.RuneCountInString(truncatedMark)
	return strings.TrimRight(string(r[:keep]), " ") + truncatedMark, true
}

func validStatus(s string) bool {
	switch types.WorkflowStatus(s) {
	case types.WorkflowStatusNew, types.WorkflowStatusNotified, types.WorkflowStatusResolved, types.WorkflowStatusSuppressed:
		return true
	}
	return false
}

// resolve finds the one finding id names.
func resolve(ctx context.Context, api API, actionID string, t action.Target, id string) (types.AwsSecurityFinding, error) {
	filters, keep := findingFilter(t, id)
	found, truncated, err := get(ctx, api, actionID, t, filters, keep)
	if err != nil {
		return types.AwsSecurityFinding{}, err
	}
	switch {
	case len(found) == 0 && truncated:
		return types.AwsSecurityFinding{}, action.Mark(action.Permanent, fmt.Errorf("%s: finding %s is not among the first %d GuardDuty findings of account %s region %s; give its ASFF Id", actionID, id, maxFindings, t.Account, t.Region))
	case len(found) == 0:
		return types.AwsSecurityFinding{}, action.Mark(action.Permanent, fmt.Errorf("%s: no Security Hub finding %s in account %s region %s", actionID, id, t.Account, t.Region))
	case len(found) == 1:
		return found[0], nil
	}
	return types.AwsSecurityFinding{}, action.Mark(action.Permanent, fmt.Errorf("%s: %d Security Hub findings match %s; give the ASFF Id", actionID, len(found), id))
}

func (UpdateFinding) plan(ctx context.Context, call action.Call) (*update, error) {
	id := strings.TrimSpace(call.Params.Str("finding_id"))
	status := strings.TrimSpace(call.Params.Str("status"))
	note := strings.TrimSpace(call.Params.Str("note"))
	by := cmp.Or(strings.TrimSpace(call.Params.Str("updated_by")), "firebreak")
	switch {
	case id == "":
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter finding_id: required", updateID))
	case status == "" && note == "":
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: give status, note or both", updateID))
	case status != "" && !validStatus(status):
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter status: %q is not NEW, NOTIFIED, RESOLVED or SUPPRESSED", updateID, status))
	case len(by) > NoteLimit:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter updated_by: longer than %d characters", updateID, NoteLimit))
	case call.Params.Str("account_id") != "" && call.Params.Str("account_id") != call.Target.Account:
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: parameter account_id %s is not the target account %s", updateID, call.Params.Str("account_id"), call.Target.Account))
	}
	api, err := client(ctx, updateID, call)
	if err != nil {
		return nil, err
	}
	u := &update{updatedBy: by}
	u.Read("securityhub:GetFindings", id, findingDetail(id))
	if u.finding, err = resolve(ctx, api, updateID, call.Target, id); err != nil {
		return nil, err
	}
	f := u.finding
	if inst := call.Params.Str("instance_id"); inst != "" && !about(f, call.Target, inst) {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: finding %s is not about instance %s", updateID, aws.ToString(f.Id), inst))
	}
	if acct := call.Params.Str("account_id"); acct != "" && aws.ToString(f.AwsAccountId) != acct {
		return nil, action.Mark(action.Permanent, fmt.Errorf("%s: finding %s belongs to account %s, not %s", updateID, aws.ToString(f.Id), aws.ToString(f.AwsAccountId), acct))
	}
	u.prevStatus = string(workflowStatus(f))
	if f.Note != nil {
		u.prevNote, u.prevBy = aws.ToString(f.Note.Text), aws.ToString(f.Note.UpdatedBy)
	}
	u.status, u.note = u.prevStatus, u.prevNote
	if status != "" && status != u.prevStatus {
		u.status, u.setStatus = status, true
	}
	if note != "" {
		n, cut := truncateNote(note)
		u.truncated = cut
		if n != u.prevNote || by != u.prevBy {
			u.note, u.setNote = n, true
		}
	}
	if u.setStatus || u.setNote {
		in := &awshub.BatchUpdateFindingsInput{FindingIdentifiers: []types.AwsSecurityFindingIdentifier{{Id: f.Id, ProductArn: f.ProductArn}}}
		var detail []string
		if u.setStatus {
			in.Workflow = &types.WorkflowUpdate{Status: types.WorkflowStatus(u.status)}
			detail = append(detail, "Workflow.Status="+u.status)
		}
		if u.setNote {
			in.Note = &types.NoteUpdate{Text: aws.String(u.note), UpdatedBy: aws.String(by)}
			detail = append(detail, fmt.Sprintf("Note=%q", oneLine(u.note)))
		}
		u.Write("securityhub:BatchUpdateFindings", aws.ToString(f.Id), strings.Join(detail, ","), func(ctx context.Context) error {
			if err := batchUpdate(ctx, api, call.Target, in); err != nil {
				return err
			}
			call.Log().InfoContext(ctx, "security hub finding updated", "finding", aws.ToString(f.Id), "status", u.status, "note_changed", u.setNote)
			return nil
		})
	}
	return u, nil
}

// batchUpdate calls BatchUpdateFindings for one finding and turns an
// unprocessed finding into an error.
func batchUpdate(ctx context.Context, api API, t action.Target, in *awshub.BatchUpdateFindingsInput) error {
	id := aws.ToString(in.FindingIdentifiers[0].Id)
	out, err := api.BatchUpdateFindings(ctx, in)
	if err != nil {
		return hubError(updateID, t, "update finding "+id, err)
	}
	for _, u := range out.UnprocessedFindings {
		err := fmt.Errorf("%s: update finding %s: %s: %s", updateID, id, aws.ToString(u.ErrorCode), aws.ToString(u.ErrorMessage))
		switch aws.ToString(u.ErrorCode) {
		case "ConcurrentUpdateError", "InternalFailure":
			return action.Mark(action.Retry, err)
		}
		return action.Mark(action.Permanent, err)
	}
	return nil
}

// Check reports the calls Do would make, changing nothing.
func (a UpdateFinding) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	u, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	return u.Calls(), nil
}

// Do updates the finding.
func (a UpdateFinding) Do(ctx context.Context, call action.Call) (action.Values, error) {
	u, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := u.Apply(ctx, call); err != nil {
		return nil, err
	}
	status, note := u.status, u.note
	if call.DryRun {
		status, note = u.prevStatus, u.prevNote
	}
	return action.Values{
		"finding_id":       action.StringValue(aws.ToString(u.finding.Id)),
		"product_arn":      action.StringValue(aws.ToString(u.finding.ProductArn)),
		"previous_status":  action.StringValue(u.prevStatus),
		"previous_note":    action.StringValue(u.prevNote),
		"previous_note_by": action.StringValue(u.prevBy),
		"status":           action.StringValue(status),
		"note":             action.StringValue(note),
		"note_truncated":   action.BoolValue(u.truncated),
		"changed":          action.BoolValue(u.HasWrites() && !call.DryRun),
	}, nil
}

// Revert puts back the status and note Do replaced, where they are still
// what Do set.
func (UpdateFinding) Revert(ctx context.Context, call action.Call, done action.Values) error {
	if !done.Bool("changed") {
		return nil
	}
	api, err := client(ctx, updateID, call)
	if err != nil {
		return err
	}
	id := done.Str("finding_id")
	f, err := resolve(ctx, api, updateID, call.Target, id)
	if err != nil {
		return fmt.Errorf("revert: %w", err)
	}
	in := &awshub.BatchUpdateFindingsInput{FindingIdentifiers: []types.AwsSecurityFindingIdentifier{{Id: f.Id, ProductArn: f.ProductArn}}}
	prev := done.Str("previous_status")
	if cur := string(workflowStatus(f)); cur == done.Str("status") && cur != prev && prev != "" {
		in.Workflow = &types.WorkflowUpdate{Status: types.WorkflowStatus(prev)}
	}
	var curNote, curBy string
	if f.Note != nil {
		curNote, curBy = aws.ToString(f.Note.Text), aws.ToString(f.Note.UpdatedBy)
	}
	by := cmp.Or(strings.TrimSpace(call.Params.Str("updated_by")), "firebreak")
	if curNote == done.Str("note") && curBy == by && curNote != done.Str("previous_note") {
		switch prevNote := done.Str("previous_note"); {
		case prevNote != "":
			in.Note = &types.NoteUpdate{Text: aws.String(prevNote), UpdatedBy: aws.String(cmp.Or(done.Str("previous_note_by"), by))}
		case curNote != revertedNote:
			in.Note = &types.NoteUpdate{Text: aws.String(revertedNote), UpdatedBy: aws.String(by)}
		}
	}
	if in.Workflow == nil && in.Note == nil {
		return nil
	}
	if err := batchUpdate(ctx, api, call.Target, in); err != nil {
		return fmt.Errorf("revert: %w", err)
	}
	call.Log().InfoContext(ctx, "security hub finding reverted", "finding", id, "status", prev)
	return nil
}
