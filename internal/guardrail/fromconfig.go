package guardrail

import (
	"fmt"

	"github.com/firebreak-sec/firebreak/internal/config"
)

// FromConfig builds the guardrail Config from firebreak.yaml: the
// guardrails section, playbooks.dry_run and aws.regions. Firebreak's own
// role names from aws.accounts (responder and investigator) are protected
// in every account, before Identify has even run.
func FromConfig(c *config.Config) (Config, error) {
	g := c.Guardrails
	out := Config{
		DryRun:  c.Playbooks.DryRun,
		Regions: append([]string(nil), c.AWS.Regions...),
		Accounts: AccountRules{
			Allow: append([]string(nil), g.Accounts.Allow...),
			Deny:  append([]string(nil), g.Accounts.Deny...),
		},
		Protected: Protected{
			Principals: append([]string(nil), g.ProtectedPrincipals...),
			Resources:  append([]string(nil), g.ProtectedResources...),
		},
	}
	own := map[string]bool{}
	for _, a := range c.AWS.Accounts {
		for _, role := range []string{a.ResponderRole, a.RoleName} {
			if role != "" && !own[role] {
				own[role] = true
				out.Protected.Principals = append(out.Protected.Principals, "arn:aws:iam::*:role/"+role)
			}
		}
	}
	for _, t := range g.ProtectedTags {
		v := t.Value
		if v == "" {
			v = "*"
		}
		out.Protected.Tags = append(out.Protected.Tags, Tag{Key: t.Key, Value: v})
	}
	names := map[string]int{}
	for i, b := range g.Budgets {
		name := fmt.Sprintf("%s per %s", b.Action, b.Window.Std())
		if names[name]++; names[name] > 1 {
			name = fmt.Sprintf("%s #%d", name, names[name])
		}
		nb := Budget{Name: name, Actions: []string{b.Action}, Window: b.Window.Std(), Max: int64(b.Count), Percent: b.Percent}
		if b.Percent > 0 {
			nb.Of = Base{Kind: BaseTarget}
		}
		switch b.Over {
		case "", "approve":
			nb.OnExceed = NeedsApproval
		case "deny":
			nb.OnExceed = Deny
		default:
			return Config{}, fmt.Errorf("guardrails.budgets[%d].over: %q is not approve or deny", i, b.Over)
		}
		out.Budgets = append(out.Budgets, nb)
	}
	if err := out.Validate(); err != nil {
		return Config{}, err
	}
	return out, nil
}
