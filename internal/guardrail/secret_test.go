package guardrail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// TestReasonsCarryNoSecrets checks every kind of decision, failures
// included, for the secret parts of the credentials Firebreak used.
func TestReasonsCarryNoSecrets(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	self := selves(t, c)
	g, err := guardrail.New(protectedConfig(), guardrail.Options{Self: self, Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var secrets []string
	base, _ := c.base.Credentials.Retrieve(ctx)
	secrets = append(secrets, base.SecretAccessKey)
	cfg, err := c.Config(ctx, action.Target{Account: member, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	role, _ := cfg.Credentials.Retrieve(ctx)
	secrets = append(secrets, role.SecretAccessKey, role.SessionToken)

	steps := []guardrail.Step{
		step(disableKey, "access_key_id", base.AccessKeyID),
		step(disableKey, "access_key_id", w.keyOf(t, hub, "dana")),
		in(step(quarantineRole, "role_name", "OrganizationAccountAccessRole"), member),
		in(step(deleteUser, "user_name", "nobody"), member),
		step(disableKey, "access_key_id", "AKIAZZZZZZZZZZZZZZZZ"),
		step(isolateInstance, "instance_id", "i-0a0000000000000f1"),
	}
	var reasons []string
	for _, s := range steps {
		reasons = append(reasons, g.Check(ctx, s).Reason)
	}
	if err := w.sb.SetFaults(1, sandbox.Fault{Service: "*", ErrorRatio: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.sb.SetFaults(1) })
	fresh, err := guardrail.New(protectedConfig(), guardrail.Options{Self: self, Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		reasons = append(reasons, fresh.Check(ctx, s).Reason)
	}
	for _, r := range reasons {
		for _, s := range secrets {
			if s != "" && strings.Contains(r, s) {
				t.Errorf("reason carries a secret: %s", r)
			}
		}
	}
	if len(reasons) != 2*len(steps) {
		t.Fatalf("%d reasons", len(reasons))
	}
}
