package ec2_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/ec2"
	"github.com/firebreak-sec/firebreak/internal/action/iam"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// revokePolicy returns the revoke policy of role, "" when it has none.
func (f *fixture) revokePolicy(role string) string {
	f.t.Helper()
	c := awsiam.NewFromConfig(sandboxtest.Config(f.t, f.sb, f.clients.Creds))
	out, err := c.GetRolePolicy(context.Background(), &awsiam.GetRolePolicyInput{RoleName: &role, PolicyName: aws.String(iam.RevokePolicyName)})
	var api smithy.APIError
	if err != nil && errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity" {
		return ""
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return *out.PolicyDocument
}

func TestRotateInstanceCredentials(t *testing.T) {
	f := newFixture(t)
	web1 := f.instance("web-1")
	call := f.call("inc-1", action.Values{"instance_id": action.StringValue(web1.ID), "restart": action.BoolValue(true)})
	a := ec2.RotateInstanceCredentials{}

	m := f.mark()
	if _, err := a.Check(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Fatalf("Check wrote %v", got)
	}
	before := f.associations(web1.ID)
	out, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if out.Str("role") != "web-app" || out.Str("cutoff") == "" || !out.Bool("restarted") {
		t.Errorf("outputs %v; want role web-app, a cutoff, restarted", out)
	}
	if f.revokePolicy("web-app") == "" {
		t.Error("web-app has no revoke policy: its stolen sessions still work")
	}
	after := f.associations(web1.ID)
	if len(after) != 1 || len(before) != 1 || after[0] == before[0] || out.Str("association_id") != after[0] {
		t.Errorf("associations %v then %v, output %s; want one, replaced", before, after, out.Str("association_id"))
	}

	// A retry changes nothing more.
	m = f.mark()
	again, err := a.Do(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writesSince(m); len(got) != 0 {
		t.Errorf("retry wrote %v", got)
	}
	if again.Str("cutoff") != out.Str("cutoff") {
		t.Errorf("retry moved the cutoff %s → %s", out.Str("cutoff"), again.Str("cutoff"))
	}

	if err := a.Revert(context.Background(), call, out); err != nil {
		t.Fatal(err)
	}
	if doc := f.revokePolicy("web-app"); doc != "" {
		t.Errorf("revoke policy left after revert: %s", doc)
	}

	// The bastion has no profile: nothing to rotate, nothing written.
	bastion := f.instance("bastion")
	m = f.mark()
	none, err := a.Do(context.Background(), f.call("inc-1", action.Values{"instance_id": action.StringValue(bastion.ID), "restart": action.BoolValue(false)}))
	if err != nil {
		t.Fatal(err)
	}
	if none.Str("role") != "" || len(f.writesSince(m)) != 0 {
		t.Errorf("bastion: outputs %v, writes %v", none, f.writesSince(m))
	}
}

// associations lists the ids of the instance's active profile associations.
func (f *fixture) associations(id string) []string {
	f.t.Helper()
	c := awsec2.NewFromConfig(sandboxtest.Config(f.t, f.sb, f.clients.Creds, sandbox.WithRegion(region)))
	out, err := c.DescribeIamInstanceProfileAssociations(context.Background(), &awsec2.DescribeIamInstanceProfileAssociationsInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: []string{id}}, {Name: aws.String("state"), Values: []string{"associated"}},
	}})
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, a := range out.IamInstanceProfileAssociations {
		ids = append(ids, aws.ToString(a.AssociationId))
	}
	return ids
}
