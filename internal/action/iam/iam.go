package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-sec/firebreak/internal/action"
)

// API is the part of the IAM client the actions call. *iam.Client
// satisfies it.
type API interface {
	GetAccessKeyLastUsed(ctx context.Context, in *awsiam.GetAccessKeyLastUsedInput, opts ...func(*awsiam.Options)) (*awsiam.GetAccessKeyLastUsedOutput, error)
	ListAccessKeys(ctx context.Context, in *awsiam.ListAccessKeysInput, opts ...func(*awsiam.Options)) (*awsiam.ListAccessKeysOutput, error)
	UpdateAccessKey(ctx context.Context, in *awsiam.UpdateAccessKeyInput, opts ...func(*awsiam.Options)) (*awsiam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, in *awsiam.DeleteAccessKeyInput, opts ...func(*awsiam.Options)) (*awsiam.DeleteAccessKeyOutput, error)

	GetUserPolicy(ctx context.Context, in *awsiam.GetUserPolicyInput, opts ...func(*awsiam.Options)) (*awsiam.GetUserPolicyOutput, error)
	PutUserPolicy(ctx context.Context, in *awsiam.PutUserPolicyInput, opts ...func(*awsiam.Options)) (*awsiam.PutUserPolicyOutput, error)
	DeleteUserPolicy(ctx context.Context, in *awsiam.DeleteUserPolicyInput, opts ...func(*awsiam.Options)) (*awsiam.DeleteUserPolicyOutput, error)
	GetRolePolicy(ctx context.Context, in *awsiam.GetRolePolicyInput, opts ...func(*awsiam.Options)) (*awsiam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *awsiam.PutRolePolicyInput, opts ...func(*awsiam.Options)) (*awsiam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *awsiam.DeleteRolePolicyInput, opts ...func(*awsiam.Options)) (*awsiam.DeleteRolePolicyOutput, error)

	GetLoginProfile(ctx context.Context, in *awsiam.GetLoginProfileInput, opts ...func(*awsiam.Options)) (*awsiam.GetLoginProfileOutput, error)
	DeleteLoginProfile(ctx context.Context, in *awsiam.DeleteLoginProfileInput, opts ...func(*awsiam.Options)) (*awsiam.DeleteLoginProfileOutput, error)
}

var _ API = (*awsiam.Client)(nil)

// client builds the IAM client for the call's target.
func client(ctx context.Context, id string, call action.Call) (API, error) {
	cfg, err := call.AWSConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return awsiam.NewFromConfig(cfg), nil
}

// notFound reports whether err is IAM's NoSuchEntity.
func notFound(err error) bool { return action.ErrorCode(err) == "NoSuchEntity" }

// principal is the IAM user or role a policy action works on.
type principal struct {
	kind string // "user" or "role"
	name string
}

// The params that name a principal, shared by the policy actions.
var principalParams = []action.Param{
	{Name: "user", Type: action.IAMName, Target: action.TargetUser, Doc: "the IAM user to act on; give user or role, not both"},
	{Name: "role", Type: action.IAMName, Target: action.TargetRole, Doc: "the IAM role to act on; give user or role, not both"},
}

// principalOf reads the user or role param: exactly one must be given.
func principalOf(id string, params action.Values) (principal, error) {
	user, role := params.Str("user"), params.Str("role")
	switch {
	case user != "" && role != "":
		return principal{}, action.Mark(action.Permanent, fmt.Errorf("%s: give user or role, not both (user %q, role %q)", id, user, role))
	case user != "":
		return principal{"user", user}, nil
	case role != "":
		return principal{"role", role}, nil
	}
	return principal{}, action.Mark(action.Permanent, fmt.Errorf("%s: parameter user or role: required", id))
}

func (p principal) String() string { return p.kind + " " + p.name }

// arn is the principal's ARN when the account is known, else "user/name".
func (p principal) arn(account string) string {
	if account == "" {
		return p.kind + "/" + p.name
	}
	return "arn:aws:iam::" + account + ":" + p.kind + "/" + p.name
}

// op is the IAM action name of an inline-policy verb on p: "iam:PutUserPolicy".
func (p principal) op(verb string) string {
	if p.kind == "role" {
		return "iam:" + verb + "RolePolicy"
	}
	return "iam:" + verb + "UserPolicy"
}

// inlineIAM lists the IAM actions of the inline-policy verbs, users and roles.
func inlineIAM(verbs ...string) []string {
	var out []string
	for _, v := range verbs {
		out = append(out, "iam:"+v+"RolePolicy", "iam:"+v+"UserPolicy")
	}
	return out
}

// getInline returns the decoded document of p's inline policy name, and
// false when there is none.
func getInline(ctx context.Context, api API, p principal, name string) (string, bool, error) {
	var enc string
	var err error
	if p.kind == "role" {
		var out *awsiam.GetRolePolicyOutput
		out, err = api.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: &p.name, PolicyName: &name})
		if err == nil {
			enc = aws.ToString(out.PolicyDocument)
		}
	} else {
		var out *awsiam.GetUserPolicyOutput
		out, err = api.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: &p.name, PolicyName: &name})
		if err == nil {
			enc = aws.ToString(out.PolicyDocument)
		}
	}
	if notFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	// IAM returns policy documents URL-encoded (RFC 3986).
	doc, err := url.QueryUnescape(enc)
	if err != nil {
		return "", false, fmt.Errorf("policy %s of %s is not URL-encoded: %w", name, p, err)
	}
	return doc, true, nil
}

func putInline(ctx context.Context, api API, p principal, name, doc string) error {
	if p.kind == "role" {
		_, err := api.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: &p.name, PolicyName: &name, PolicyDocument: &doc})
		return err
	}
	_, err := api.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: &p.name, PolicyName: &name, PolicyDocument: &doc})
	return err
}

// deleteInline deletes p's inline policy name; a policy already gone is
// not an error.
func deleteInline(ctx context.Context, api API, p principal, name string) error {
	var err error
	if p.kind == "role" {
		_, err = api.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: &p.name, PolicyName: &name})
	} else {
		_, err = api.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: &p.name, PolicyName: &name})
	}
	if notFound(err) {
		return nil
	}
	return err
}

// sameJSON reports whether two JSON documents hold the same value,
// whatever their spacing and key order.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// timeText formats a time for outputs: RFC 3339 in UTC, "" for none.
func timeText(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
