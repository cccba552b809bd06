package guardrail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
)

// TestCatalogNeverTargetsSelf asks about every registered action that
// changes AWS, with each of its target params set to Firebreak's own user,
// key, role or host instance: every one must be refused as self. Read-only
// actions must pass.
func TestCatalogNeverTargetsSelf(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	g, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: selves(t, c), Clients: c})
	if err != nil {
		t.Fatal(err)
	}
	signing, _ := c.base.Credentials.Retrieve(context.Background())
	own := map[action.TargetKind]string{
		action.TargetUser:         "responder",
		action.TargetRole:         "FirebreakResponder",
		action.TargetAccessKey:    signing.AccessKeyID,
		action.TargetPrincipalARN: "arn:aws:iam::111111111111:user/responder",
		action.TargetInstance:     "i-0a0000000000000f1",
	}
	checked := 0
	for _, a := range catalog.Actions() {
		m := a.Meta()
		if !strings.HasPrefix(m.ID, "aws.") {
			continue
		}
		if m.Risk == action.ReadOnly {
			d := g.Check(context.Background(), guardrail.Step{Action: m, Params: action.Values{}, Target: action.Target{Account: hub, Region: region}})
			if d.Verdict != guardrail.Allow {
				t.Errorf("%s is read-only but got %s (%s)", m.ID, d.Verdict, d.Reason)
			}
			continue
		}
		for _, p := range m.Targets() {
			v, ok := own[p.Target]
			if !ok {
				continue
			}
			val := action.StringValue(v)
			if p.Type == action.StringList {
				val = action.ListValue([]string{v})
			}
			d := g.Check(context.Background(), guardrail.Step{Action: m, Params: action.Values{p.Name: val}, Target: action.Target{Account: hub, Region: region}})
			if diff := cmp.Diff(outcome{d.Verdict, d.Rule}, outcome{guardrail.Deny, guardrail.RuleSelf}); diff != "" {
				t.Errorf("%s with %s=%s (-got +want):\n%s\nreason: %s", m.ID, p.Name, v, diff, d.Reason)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("the catalog has no changing AWS action with a target; nothing was checked")
	}
	t.Logf("%d action/target pairs refused as self", checked)
}
