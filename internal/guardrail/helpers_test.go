package guardrail_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

const (
	hub    = "111111111111"
	member = "222222222222"
	region = "us-east-1"
)

// world is a started sandbox seeded from testdata/world.yaml.
type world struct {
	sb *sandbox.Sandbox
}

func startWorld(t testing.TB) world {
	t.Helper()
	w, err := sandbox.LoadWorld("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{World: w, Seed: 7, NoLookupThrottle: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return world{sb: sb}
}

// groupID returns the id of the security group with the given Name tag.
func (w world) groupID(t testing.TB, name string) string {
	t.Helper()
	out, err := ec2.NewFromConfig(w.config(t, hub, "responder")).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("security group %s: found %d", name, len(out.SecurityGroups))
	}
	return aws.ToString(out.SecurityGroups[0].GroupId)
}

// config returns an SDK config for a user's first active key.
func (w world) config(t testing.TB, account, user string) aws.Config {
	t.Helper()
	creds, err := w.sb.UserCredentials(account, user)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := w.sb.AWSConfig(context.Background(), creds)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// responderClients is how Firebreak reaches the accounts in these tests:
// as the user responder in the hub, and through the role
// FirebreakResponder, assumed with real STS, in the member account.
type responderClients struct {
	w    world
	base aws.Config

	mu    sync.Mutex
	roles map[string]aws.Credentials
}

var _ action.Clients = (*responderClients)(nil)

func newResponderClients(t testing.TB, w world) *responderClients {
	return &responderClients{w: w, base: w.config(t, hub, "responder"), roles: map[string]aws.Credentials{}}
}

func (c *responderClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	cfg := c.base.Copy()
	cfg.Region = t.Region
	if t.Account == hub {
		return cfg, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	creds, ok := c.roles[t.Account]
	if !ok {
		out, err := sts.NewFromConfig(c.base).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::" + t.Account + ":role/FirebreakResponder"),
			RoleSessionName: aws.String("firebreak"),
		})
		if err != nil {
			return aws.Config{}, err
		}
		creds = aws.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
		c.roles[t.Account] = creds
	}
	cfg.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }))
	return cfg, nil
}

// selves identifies Firebreak in both accounts, with real STS calls.
func selves(t testing.TB, c *responderClients) []guardrail.Identity {
	t.Helper()
	var out []guardrail.Identity
	for _, acct := range []string{hub, member} {
		cfg, err := c.Config(context.Background(), action.Target{Account: acct, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		id, err := guardrail.Identify(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// The actions the tests ask about. Their metadata is what matters to the
// guardrail: risk, IAM calls and target params.
var (
	disableKey = action.Meta{
		ID: "aws.iam.disable_access_key", Summary: "Disable an access key", Risk: action.Reversible,
		Params: []action.Param{{Name: "access_key_id", Type: action.AccessKeyID, Required: true, Doc: "the key", Target: action.TargetAccessKey}},
		IAM:    []string{"iam:UpdateAccessKey"}, RevertIAM: []string{"iam:UpdateAccessKey"}, Idempotency: action.Idempotent,
	}
	deleteUser = action.Meta{
		ID: "aws.iam.delete_user", Summary: "Delete a user", Risk: action.Destructive,
		Params: []action.Param{{Name: "user_name", Type: action.IAMName, Required: true, Doc: "the user", Target: action.TargetUser}},
		IAM:    []string{"iam:DeleteUser"}, Idempotency: action.Idempotent,
	}
	quarantineRole = action.Meta{
		ID: "aws.iam.quarantine_role", Summary: "Deny everything to a role", Risk: action.Reversible,
		Params: []action.Param{{Name: "role_name", Type: action.IAMName, Required: true, Doc: "the role", Target: action.TargetRole}},
		IAM:    []string{"iam:PutRolePolicy"}, RevertIAM: []string{"iam:DeleteRolePolicy"}, Idempotency: action.Idempotent,
	}
	denyPrincipal = action.Meta{
		ID: "aws.iam.deny_principal", Summary: "Deny everything to a principal", Risk: action.Reversible,
		Params: []action.Param{{Name: "principal_arn", Type: action.ARN, Required: true, Doc: "the principal", Target: action.TargetPrincipalARN}},
		IAM:    []string{"iam:PutUserPolicy", "iam:PutRolePolicy"}, RevertIAM: []string{"iam:DeleteUserPolicy"}, Idempotency: action.Idempotent,
	}
	disableKeys = action.Meta{
		ID: "aws.iam.disable_access_keys", Summary: "Disable access keys", Risk: action.Reversible,
		Params: []action.Param{{Name: "access_key_ids", Type: action.StringList, Required: true, Doc: "the keys", Target: action.TargetAccessKey}},
		IAM:    []string{"iam:UpdateAccessKey"}, RevertIAM: []string{"iam:UpdateAccessKey"}, Idempotency: action.Idempotent,
	}
	isolateInstance = action.Meta{
		ID: "aws.ec2.isolate_instance", Summary: "Isolate an instance", Risk: action.Reversible,
		Params: []action.Param{{Name: "instance_id", Type: action.InstanceID, Required: true, Doc: "the instance", Target: action.TargetInstance}},
		IAM:    []string{"ec2:ModifyInstanceAttribute", "ec2:CreateSecurityGroup"}, RevertIAM: []string{"ec2:ModifyInstanceAttribute"}, Idempotency: action.Idempotent,
	}
	revokeInstanceRole = action.Meta{
		ID: "aws.iam.revoke_instance_role_sessions", Summary: "Revoke an instance role's sessions", Risk: action.Reversible,
		Params: []action.Param{{Name: "instance_id", Type: action.InstanceID, Required: true, Doc: "the instance", Target: action.TargetInstance}},
		IAM:    []string{"ec2:DescribeInstances", "iam:PutRolePolicy"}, RevertIAM: []string{"iam:DeleteRolePolicy"}, Idempotency: action.Idempotent,
	}
	blockBucket = action.Meta{
		ID: "aws.s3.block_public_access", Summary: "Block public access to a bucket", Risk: action.Reversible,
		Params: []action.Param{{Name: "bucket", Type: action.BucketName, Required: true, Doc: "the bucket", Target: action.TargetBucket}},
		IAM:    []string{"s3:PutBucketPublicAccessBlock"}, RevertIAM: []string{"s3:DeleteBucketPublicAccessBlock"}, Idempotency: action.Idempotent,
	}
	revokeGroup = action.Meta{
		ID: "aws.ec2.revoke_ingress", Summary: "Revoke a security group's ingress", Risk: action.Reversible,
		Params: []action.Param{{Name: "group_id", Type: action.String, Required: true, Doc: "the group", Target: action.TargetSecurityGroup}},
		IAM:    []string{"ec2:RevokeSecurityGroupIngress"}, RevertIAM: []string{"ec2:AuthorizeSecurityGroupIngress"}, Idempotency: action.Idempotent,
	}
	blockIP = action.Meta{
		ID: "aws.ec2.block_ip", Summary: "Block an address", Risk: action.Reversible,
		Params: []action.Param{{Name: "ip", Type: action.IP, Required: true, Doc: "the address", Target: action.TargetIP}},
		IAM:    []string{"ec2:CreateNetworkAclEntry"}, RevertIAM: []string{"ec2:DeleteNetworkAclEntry"}, Idempotency: action.Idempotent,
	}
	blockAccountPublicAccess = action.Meta{
		ID: "aws.s3.block_account_public_access", Summary: "Block public access account-wide", Risk: action.Reversible,
		Params: []action.Param{{Name: "account_id", Type: action.AccountID, Required: true, Doc: "the account", Target: action.TargetAccount}},
		IAM:    []string{"s3:PutAccountPublicAccessBlock"}, RevertIAM: []string{"s3:DeleteAccountPublicAccessBlock"}, Idempotency: action.Idempotent,
	}
	readUser = action.Meta{
		ID: "aws.iam.describe_user", Summary: "Describe a user", Risk: action.ReadOnly,
		Params: []action.Param{{Name: "user_name", Type: action.IAMName, Required: true, Doc: "the user", Target: action.TargetUser}},
		IAM:    []string{"iam:GetUser"}, Idempotency: action.Idempotent,
	}
	logLine = action.Meta{ID: "core.log", Summary: "Log", Risk: action.ReadOnly, Idempotency: action.NotIdempotent}
)

// step builds a step in the hub account.
func step(m action.Meta, params ...string) guardrail.Step {
	vs := action.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		vs[params[i]] = action.StringValue(params[i+1])
	}
	return guardrail.Step{IncidentID: "", Playbook: "exposed-key", Action: m, Params: vs, Target: action.Target{Account: hub, Region: region}}
}

func in(s guardrail.Step, account string) guardrail.Step { s.Target.Account = account; return s }

// keyOf returns a user's first access key id.
func (w world) keyOf(t testing.TB, account, user string) string {
	t.Helper()
	for _, k := range w.sb.Keys() {
		if k.Account == account && k.UserName == user {
			return k.AccessKeyID
		}
	}
	t.Fatalf("no key for %s in %s", user, account)
	return ""
}

// keysOf returns all of a user's access key ids.
func (w world) keysOf(account, user string) []string {
	var out []string
	for _, k := range w.sb.Keys() {
		if k.Account == account && k.UserName == user {
			out = append(out, k.AccessKeyID)
		}
	}
	return out
}
