package iam

import (
	"context"
	"fmt"

	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// DeleteLoginProfile removes a user's console password
// (aws.iam.delete_login_profile).
type DeleteLoginProfile struct{}

var (
	_ action.Action  = DeleteLoginProfile{}
	_ action.Checker = DeleteLoginProfile{}
)

const loginID = "aws.iam.delete_login_profile"

// Meta describes aws.iam.delete_login_profile.
func (DeleteLoginProfile) Meta() action.Meta {
	return action.Meta{
		ID:      loginID,
		Summary: "Delete an IAM user's console password",
		Doc: "Removes the login profile, so the user can no longer sign in to the console. The password cannot be " +
			"restored, only replaced by a new one (iam:CreateLoginProfile), so the action is destructive. A user " +
			"without a console password is not an error: existed is false and nothing is written.",
		Risk: action.Destructive,
		Params: []action.Param{
			{Name: "user", Type: action.IAMName, Required: true, Target: action.TargetUser, Doc: "the IAM user whose console password to delete"},
		},
		Outputs: []action.Field{
			{Name: "existed", Type: action.Bool, Doc: "whether the user had a console password before the action"},
			{Name: "created", Type: action.String, Doc: "when the password was set, RFC 3339 UTC; empty when there was none"},
		},
		IAM:         []string{"iam:DeleteLoginProfile", "iam:GetLoginProfile"},
		Idempotency: action.Idempotent,
	}
}

func (a DeleteLoginProfile) plan(ctx context.Context, call action.Call) (API, action.Values, []action.PlannedCall, error) {
	api, err := client(ctx, loginID, call)
	if err != nil {
		return nil, nil, nil, err
	}
	user := call.Params.Str("user")
	arn := principal{"user", user}.arn(call.Target.Account)
	calls := []action.PlannedCall{{Operation: "iam:GetLoginProfile", Resource: arn, Detail: "UserName=" + user}}
	out, err := api.GetLoginProfile(ctx, &awsiam.GetLoginProfileInput{UserName: &user})
	switch {
	case notFound(err):
		return api, action.Values{"existed": action.BoolValue(false), "created": action.StringValue("")}, calls, nil
	case err != nil:
		return nil, nil, nil, fmt.Errorf("%s: read login profile of user %s: %w", loginID, user, err)
	}
	var created string
	if out.LoginProfile != nil {
		created = timeText(out.LoginProfile.CreateDate)
	}
	calls = append(calls, action.PlannedCall{Operation: "iam:DeleteLoginProfile", Resource: arn, Detail: "UserName=" + user})
	return api, action.Values{"existed": action.BoolValue(true), "created": action.StringValue(created)}, calls, nil
}

// Check reports the calls Do would make; it only reads.
func (a DeleteLoginProfile) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	_, _, calls, err := a.plan(ctx, call)
	return calls, err
}

// Do deletes the login profile when there is one.
func (a DeleteLoginProfile) Do(ctx context.Context, call action.Call) (action.Values, error) {
	api, vs, _, err := a.plan(ctx, call)
	if err != nil {
		return nil, err
	}
	if !vs.Bool("existed") || call.DryRun {
		return vs, nil
	}
	user := call.Params.Str("user")
	if _, err := api.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: &user}); err != nil && !notFound(err) {
		return nil, fmt.Errorf("%s: delete login profile of user %s: %w", loginID, user, err)
	}
	call.Log().InfoContext(ctx, "console password deleted", "user", user)
	return vs, nil
}
