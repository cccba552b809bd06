package guardrail_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/guardrail"
)

func TestConfigValidate(t *testing.T) {
	ok := guardrail.Budget{Name: "b", Actions: []string{"aws.*"}, Window: time.Hour, Max: 1}
	with := func(f func(*guardrail.Budget)) guardrail.Config {
		b := ok
		f(&b)
		return guardrail.Config{Budgets: []guardrail.Budget{b}}
	}
	tests := []struct {
		name string
		cfg  guardrail.Config
		want []string // the error's lines
	}{
		{"zero config", guardrail.Config{}, nil},
		{"one budget", with(func(*guardrail.Budget) {}), nil},
		{"empty globs", guardrail.Config{DryRunPlaybooks: []string{""}, Accounts: guardrail.AccountRules{Allow: []string{" "}}, Protected: guardrail.Protected{Resources: []string{""}}},
			[]string{"guardrails.dry_run_playbooks[0]: empty pattern", "guardrails.accounts.allow[0]: empty pattern", "guardrails.protected.resources[0]: empty pattern"}},
		{"principal not an ARN", guardrail.Config{Protected: guardrail.Protected{Principals: []string{"break-glass-*"}}},
			[]string{`guardrails.protected.principals[0]: "break-glass-*" is not an ARN pattern (arn:aws:iam::*:user/name)`}},
		{"tag without key", guardrail.Config{Protected: guardrail.Protected{Tags: []guardrail.Tag{{Value: "x"}}}}, []string{"guardrails.protected.tags[0].key: required"}},
		{"invalid network", guardrail.Config{Protected: guardrail.Protected{Networks: []netip.Prefix{{}}}}, []string{"guardrails.protected.networks[0]: not a valid prefix"}},
		{"negative ttl", guardrail.Config{CacheTTL: -time.Second}, []string{"guardrails.cache_ttl: -1s is negative"}},
		{"budget without name, actions or limit", with(func(b *guardrail.Budget) { b.Name, b.Actions, b.Max = "", nil, 0 }),
			[]string{"guardrails.budgets[0].name: required", "guardrails.budgets[0].actions: at least one action ID glob is required", "guardrails.budgets[0]: sets neither max nor percent"}},
		{"short window", with(func(b *guardrail.Budget) { b.Window = time.Millisecond }), []string{"guardrails.budgets[0].window: must be at least 1s, got 1ms"}},
		{"percent without base", with(func(b *guardrail.Budget) { b.Percent = 10 }),
			[]string{`guardrails.budgets[0].of.kind: "": a percentage needs a base, instances, users or target`}},
		{"percent out of range", with(func(b *guardrail.Budget) { b.Percent = 150; b.Of.Kind = guardrail.BaseUsers }),
			[]string{"guardrails.budgets[0].percent: 150 is outside 0 to 100"}},
		{"tags on users", with(func(b *guardrail.Budget) {
			b.Percent, b.Of = 10, guardrail.Base{Kind: guardrail.BaseUsers, Tags: map[string]string{"a": "b"}}
		}), []string{"guardrails.budgets[0].of.tags: only instances can be filtered by tag"}},
		{"bad on_exceed", with(func(b *guardrail.Budget) { b.OnExceed = guardrail.Allow }), []string{`guardrails.budgets[0].on_exceed: "allow" is not needs_approval or deny`}},
		{"duplicate names", guardrail.Config{Budgets: []guardrail.Budget{ok, ok}}, []string{`guardrails.budgets[1].name: "b" is used by an earlier budget`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := tt.cfg.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Validate (-got +want):\n%s", diff)
			}
		})
	}
}
