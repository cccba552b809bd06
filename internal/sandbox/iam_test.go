package sandbox_test

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

const prod = "111111111111"

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

// newIAM returns a sandbox and an IAM client for its administrator.
func newIAM(t *testing.T) (*sandbox.Sandbox, *iam.Client) {
	t.Helper()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	return sb, iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
}

func TestIAMErrors(t *testing.T) {
	ctx := context.Background()
	_, c := newIAM(t)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"GetUser unknown", func() error { _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); return err }, "NoSuchEntity"},
		{"CreateUser duplicate", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana")})
			return err
		}, "EntityAlreadyExists"},
		{"CreateUser bad name", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("a b")})
			return err
		}, "ValidationError"},
		{"DeleteUser with keys", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dana")})
			return err
		}, "DeleteConflict"},
		{"third access key", func() error {
			if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci-deploy")}); err != nil {
				return err
			}
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci-deploy")})
			return err
		}, "LimitExceeded"},
		{"UpdateAccessKey unknown key", func() error {
			_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("dana"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA"), Status: iamtypes.StatusTypeInactive})
			return err
		}, "NoSuchEntity"},
		{"DeleteAccessKey unknown key", func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("dana"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA")})
			return err
		}, "NoSuchEntity"},
		{"PutUserPolicy malformed", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("p"), PolicyDocument: aws.String("{not json")})
			return err
		}, "MalformedPolicyDocument"},
		{"GetUserPolicy unknown", func() error {
			_, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"DeleteRolePolicy unknown", func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("web-app"), PolicyName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"AttachUserPolicy unknown policy", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("dana"), PolicyArn: aws.String("arn:aws:iam::111111111111:policy/nope")})
			return err
		}, "NoSuchEntity"},
		{"DetachUserPolicy not attached", func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("dana"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSDenyAll")})
			return err
		}, "NoSuchEntity"},
		{"CreatePolicy duplicate", func() error {
			if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dup"), PolicyDocument: aws.String(doc)}); err != nil {
				return err
			}
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("dup"), PolicyDocument: aws.String(doc)})
			return err
		}, "EntityAlreadyExists"},
		{"GetPolicyVersion unknown version", func() error {
			_, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), VersionId: aws.String("v9")})
			return err
		}, "NoSuchEntity"},
		{"CreateLoginProfile twice", func() error {
			_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dana"), Password: aws.String("Sup3r-secret!")})
			return err
		}, "EntityAlreadyExists"},
		{"GetLoginProfile none", func() error {
			_, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("ci-deploy")})
			return err
		}, "NoSuchEntity"},
		{"DeleteLoginProfile none", func() error {
			_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("ci-deploy")})
			return err
		}, "NoSuchEntity"},
		{"EnableMFADevice unknown device", func() error {
			_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("dana"), SerialNumber: aws.String("arn:aws:iam::111111111111:mfa/x"), AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
			return err
		}, "NoSuchEntity"},
		{"CreateGroup duplicate", func() error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("developers")})
			return err
		}, "EntityAlreadyExists"},
		{"AddUserToGroup unknown group", func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("dana")})
			return err
		}, "NoSuchEntity"},
		{"CreateRole duplicate", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web-app"), AssumeRolePolicyDocument: aws.String(trust)})
			return err
		}, "EntityAlreadyExists"},
		{"CreateRole malformed trust", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Maybe"}]}`)})
			return err
		}, "MalformedPolicyDocument"},
		{"DeleteRole in instance profile", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web-app")})
			return err
		}, "DeleteConflict"},
		{"GetRole unknown", func() error { _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")}); return err }, "NoSuchEntity"},
		{"CreateInstanceProfile duplicate", func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-app")})
			return err
		}, "EntityAlreadyExists"},
		{"AddRoleToInstanceProfile full", func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-app"), RoleName: aws.String("FirebreakResponder")})
			return err
		}, "LimitExceeded"},
		{"GetInstanceProfile unknown", func() error {
			_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")})
			return err
		}, "NoSuchEntity"},
		{"ListUsers bad marker", func() error {
			_, err := c.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("zz")})
			return err
		}, "InvalidInput"},
		{"ListUserTags unknown user", func() error {
			_, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.want {
				t.Errorf("error code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIAMUsersKeysAndPolicies(t *testing.T) {
	ctx := context.Background()
	_, c := newIAM(t)

	// Users, tags, pagination.
	for _, n := range []string{"u1", "u2", "u3", "u4"} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n), Path: aws.String("/test/"),
			Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("t-" + n)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{PathPrefix: aws.String("/test/"), MaxItems: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if diff := cmp.Diff(names, []string{"u1", "u2", "u3", "u4"}); diff != "" || pages != 2 {
		t.Errorf("ListUsers pages=%d (want 2), names (-got +want):\n%s", pages, diff)
	}
	u, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(u.User.Arn), "arn:aws:iam::111111111111:user/test/u1"; got != want {
		t.Errorf("user arn = %q, want %q", got, want)
	}
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u1"), Tags: []iamtypes.Tag{{Key: aws.String("owner"), Value: aws.String("a@b")}, {Key: aws.String("team"), Value: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	gotTags := map[string]string{}
	for _, tg := range tags.Tags {
		gotTags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if diff := cmp.Diff(gotTags, map[string]string{"team": "x", "owner": "a@b"}); diff != "" {
		t.Errorf("tags (-got +want):\n%s", diff)
	}

	// Access keys.
	k1, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(k1.AccessKey.AccessKeyId)
	if len(id) != 20 || id[:4] != "AKIA" || len(aws.ToString(k1.AccessKey.SecretAccessKey)) != 40 {
		t.Errorf("key %q secret length %d: not AWS-shaped", id, len(aws.ToString(k1.AccessKey.SecretAccessKey)))
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("u1"), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Errorf("ListAccessKeys = %+v, want one Inactive key", keys.AccessKeyMetadata)
	}
	lu, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(lu.UserName) != "u1" || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "N/A" || lu.AccessKeyLastUsed.LastUsedDate != nil {
		t.Errorf("never-used key last used = %+v", lu.AccessKeyLastUsed)
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("u1"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}

	// Inline policies, user and role.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	for _, name := range []string{"b", "a"} {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u1"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lp.PolicyNames, []string{"a", "b"}); diff != "" {
		t.Errorf("ListUserPolicies (-got +want):\n%s", diff)
	}
	gp, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("u1"), PolicyName: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); got != doc {
		t.Errorf("GetUserPolicy document (URL-decoded) = %s, want %s", got, doc)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("u1"), PolicyName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web-app"), PolicyName: aws.String("deny"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	rp, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("web-app")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rp.PolicyNames, []string{"deny", "read-assets"}); diff != "" {
		t.Errorf("ListRolePolicies (-got +want):\n%s", diff)
	}
	grp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web-app"), PolicyName: aws.String("deny")})
	if err != nil || aws.ToString(grp.RoleName) != "web-app" {
		t.Errorf("GetRolePolicy = %+v, %v", grp, err)
	}

	// Managed policies.
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(cp.Policy.Arn)
	if arn != "arn:aws:iam::111111111111:policy/mine" {
		t.Errorf("policy arn = %s", arn)
	}
	for _, pa := range []string{arn, "arn:aws:iam::aws:policy/AWSDenyAll"} {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String(pa)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web-app"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	au, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("u2")})
	if err != nil {
		t.Fatal(err)
	}
	var attached []string
	for _, a := range au.AttachedPolicies {
		attached = append(attached, aws.ToString(a.PolicyName))
	}
	if diff := cmp.Diff(attached, []string{"mine", "AWSDenyAll"}); diff != "" {
		t.Errorf("ListAttachedUserPolicies (-got +want):\n%s", diff)
	}
	if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	ar, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web-app")})
	if err != nil || len(ar.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedRolePolicies = %+v, %v", ar, err)
	}
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("web-app"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	gpol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToString(gpol.Policy.DefaultVersionId) != "v1" {
		t.Errorf("GetPolicy = %+v, %v", gpol, err)
	}
	gv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.QueryUnescape(aws.ToString(gv.PolicyVersion.Document)); got != doc {
		t.Errorf("policy version document = %s", got)
	}
	local, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil || len(local.Policies) != 1 || aws.ToString(local.Policies[0].PolicyName) != "mine" {
		t.Errorf("ListPolicies Local = %+v, %v", local, err)
	}

	// Login profiles.
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u3"), Password: aws.String("Sup3r-secret!")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("u3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("u3")}); err != nil {
		t.Fatal(err)
	}

	// MFA.
	mfa, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("u3")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("u3"), SerialNumber: mfa.VirtualMFADevice.SerialNumber, AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("234567")}); err != nil {
		t.Fatal(err)
	}
	devs, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("u3")})
	if err != nil || len(devs.MFADevices) != 1 || aws.ToString(devs.MFADevices[0].SerialNumber) != "arn:aws:iam::111111111111:mfa/u3" {
		t.Errorf("ListMFADevices = %+v, %v", devs, err)
	}

	// Groups.
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("u4")}); err != nil {
		t.Fatal(err)
	}
	gs, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("u4")})
	if err != nil || len(gs.Groups) != 1 || aws.ToString(gs.Groups[0].GroupName) != "ops" {
		t.Errorf("ListGroupsForUser = %+v, %v", gs, err)
	}

	// Roles and instance profiles.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	cr, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("batch"), AssumeRolePolicyDocument: aws.String(trust), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.QueryUnescape(aws.ToString(cr.Role.AssumeRolePolicyDocument)); got != trust {
		t.Errorf("trust = %s", got)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("batch"), Tags: []iamtypes.Tag{{Key: aws.String("k2"), Value: aws.String("v2")}}}); err != nil {
		t.Fatal(err)
	}
	rt, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("batch")})
	if err != nil || len(rt.Tags) != 2 {
		t.Errorf("ListRoleTags = %+v, %v", rt, err)
	}
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("batch")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("batch"), RoleName: aws.String("batch")}); err != nil {
		t.Fatal(err)
	}
	ip, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("batch")})
	if err != nil || len(ip.InstanceProfile.Roles) != 1 || aws.ToString(ip.InstanceProfile.Roles[0].RoleName) != "batch" {
		t.Errorf("GetInstanceProfile = %+v, %v", ip, err)
	}
	ips, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ipNames []string
	for _, p := range ips.InstanceProfiles {
		ipNames = append(ipNames, aws.ToString(p.InstanceProfileName))
	}
	if diff := cmp.Diff(ipNames, []string{"batch", "web-app"}); diff != "" {
		t.Errorf("ListInstanceProfiles (-got +want):\n%s", diff)
	}
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var roleNames []string
	for _, r := range roles.Roles {
		roleNames = append(roleNames, aws.ToString(r.RoleName))
	}
	sort.Strings(roleNames)
	if diff := cmp.Diff(roleNames, []string{"FirebreakResponder", "batch", "web-app"}); diff != "" {
		t.Errorf("ListRoles (-got +want):\n%s", diff)
	}
	// A role with no policies and no profile can be deleted.
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("temp"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("temp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("temp")}); errorCode(err) != "NoSuchEntity" {
		t.Errorf("deleted role: %v", err)
	}
	// A user with nothing attached can be deleted.
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u1")}); err != nil {
		// u1 still has inline policy b
		if errorCode(err) != "DeleteConflict" {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u3")}); errorCode(err) != "DeleteConflict" {
		t.Errorf("DeleteUser with MFA device: %v, want DeleteConflict", err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
}

func TestAccessKeyLastUsedIsUpdatedByCalls(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1, Clock: func() time.Time { return now }})
	c := iam.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	dana := sandboxtest.User(t, sb, prod, "dana")
	// dana lists users from eu-west-1.
	if _, err := iam.NewFromConfig(sandboxtest.Config(t, sb, dana, sandbox.WithRegion("eu-west-1"))).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(dana.AccessKeyID)})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{aws.ToString(out.AccessKeyLastUsed.ServiceName), aws.ToString(out.AccessKeyLastUsed.Region), aws.ToTime(out.AccessKeyLastUsed.LastUsedDate).Format(time.RFC3339)}
	if diff := cmp.Diff(got, []string{"iam", "eu-west-1", "2026-03-01T12:00:00Z"}); diff != "" {
		t.Errorf("last used (-got +want):\n%s", diff)
	}
}
