package ec2

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/iam"
)

// RotateInstanceCredentials revokes the sessions of an instance's role
// and makes the instance fetch new credentials
// (aws.iam.rotate_instance_credentials).
type RotateInstanceCredentials struct {
	// Now is the clock of the revocation cutoff; nil means time.Now.
	Now func() time.Time
}

var (
	_ action.Action   = RotateInstanceCredentials{}
	_ action.Checker  = RotateInstanceCredentials{}
	_ action.Reverter = RotateInstanceCredentials{}
)

const rotateID = "aws.iam.rotate_instance_credentials"

// RotatedTag is the instance tag that holds the cutoff of the revocation
// its current profile association follows.
const RotatedTag = "firebreak:credentials-rotated"

// tagOf returns the value of resource id's tag key, "" when it has none.
func tagOf(ctx context.Context, api API, id, key string) (string, error) {
	out, err := api.DescribeTags(ctx, &awsec2.DescribeTagsInput{Filters: []types.Filter{
		{Name: aws.String("resource-id"), Values: []string{id}},
		{Name: aws.String("key"), Values: []string{key}},
	}})
	if err != nil {
		return "", fmt.Errorf("read tag %s of %s: %w", key, id, err)
	}
	for _, t := range out.Tags {
		return aws.ToString(t.Value), nil
	}
	return "", nil
}

// Meta describes aws.iam.rotate_instance_credentials.
func (RotateInstanceCredentials) Meta() action.Meta {
	return action.Meta{
		ID:      rotateID,
		Summary: "Revoke an instance role's sessions and hand the instance fresh credentials",
		Doc: "Finds the instance's profile and its role, revokes the role's sessions issued before now as " +
			"aws.iam.revoke_sessions does (inline policy " + iam.RevokePolicyName + " on aws:TokenIssueTime: stolen " +
			"instance credentials stop working everywhere), then replaces the instance's profile association with the " +
			"same profile so that the instance metadata service hands out credentials issued after the cutoff, and reboots " +
			"the instance when restart is set (for software that caches credentials). The instance's tag " + RotatedTag +
			" records the cutoff its association follows, so a retry finds the policy and the tag and changes nothing. An instance without a profile has nothing to rotate. " +
			"Revert deletes the revoke policy.",
		Risk: action.Reversible,
		Params: []action.Param{
			instanceParam,
			{Name: "restart", Type: action.Bool, Default: action.BoolValue(false), Doc: "reboot the instance after the new association"},
		},
		Outputs: []action.Field{
			{Name: "role", Type: action.String, Doc: "the instance profile's role; empty when the instance has no profile"},
			{Name: "profile_arn", Type: action.String, Doc: "the instance profile"},
			{Name: "association_id", Type: action.String, Doc: "the profile association after the rotation"},
			{Name: "cutoff", Type: action.String, Doc: "the role's sessions issued before this time (RFC 3339 UTC) are refused"},
			{Name: "restarted", Type: action.Bool, Doc: "whether this run rebooted the instance"},
		},
		IAM: []string{
			"ec2:CreateTags", "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeTags", "ec2:RebootInstances", "ec2:ReplaceIamInstanceProfileAssociation",
			"iam:GetInstanceProfile", "iam:GetRolePolicy", "iam:PassRole", "iam:PutRolePolicy",
		},
		RevertIAM:   []string{"iam:DeleteRolePolicy"},
		Idempotency: action.Idempotent,
	}
}

// IAMAPI is the part of the IAM client the rotation calls itself.
type IAMAPI interface {
	GetInstanceProfile(ctx context.Context, in *awsiam.GetInstanceProfileInput, opts ...func(*awsiam.Options)) (*awsiam.GetInstanceProfileOutput, error)
}

var _ IAMAPI = (*awsiam.Client)(nil)

// profileOf returns the instance's active association and its role; ok is
// false when the instance has no profile.
func profileOf(ctx context.Context, api API, iamAPI IAMAPI, id string) (assoc types.IamInstanceProfileAssociation, role string, ok bool, err error) {
	out, err := api.DescribeIamInstanceProfileAssociations(ctx, &awsec2.DescribeIamInstanceProfileAssociationsInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: []string{id}},
		{Name: aws.String("state"), Values: []string{"associated"}},
	}})
	if err != nil {
		return assoc, "", false, fmt.Errorf("profile association of %s: %w", id, err)
	}
	if len(out.IamInstanceProfileAssociations) == 0 {
		return assoc, "", false, nil
	}
	assoc = out.IamInstanceProfileAssociations[0]
	arn := aws.ToString(assoc.IamInstanceProfile.Arn)
	name := arn[strings.LastIndex(arn, "/")+1:]
	ip, err := iamAPI.GetInstanceProfile(ctx, &awsiam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return assoc, "", false, fmt.Errorf("instance profile %s of %s: %w", name, id, err)
	}
	if len(ip.InstanceProfile.Roles) == 0 {
		return assoc, "", false, nil
	}
	return assoc, aws.ToString(ip.InstanceProfile.Roles[0].RoleName), true, nil
}

func (a RotateInstanceCredentials) clients(ctx context.Context, call action.Call) (API, IAMAPI, error) {
	api, err := client(ctx, rotateID, call)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := call.Clients.Config(ctx, call.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: aws config for account %q: %w", rotateID, call.Target.Account, err)
	}
	return api, awsiam.NewFromConfig(cfg), nil
}

// revokeCall is the call of aws.iam.revoke_sessions on role, with the same
// key, target and logger.
func revokeCall(call action.Call, role string) action.Call {
	c := call
	c.Params = action.Values{"role": action.StringValue(role)}
	return c
}

// Check reports the calls Do would make, changing nothing.
func (a RotateInstanceCredentials) Check(ctx context.Context, call action.Call) ([]action.PlannedCall, error) {
	id := call.Params.Str("instance_id")
	api, iamAPI, err := a.clients(ctx, call)
	if err != nil {
		return nil, err
	}
	calls := []action.PlannedCall{{Operation: "ec2:DescribeIamInstanceProfileAssociations", Resource: id}}
	assoc, role, ok, err := profileOf(ctx, api, iamAPI, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rotateID, err)
	}
	if !ok {
		return calls, nil
	}
	calls = append(calls, action.PlannedCall{Operation: "iam:GetInstanceProfile", Resource: aws.ToString(assoc.IamInstanceProfile.Arn)})
	rc, err := iam.RevokeSessions{Now: a.Now}.Check(ctx, revokeCall(call, role))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rotateID, err)
	}
	calls = append(calls, rc...)
	calls = append(calls, action.PlannedCall{Operation: "ec2:ReplaceIamInstanceProfileAssociation", Resource: aws.ToString(assoc.AssociationId),
		Detail: "IamInstanceProfile=" + aws.ToString(assoc.IamInstanceProfile.Arn) + " (unless tag " + RotatedTag + " holds the cutoff)"})
	if call.Params.Bool("restart") {
		calls = append(calls, action.PlannedCall{Operation: "ec2:RebootInstances", Resource: id})
	}
	return calls, nil
}

// Do revokes the role's sessions and rotates the association.
func (a RotateInstanceCredentials) Do(ctx context.Context, call action.Call) (action.Values, error) {
	id := call.Params.Str("instance_id")
	out := action.Values{
		"role": action.StringValue(""), "profile_arn": action.StringValue(""), "association_id": action.StringValue(""),
		"cutoff": action.StringValue(""), "restarted": action.BoolValue(false),
	}
	api, iamAPI, err := a.clients(ctx, call)
	if err != nil {
		return nil, err
	}
	assoc, role, ok, err := profileOf(ctx, api, iamAPI, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rotateID, err)
	}
	if !ok {
		call.Log().InfoContext(ctx, "instance has no role: no credentials to rotate", "instance", id)
		return out, nil
	}
	arn := aws.ToString(assoc.IamInstanceProfile.Arn)
	out["role"], out["profile_arn"] = action.StringValue(role), action.StringValue(arn)
	out["association_id"] = action.StringValue(aws.ToString(assoc.AssociationId))
	revoked, err := iam.RevokeSessions{Now: a.Now}.Do(ctx, revokeCall(call, role))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rotateID, err)
	}
	out["cutoff"] = revoked["cutoff"]
	if call.DryRun {
		return out, nil
	}
	// The instance's tag says which revocation its association already
	// follows: a retry of the step finds its own cutoff there.
	done, err := tagOf(ctx, api, id, RotatedTag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rotateID, err)
	}
	if done == revoked.Str("cutoff") {
		return out, nil
	}
	rep, err := api.ReplaceIamInstanceProfileAssociation(ctx, &awsec2.ReplaceIamInstanceProfileAssociationInput{
		AssociationId: assoc.AssociationId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: aws.String(arn)},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: replace the profile association of %s: %w", rotateID, id, err)
	}
	out["association_id"] = action.StringValue(aws.ToString(rep.IamInstanceProfileAssociation.AssociationId))
	if _, err := api.CreateTags(ctx, &awsec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String(RotatedTag), Value: aws.String(revoked.Str("cutoff"))}}}); err != nil {
		return nil, fmt.Errorf("%s: record the rotation on %s: %w", rotateID, id, err)
	}
	call.Log().InfoContext(ctx, "instance credentials rotated", "instance", id, "role", role)
	if call.Params.Bool("restart") {
		if _, err := api.RebootInstances(ctx, &awsec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
			return nil, fmt.Errorf("%s: reboot %s: %w", rotateID, id, err)
		}
		out["restarted"] = action.BoolValue(true)
	}
	return out, nil
}

// Revert deletes the revoke policy from the role.
func (a RotateInstanceCredentials) Revert(ctx context.Context, call action.Call, done action.Values) error {
	role := done.Str("role")
	if role == "" {
		return nil
	}
	if err := (iam.RevokeSessions{Now: a.Now}).Revert(ctx, revokeCall(call, role), nil); err != nil {
		return fmt.Errorf("%s: revert: %w", rotateID, err)
	}
	return nil
}
