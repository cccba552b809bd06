package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// keyInfo is what the key actions learn before they change anything.
type keyInfo struct {
	user   string
	found  bool   // the key is one of user's keys
	status string // Active or Inactive, when found
	// The key's last use; the zero value when unknown or never used.
	lastUsed types.AccessKeyLastUsed
	calls    []action.PlannedCall // the reads made, in order
}

// The outputs that report a key's last use, shared by both key actions.
var lastUsedOutputs = []action.Field{
	{Name: "last_used_time", Type: action.String, Doc: "when the key was last used, RFC 3339 UTC; empty when never"},
	{Name: "last_used_service", Type: action.String, Doc: "the service the key last called (iam, s3, …); N/A when never used"},
	{Name: "last_used_region", Type: action.String, Doc: "the region of the key's last use; N/A when never used"},
}

func (k keyInfo) lastUsedValues(vs action.Values) action.Values {
	vs["last_used_time"] = action.StringValue(timeText(k.lastUsed.LastUsedDate))
	vs["last_used_service"] = action.StringValue(aws.ToString(k.lastUsed.ServiceName))
	vs["last_used_region"] = action.StringValue(aws.ToString(k.lastUsed.Region))
	return vs
}

// inspectKey finds the key's owner (from GetAccessKeyLastUsed unless user
// is given), its last use and its status among the owner's keys. A key
// that is not among the given user's keys comes back with found false.
func inspectKey(ctx context.Context, api API, account, keyID, user string) (keyInfo, error) {
	k := keyInfo{user: user}
	if strings.HasPrefix(keyID, "ASIA") {
		return k, action.Mark(action.Permanent, fmt.Errorf("access key %s is temporary (ASIA…): it cannot be disabled or deleted; "+
			"revoke the sessions of its user or role (aws.iam.revoke_sessions) and contain the long-term credentials that issued it", keyID))
	}
	k.calls = append(k.calls, action.PlannedCall{Operation: "iam:GetAccessKeyLastUsed", Resource: keyID})
	lu, luErr := api.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: &keyID})
	switch {
	case luErr != nil && user == "":
		return k, fmt.Errorf("find the owner of access key %s: %w", keyID, luErr)
	case luErr == nil && user == "":
		k.user = aws.ToString(lu.UserName)
		if k.user == "" {
			return k, action.Mark(action.Permanent, fmt.Errorf("access key %s has no IAM user (a root key?): firebreak does not act on root keys", keyID))
		}
	case luErr == nil && aws.ToString(lu.UserName) != user:
		return k, action.Mark(action.Permanent, fmt.Errorf("access key %s belongs to user %q, not %q", keyID, aws.ToString(lu.UserName), user))
	}
	if luErr == nil && lu.AccessKeyLastUsed != nil {
		k.lastUsed = *lu.AccessKeyLastUsed
	}
	p := principal{"user", k.user}
	k.calls = append(k.calls, action.PlannedCall{Operation: "iam:ListAccessKeys", Resource: p.arn(account), Detail: "UserName=" + k.user})
	pages := awsiam.NewListAccessKeysPaginator(api, &awsiam.ListAccessKeysInput{UserName: &k.user})
	for pages.HasMorePages() && !k.found {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return k, fmt.Errorf("list access keys of user %s: %w", k.user, err)
		}
		for _, m := range out.AccessKeyMetadata {
			if aws.ToString(m.AccessKeyId) == keyID {
				k.found, k.status = true, string(m.Status)
			}
		}
	}
	if luErr != nil && k.found {
		// The key exists, yet its last use could not be read.
		return k, fmt.Errorf("last use of access key %s: %w", keyID, luErr)
	}
	return k, nil
}

// keyParams are the params of both key actions.
var keyParams = []action.Param{
	{Name: "access_key_id", Type: action.AccessKeyID, Required: true, Target: action.TargetAccessKey, Doc: "the access key to act on; only this key, never the owner's other keys"},
	{Name: "user", Type: action.IAMName, Doc: "the key's owner; found with iam:GetAccessKeyLastUsed when not given, checked against it when given"},
}

// DisableAccessKey makes one access key Inactive (aws.iam.disable_access_key).
type DisableAccessKey struct{}

var (
	_ action.Action   = DisableAccessKey{}
	_ action.Checker  = DisableAccessKey{}
	_ action.Reverter = DisableAccessKey{}
)

// Meta describes aws.iam.disable_access_key.
func (DisableAccessKey) Meta() action.Meta {
	return action.Meta{
		ID:      "aws.iam.disable_access_key",
		Summary: "Disable exactly one IAM access key",
		Doc: "Sets the named key's status to Inactive with iam:UpdateAccessKey. The owner's other keys are never touched. " +
			"The key's last use is read first and returned. A key already Inactive is left as it is. " +
			"Revert makes the key Active again, but only when this action disabled it.",
		Risk:   action.Reversible,
		Params: slices.Clone(keyParams),
		Outputs: append([]action.Field{
			{Name: "user", Type: action.IAMName, Doc: "the IAM user that owns the key"},
			{Name: "previous_status", Type: action.String, Doc: "the key's status before the action: Active or Inactive"},
		}, lastUsedOutputs...),
		IAM:         []string{"iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"},
		RevertIAM:   []string{"iam:UpdateAccessKey"},
		Idempotency: action.Idempotent,
	}
}

const disableID = "aws.iam.disable_access_key"

func (a DisableAccessKey) plan(ctx context.Context, call action.Call) (API, keyInfo, []action.PlannedCall, error) {
	api, err := client(ctx, disableID, call)
	if err != nil {
		return nil, keyInfo{}, nil, err
	}
	keyID := call.Params.Str("access_key_id")
	k, err := inspectKey(ctx, api, call.Target.Account, keyID, call.Params.Str("user"))
	if err != nil {
		return nil, k, nil, fmt.Errorf("%s: %w", disableID, err)
	}
	if !k.found {
		return nil, k, nil, action.Mark(action.Permanent, fmt.Errorf("%s: access key %s is not a key of user %s", disableID, keyID, k.user))
	}
	calls := k.calls
	if k.status != string(types.StatusTypeInactive) {
		calls = append(calls, action.PlannedCall{Operation: "iam:UpdateAccessKey", Resource: keyID, Detail: "UserName=" + k.user + " Status=Inactive"})
	}
	return api, k, calls, nil
}

// Check reports the calls Do would make; it only reads.
func (a DisableAccessKey) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	_, _, calls, err := a.plan(ctx, call)
	return calls, err
}

// Do disables the key unless it is already Inactive.
func (a DisableAccessKey) Do(ctx context.Context, call action.Call) (action.Values, error) {
	api, k, _, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	keyID := call.Params.Str("access_key_id")
	if k.status != string(types.StatusTypeInactive) && !call.DryRun {
		_, err := api.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{AccessKeyId: &keyID, UserName: &k.user, Status: types.StatusTypeInactive})
		if err != nil {
			return nil, fmt.Errorf("%s: disable access key %s of user %s: %w", disableID, keyID, k.user, err)
		}
		call.Log().InfoContext(ctx, "access key disabled", "access_key_id", keyID, "user", k.user)
	}
	return k.lastUsedValues(action.Values{
		"user":            action.StringValue(k.user),
		"previous_status": action.StringValue(k.status),
	}), nil
}

// Revert makes the key Active again when Do found it Active.
func (a DisableAccessKey) Revert(ctx context.Context, call action.Call, done action.Values) error {
	if done.Str("previous_status") != string(types.StatusTypeActive) {
		return nil // the key was inactive before: leave it so
	}
	api, err := client(ctx, disableID, call)
	if err != nil {
		return err
	}
	keyID, user := call.Params.Str("access_key_id"), done.Str("user")
	_, err = api.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{AccessKeyId: &keyID, UserName: &user, Status: types.StatusTypeActive})
	if err != nil {
		return fmt.Errorf("%s: revert: re-activate access key %s of user %s: %w", disableID, keyID, user, err)
	}
	return nil
}

// DeleteAccessKey deletes an inactive access key (aws.iam.delete_access_key).
type DeleteAccessKey struct{}

var (
	_ action.Action  = DeleteAccessKey{}
	_ action.Checker = DeleteAccessKey{}
)

const deleteID = "aws.iam.delete_access_key"

// ErrKeyActive is returned (wrapped, classified permanent) when asked to
// delete a key that is still Active.
var ErrKeyActive = errors.New("the key is still Active: disable it first (aws.iam.disable_access_key), then delete it")

// Meta describes aws.iam.delete_access_key.
func (DeleteAccessKey) Meta() action.Meta {
	return action.Meta{
		ID:      deleteID,
		Summary: "Delete an IAM access key that is already inactive",
		Doc: "Refuses an Active key: disable it first, so that a mistaken delete is preceded by a reversible step. " +
			"Reads and returns the key's last use before deleting it, because that evidence is gone once the key is. " +
			"Give user (from disable_access_key's output) so that a second run recognises the key as already deleted.",
		Risk:   action.Destructive,
		Params: slices.Clone(keyParams),
		Outputs: append([]action.Field{
			{Name: "user", Type: action.IAMName, Doc: "the IAM user that owned the key"},
			{Name: "deleted", Type: action.Bool, Doc: "true when this run deleted the key; false when it was already gone"},
		}, lastUsedOutputs...),
		IAM:         []string{"iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"},
		Idempotency: action.Idempotent,
	}
}

func (a DeleteAccessKey) plan(ctx context.Context, call action.Call) (API, keyInfo, []action.PlannedCall, error) {
	api, err := client(ctx, deleteID, call)
	if err != nil {
		return nil, keyInfo{}, nil, err
	}
	keyID := call.Params.Str("access_key_id")
	k, err := inspectKey(ctx, api, call.Target.Account, keyID, call.Params.Str("user"))
	if err != nil {
		return nil, k, nil, fmt.Errorf("%s: %w", deleteID, err)
	}
	calls := k.calls
	switch {
	case !k.found:
		// Already deleted: nothing more to do.
	case k.status != string(types.StatusTypeInactive):
		return nil, k, nil, action.Mark(action.Permanent, fmt.Errorf("%s: access key %s of user %s: %w", deleteID, keyID, k.user, ErrKeyActive))
	default:
		calls = append(calls, action.PlannedCall{Operation: "iam:DeleteAccessKey", Resource: keyID, Detail: "UserName=" + k.user})
	}
	return api, k, calls, nil
}

// Check reports the calls Do would make; it only reads.
func (a DeleteAccessKey) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	_, _, calls, err := a.plan(ctx, call)
	return calls, err
}

// Do deletes the key if it is Inactive and still exists.
func (a DeleteAccessKey) Do(ctx context.Context, call action.Call) (action.Values, error) {
	api, k, _, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	keyID := call.Params.Str("access_key_id")
	deleted := false
	if k.found && !call.DryRun {
		_, err := api.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: &keyID, UserName: &k.user})
		if err != nil && !notFound(err) {
			return nil, fmt.Errorf("%s: delete access key %s of user %s: %w", deleteID, keyID, k.user, err)
		}
		deleted = err == nil
		call.Log().InfoContext(ctx, "access key deleted", "access_key_id", keyID, "user", k.user, "last_used", timeText(k.lastUsed.LastUsedDate))
	}
	return k.lastUsedValues(action.Values{
		"user":    action.StringValue(k.user),
		"deleted": action.BoolValue(deleted),
	}), nil
}
