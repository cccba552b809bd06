package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// The inline policy names the actions attach. RevokePolicyName is the name
// the IAM console's "Revoke active sessions" uses, so that responders
// recognise it and the console's own revoke updates the same policy.
const (
	RevokePolicyName     = "AWSRevokeOlderSessions"
	QuarantinePolicyName = "FirebreakQuarantine"
	RequireMFAPolicyName = "FirebreakRequireMFA"
)

// inlinePlan is what a policy action found and would change.
type inlinePlan struct {
	api   API
	p     principal
	old   string // the current document, "" when there is none
	had   bool
	doc   string // the document to put; "" when nothing changes
	calls []action.PlannedCall
}

// planInline reads p's inline policy name and asks want what document it
// should hold; want returns "" when the current one is already right.
func planInline(ctx context.Context, id, name string, call action.Call, want func(old string, had bool) (string, error)) (inlinePlan, error) {
	p, err := principalOf(id, call.Params)
	if err != nil {
		return inlinePlan{}, err
	}
	api, err := client(ctx, id, call)
	if err != nil {
		return inlinePlan{}, err
	}
	pl := inlinePlan{api: api, p: p}
	arn := p.arn(call.Target.Account)
	pl.calls = append(pl.calls, action.PlannedCall{Operation: p.op("Get"), Resource: arn, Detail: "PolicyName=" + name})
	pl.old, pl.had, err = getInline(ctx, api, p, name)
	if err != nil {
		return pl, fmt.Errorf("%s: read policy %s of %s: %w", id, name, p, err)
	}
	if pl.doc, err = want(pl.old, pl.had); err != nil {
		return pl, fmt.Errorf("%s: policy %s of %s: %w", id, name, p, err)
	}
	if pl.doc != "" {
		pl.calls = append(pl.calls, action.PlannedCall{Operation: p.op("Put"), Resource: arn, Detail: "PolicyName=" + name + " PolicyDocument=" + pl.doc})
	}
	return pl, nil
}

// apply puts the planned document, unless there is none or it is a dry run.
func (pl inlinePlan) apply(ctx context.Context, id, name string, call action.Call) error {
	if pl.doc == "" || call.DryRun {
		return nil
	}
	if err := putInline(ctx, pl.api, pl.p, name, pl.doc); err != nil {
		return fmt.Errorf("%s: attach policy %s to %s: %w", id, name, pl.p, err)
	}
	call.Log().InfoContext(ctx, "inline policy attached", "policy", name, pl.p.kind, pl.p.name)
	return nil
}

// revertInline deletes the inline policy name from the call's principal.
func revertInline(ctx context.Context, id, name string, call action.Call) error {
	p, err := principalOf(id, call.Params)
	if err != nil {
		return err
	}
	api, err := client(ctx, id, call)
	if err != nil {
		return err
	}
	if err := deleteInline(ctx, api, p, name); err != nil {
		return fmt.Errorf("%s: revert: delete policy %s of %s: %w", id, name, p, err)
	}
	return nil
}

// fixed wants the document doc and nothing else.
func fixed(doc string) func(string, bool) (string, error) {
	return func(old string, had bool) (string, error) {
		if had && sameJSON(old, doc) {
			return "", nil
		}
		return doc, nil
	}
}

// policyOutputs are the outputs every policy action has.
func policyOutputs(extra ...action.Field) []action.Field {
	return append([]action.Field{
		{Name: "policy_name", Type: action.String, Doc: "the name of the inline policy"},
		{Name: "principal_arn", Type: action.String, Doc: "the user or role the policy is on (an ARN when the account is known)"},
		{Name: "changed", Type: action.Bool, Doc: "false when the policy was already in place and nothing was written"},
	}, extra...)
}

func (pl inlinePlan) values(name string, call action.Call) action.Values {
	return action.Values{
		"policy_name":   action.StringValue(name),
		"principal_arn": action.StringValue(pl.p.arn(call.Target.Account)),
		"changed":       action.BoolValue(pl.doc != "" && !call.DryRun),
	}
}

// ---- revoke sessions ----

// RevokeSessions refuses the temporary credentials a user or role was
// issued before now (aws.iam.revoke_sessions).
type RevokeSessions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action   = RevokeSessions{}
	_ action.Checker  = RevokeSessions{}
	_ action.Reverter = RevokeSessions{}
)

const revokeID = "aws.iam.revoke_sessions"

// Meta describes aws.iam.revoke_sessions.
func (RevokeSessions) Meta() action.Meta {
	return action.Meta{
		ID:      revokeID,
		Summary: "Revoke the temporary credentials a user or role holds",
		Doc: "Attaches the inline policy " + RevokePolicyName + ", denying every action to credentials whose " +
			"aws:TokenIssueTime is before the cutoff: now, rounded up to the next whole second. This is what the IAM " +
			"console's \"Revoke active sessions\" does for roles. On a user it refuses the sessions issued from the " +
			"user's keys (GetSessionToken, console sign-in) and leaves the long-term keys alone: disable those with " +
			"aws.iam.disable_access_key. Running it again moves the cutoff forward, never back; a retry of the same " +
			"step (same idempotency key) changes nothing. Revert deletes the policy.",
		Risk:        action.Reversible,
		Params:      slices.Clone(principalParams),
		Outputs:     policyOutputs(action.Field{Name: "cutoff", Type: action.String, Doc: "sessions issued before this time (RFC 3339 UTC) are refused"}),
		IAM:         inlineIAM("Get", "Put"),
		RevertIAM:   inlineIAM("Delete"),
		Idempotency: action.Idempotent,
	}
}

// revokeDoc is the shape of the revoke policy.
type revokeDoc struct {
	Version   string `json:"Version"`
	Statement []struct {
		Sid       string                     `json:"Sid,omitempty"`
		Effect    string                     `json:"Effect"`
		Action    []string                   `json:"Action"`
		Resource  []string                   `json:"Resource"`
		Condition map[string]json.RawMessage `json:"Condition"`
	} `json:"Statement"`
}

// revokeSid marks the statement with the step that wrote it, so that a
// retry recognises its own work. Unkeyed calls get no Sid.
func revokeSid(k action.Key) string {
	if k == (action.Key{}) {
		return ""
	}
	return "FirebreakRevoke" + k.Token()
}

// parseRevoke reads the cutoff and Sid of a revoke policy; ok is false when
// doc is not one.
func parseRevoke(doc string) (cutoff time.Time, sid string, ok bool) {
	var d revokeDoc
	if json.Unmarshal([]byte(doc), &d) != nil || len(d.Statement) != 1 {
		return time.Time{}, "", false
	}
	st := d.Statement[0]
	var cond map[string]json.RawMessage
	if json.Unmarshal(st.Condition["DateLessThan"], &cond) != nil {
		return time.Time{}, "", false
	}
	var text string
	if json.Unmarshal(cond["aws:TokenIssueTime"], &text) != nil {
		return time.Time{}, "", false
	}
	t, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return time.Time{}, "", false
	}
	return t.UTC(), st.Sid, true
}

// RevokeDocument is the policy that refuses credentials issued before
// cutoff. sid may be empty.
func RevokeDocument(cutoff time.Time, sid string) string {
	type statement struct {
		Sid       string                       `json:"Sid,omitempty"`
		Effect    string                       `json:"Effect"`
		Action    []string                     `json:"Action"`
		Resource  []string                     `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{"2012-10-17", []statement{{
		Sid: sid, Effect: "Deny", Action: []string{"*"}, Resource: []string{"*"},
		Condition: map[string]map[string]string{"DateLessThan": {"aws:TokenIssueTime": cutoff.UTC().Format(time.RFC3339)}},
	}}}
	b, _ := json.Marshal(doc) // cannot fail: plain strings
	return string(b)
}

func (a RevokeSessions) plan(ctx context.Context, call action.Call) (inlinePlan, time.Time, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	cutoff := now().UTC().Truncate(time.Second).Add(time.Second)
	sid := revokeSid(call.Key)
	pl, err := planInline(ctx, revokeID, RevokePolicyName, call, func(old string, had bool) (string, error) {
		if !had {
			return RevokeDocument(cutoff, sid), nil
		}
		prev, prevSid, ok := parseRevoke(old)
		switch {
		case !ok:
			// Someone else's policy under the console's name: replace it
			// with the real thing.
		case sid != "" && prevSid == sid:
			cutoff = prev // this step already revoked: a retry changes nothing
			return "", nil
		case !prev.Before(cutoff):
			cutoff = prev // the cutoff only moves forward
			return "", nil
		}
		return RevokeDocument(cutoff, sid), nil
	})
	return pl, cutoff, err
}

// Check reports the calls Do would make; it only reads.
func (a RevokeSessions) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	pl, _, err := a.plan(ctx, call)
	return pl.calls, err
}

// Do attaches or moves forward the revoke policy.
func (a RevokeSessions) Do(ctx context.Context, call action.Call) (action.Values, error) {
	pl, cutoff, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if err := pl.apply(ctx, revokeID, RevokePolicyName, call); err != nil {
		return nil, err
	}
	vs := pl.values(RevokePolicyName, call)
	vs["cutoff"] = action.StringValue(cutoff.Format(time.RFC3339))
	return vs, nil
}

// Revert deletes the revoke policy.
func (a RevokeSessions) Revert(ctx context.Context, call action.Call, _ action.Values) error {
	return revertInline(ctx, revokeID, RevokePolicyName, call)
}

// ---- quarantine ----

// QuarantineDocument denies everything.
const QuarantineDocument = `{"Version":"2012-10-17","Statement":[{"Sid":"FirebreakQuarantine","Effect":"Deny","Action":"*","Resource":"*"}]}`

// QuarantinePrincipal attaches a deny-all inline policy to a user or role
// (aws.iam.quarantine_principal).
type QuarantinePrincipal struct{}

var (
	_ action.Action   = QuarantinePrincipal{}
	_ action.Checker  = QuarantinePrincipal{}
	_ action.Reverter = QuarantinePrincipal{}
)

const quarantineID = "aws.iam.quarantine_principal"

// Meta describes aws.iam.quarantine_principal.
func (QuarantinePrincipal) Meta() action.Meta {
	return action.Meta{
		ID:      quarantineID,
		Summary: "Deny everything to an IAM user or role with an inline policy",
		Doc: "Attaches the inline policy " + QuarantinePolicyName + " (Deny * on *). An explicit deny beats every allow, " +
			"so the principal can do nothing with any of its credentials, long-term or temporary, until the policy is " +
			"removed. Nothing is written when the policy is already in place. Revert deletes the policy.",
		Risk:        action.Reversible,
		Params:      slices.Clone(principalParams),
		Outputs:     policyOutputs(),
		IAM:         inlineIAM("Get", "Put"),
		RevertIAM:   inlineIAM("Delete"),
		Idempotency: action.Idempotent,
	}
}

// Check reports the calls Do would make; it only reads.
func (QuarantinePrincipal) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	pl, err := planInline(ctx, quarantineID, QuarantinePolicyName, call, fixed(QuarantineDocument))
	return pl.calls, err
}

// Do attaches the deny-all policy.
func (QuarantinePrincipal) Do(ctx context.Context, call action.Call) (action.Values, error) {
	pl, err := planInline(ctx, quarantineID, QuarantinePolicyName, call, fixed(QuarantineDocument))
	if err != nil {
		return nil, err
	}
	if err := pl.apply(ctx, quarantineID, QuarantinePolicyName, call); err != nil {
		return nil, err
	}
	return pl.values(QuarantinePolicyName, call), nil
}

// Revert deletes the deny-all policy.
func (QuarantinePrincipal) Revert(ctx context.Context, call action.Call, _ action.Values) error {
	return revertInline(ctx, quarantineID, QuarantinePolicyName, call)
}

// ---- require MFA ----

// RequireMFADocument denies everything but managing one's own MFA device
// to requests made without MFA. It follows AWS's documented example
// "allows IAM users to self-manage an MFA device": BoolIfExists makes
// requests signed with long-term keys (which carry no MFA context) count
// as without MFA.
const RequireMFADocument = `{"Version":"2012-10-17","Statement":[{"Sid":"FirebreakRequireMFA","Effect":"Deny",` +
	`"NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices",` +
	`"iam:ListVirtualMFADevices","iam:ResyncMFADevice","iam:ChangePassword","iam:GetAccountPasswordPolicy","sts:GetSessionToken"],` +
	`"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`

// MFAAdvice is the require_mfa action's advice output.
const MFAAdvice = "Enable MFA: assign a virtual or hardware MFA device to the user, then sign in with it " +
	"(or call sts:GetSessionToken with the MFA code for CLI and SDK access); until then only MFA setup is allowed."

// RequireMFA attaches a deny-unless-MFA inline policy (aws.iam.require_mfa).
type RequireMFA struct{}

var (
	_ action.Action   = RequireMFA{}
	_ action.Checker  = RequireMFA{}
	_ action.Reverter = RequireMFA{}
)

const requireMFAID = "aws.iam.require_mfa"

// Meta describes aws.iam.require_mfa.
func (RequireMFA) Meta() action.Meta {
	return action.Meta{
		ID:      requireMFAID,
		Summary: "Deny a user or role everything unless the request was made with MFA",
		Doc: "Attaches the inline policy " + RequireMFAPolicyName + ": every action but setting up and using an MFA device " +
			"is denied when aws:MultiFactorAuthPresent is false or absent (BoolIfExists), so long-term keys stop " +
			"working on their own. Revert deletes the policy.",
		Risk:        action.Reversible,
		Params:      slices.Clone(principalParams),
		Outputs:     policyOutputs(action.Field{Name: "advice", Type: action.String, Doc: "what the owner must do: enable MFA"}),
		IAM:         inlineIAM("Get", "Put"),
		RevertIAM:   inlineIAM("Delete"),
		Idempotency: action.Idempotent,
	}
}

// Check reports the calls Do would make; it only reads.
func (RequireMFA) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	pl, err := planInline(ctx, requireMFAID, RequireMFAPolicyName, call, fixed(RequireMFADocument))
	return pl.calls, err
}

// Do attaches the deny-unless-MFA policy.
func (RequireMFA) Do(ctx context.Context, call action.Call) (action.Values, error) {
	pl, err := planInline(ctx, requireMFAID, RequireMFAPolicyName, call, fixed(RequireMFADocument))
	if err != nil {
		return nil, err
	}
	if err := pl.apply(ctx, requireMFAID, RequireMFAPolicyName, call); err != nil {
		return nil, err
	}
	vs := pl.values(RequireMFAPolicyName, call)
	vs["advice"] = action.StringValue(MFAAdvice)
	return vs, nil
}

// Revert deletes the deny-unless-MFA policy.
func (RequireMFA) Revert(ctx context.Context, call action.Call, _ action.Values) error {
	return revertInline(ctx, requireMFAID, RequireMFAPolicyName, call)
}
