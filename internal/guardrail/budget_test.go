package guardrail_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// ledgers are the real stores budgets are tested on: a SQLite file, and
// PostgreSQL when FIREBREAK_TEST_POSTGRES names a server.
var ledgers = []struct {
	name string
	open func(t *testing.T) ledgertest.Opener
}{
	{"sqlite", func(*testing.T) ledgertest.Opener { return ledgertest.SQLite() }},
	{"postgres", func(t *testing.T) ledgertest.Opener { return ledgertest.Postgres(t) }},
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newGuard(t *testing.T, w world, c *responderClients, store ledger.Store, clk *clock, budgets ...guardrail.Budget) *guardrail.Guard {
	t.Helper()
	cfg := protectedConfig()
	cfg.Budgets = budgets
	g, err := guardrail.New(cfg, guardrail.Options{Self: selves(t, c), Clients: c, Ledger: store, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestBudgets(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	dana := w.keyOf(t, hub, "dana")
	keys := step(disableKey, "access_key_id", dana)
	list := step(disableKeys)
	list.Params["access_key_ids"] = action.ListValue([]string{dana, dana})
	user := step(deleteUser, "user_name", "dana")
	memberUser := in(step(deleteUser, "user_name", "auditor"), member)
	isolate := step(isolateInstance, "instance_id", "i-0a0000000000000a3")

	type check struct {
		s       guardrail.Step
		advance time.Duration // move the clock first
	}
	tests := []struct {
		name    string
		budgets []guardrail.Budget
		checks  []check
		want    []outcome
		// wantUsed is the budgets table afterwards: budget/account=used.
		wantUsed []string
	}{
		{
			// Uses count for a window and at most a twelfth more: an hour
			// later they still count, an hour and five minutes later not.
			name:    "count per window, then approval, then a fresh window",
			budgets: []guardrail.Budget{{Name: "keys", Actions: []string{"aws.iam.disable_access_key*"}, Window: time.Hour, Max: 3}},
			checks:  []check{{s: keys}, {s: keys}, {s: keys}, {s: keys}, {s: keys, advance: time.Hour}, {s: keys, advance: 5 * time.Minute}},
			want: []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed},
				{guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.Allow, guardrail.RulePassed}},
			wantUsed: []string{"keys/111111111111=1", "keys/111111111111=3"},
		},
		{
			// A fixed hour would allow three at 10:58 and three more at
			// 11:02; the window slides, so the second three wait.
			name:    "no burst across the hour",
			budgets: []guardrail.Budget{{Name: "keys", Actions: []string{"aws.iam.disable_access_key*"}, Window: time.Hour, Max: 3}},
			checks: []check{{s: keys, advance: 58 * time.Minute}, {s: keys}, {s: keys}, {s: keys, advance: 4 * time.Minute},
				{s: keys, advance: 56 * time.Minute}, {s: keys, advance: 10 * time.Minute}},
			want: []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed},
				{guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.Allow, guardrail.RulePassed}},
			wantUsed: []string{"keys/111111111111=1", "keys/111111111111=3"},
		},
		{
			name:     "deny past the budget",
			budgets:  []guardrail.Budget{{Name: "keys", Actions: []string{"aws.iam.*"}, Window: time.Hour, Max: 1, OnExceed: guardrail.Deny}},
			checks:   []check{{s: keys}, {s: user}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Deny, guardrail.RuleBudget}},
			wantUsed: []string{"keys/111111111111=1"},
		},
		{
			name:     "a list of targets counts each",
			budgets:  []guardrail.Budget{{Name: "keys", Actions: []string{"aws.iam.disable_access_key*"}, Window: time.Hour, Max: 3}},
			checks:   []check{{s: list}, {s: list}, {s: keys}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.NeedsApproval, guardrail.RuleBudget}, {guardrail.Allow, guardrail.RulePassed}},
			wantUsed: []string{"keys/111111111111=3"},
		},
		{
			name:     "each account has its own count",
			budgets:  []guardrail.Budget{{Name: "users", Actions: []string{"aws.iam.delete_user"}, Window: time.Hour, Max: 1}},
			checks:   []check{{s: user}, {s: memberUser}, {s: user}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.NeedsApproval, guardrail.RuleBudget}},
			wantUsed: []string{"users/111111111111=1", "users/222222222222=1"},
		},
		{
			name: "several budgets are consumed all or none",
			budgets: []guardrail.Budget{
				{Name: "all-iam", Actions: []string{"aws.iam.*"}, Window: time.Hour, Max: 10},
				{Name: "deletes", Actions: []string{"aws.iam.delete_*"}, Window: time.Hour, Max: 1, OnExceed: guardrail.Deny},
			},
			checks:   []check{{s: user}, {s: user}, {s: user}, {s: keys}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Deny, guardrail.RuleBudget}, {guardrail.Deny, guardrail.RuleBudget}, {guardrail.Allow, guardrail.RulePassed}},
			wantUsed: []string{"all-iam/111111111111=2", "deletes/111111111111=1"},
		},
		{
			name:     "percentage of users (50 % of 4)",
			budgets:  []guardrail.Budget{{Name: "users", Actions: []string{"aws.iam.delete_user"}, Window: time.Hour, Max: 10, Percent: 50, Of: guardrail.Base{Kind: guardrail.BaseUsers}}},
			checks:   []check{{s: user}, {s: user}, {s: user}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.NeedsApproval, guardrail.RuleBudget}},
			wantUsed: []string{"users/111111111111=2"},
		},
		{
			name: "percentage of instances tagged app=web (50 % of 4)",
			budgets: []guardrail.Budget{{Name: "isolate", Actions: []string{"aws.ec2.isolate_*"}, Window: time.Hour, Percent: 50,
				Of: guardrail.Base{Kind: guardrail.BaseInstances, Tags: map[string]string{"app": "web"}}}},
			checks:   []check{{s: isolate}, {s: isolate}, {s: isolate}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.Allow, guardrail.RulePassed}, {guardrail.NeedsApproval, guardrail.RuleBudget}},
			wantUsed: []string{"isolate/111111111111=2"},
		},
		{
			name:     "the smaller of count and percentage",
			budgets:  []guardrail.Budget{{Name: "users", Actions: []string{"aws.iam.delete_user"}, Window: time.Hour, Max: 1, Percent: 50, Of: guardrail.Base{Kind: guardrail.BaseUsers}}},
			checks:   []check{{s: user}, {s: user}},
			want:     []outcome{{guardrail.Allow, guardrail.RulePassed}, {guardrail.NeedsApproval, guardrail.RuleBudget}},
			wantUsed: []string{"users/111111111111=1"},
		},
		{
			name:    "refused and dry-run steps consume nothing",
			budgets: []guardrail.Budget{{Name: "users", Actions: []string{"aws.iam.delete_user"}, Window: time.Hour, Max: 1}},
			checks: []check{{s: step(deleteUser, "user_name", "responder")}, {s: func() guardrail.Step { s := user; s.DryRun = true; return s }()},
				{s: user}},
			want:     []outcome{{guardrail.Deny, guardrail.RuleSelf}, {guardrail.DryRun, guardrail.RuleDryRun}, {guardrail.Allow, guardrail.RulePassed}},
			wantUsed: []string{"users/111111111111=1"},
		},
	}
	for _, db := range ledgers {
		t.Run(db.name, func(t *testing.T) {
			open := db.open(t)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					store := open(t, ledger.Options{})
					clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
					g := newGuard(t, w, c, store, clk, tt.budgets...)
					var got []outcome
					for _, ch := range tt.checks {
						clk.add(ch.advance)
						d := g.Check(context.Background(), ch.s)
						got = append(got, outcome{d.Verdict, d.Rule})
						if d.Rule == guardrail.RuleBudget && (d.Budget == "" || !strings.Contains(d.Reason, "budget "+d.Budget+" is spent")) {
							t.Errorf("budget decision names no budget: %+v", d)
						}
					}
					if diff := cmp.Diff(got, tt.want); diff != "" {
						t.Errorf("verdicts (-got +want):\n%s", diff)
					}
					used := ledgertest.Strings(t, store, `SELECT budget || '/' || account || '=' || used FROM budgets ORDER BY budget, account, used`)
					if diff := cmp.Diff(used, tt.wantUsed); diff != "" {
						t.Errorf("budgets table (-got +want):\n%s", diff)
					}
				})
			}
		})
	}
}

func TestBudgetReportsUse(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	store := ledgertest.SQLite()(t, ledger.Options{})
	clk := &clock{t: time.Date(2026, 11, 22, 10, 17, 0, 0, time.UTC)}
	g := newGuard(t, w, c, store, clk, guardrail.Budget{Name: "users", Actions: []string{"aws.iam.delete_user"}, Window: time.Hour, Max: 2})
	d := g.Check(context.Background(), step(deleteUser, "user_name", "dana"))
	// Counted from the first five-minute slot less than an hour and a
	// slot before 10:15, the slot of 10:17.
	want := []guardrail.BudgetUse{{Budget: "users", Window: time.Date(2026, 11, 22, 9, 15, 0, 0, time.UTC), Used: 1, Limit: 2}}
	if diff := cmp.Diff(d.Consumed, want); diff != "" {
		t.Errorf("Consumed (-got +want):\n%s", diff)
	}
	d = g.Check(context.Background(), step(deleteUser, "user_name", "dana"))
	d = g.Check(context.Background(), step(deleteUser, "user_name", "dana"))
	if want := "approval required: budget users is spent: 2 of 2 used since 2026-11-22T09:15:00Z, this step needs 1 more"; d.Reason != want {
		t.Errorf("reason = %q; want %q", d.Reason, want)
	}
}

// TestBudgetConcurrency runs many checks of one budget at once, on the
// real ledger: exactly the limit is allowed, never more.
func TestBudgetConcurrency(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	dana := w.keyOf(t, hub, "dana")
	const limit, workers, perWorker = 7, 12, 5
	for _, db := range ledgers {
		t.Run(db.name, func(t *testing.T) {
			store := db.open(t)(t, ledger.Options{})
			clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
			// Two guards stand for two replicas sharing the ledger.
			guards := []*guardrail.Guard{
				newGuard(t, w, c, store, clk, guardrail.Budget{Name: "keys", Actions: []string{"aws.iam.disable_access_key"}, Window: time.Hour, Max: limit}),
				newGuard(t, w, c, store, clk, guardrail.Budget{Name: "keys", Actions: []string{"aws.iam.disable_access_key"}, Window: time.Hour, Max: limit}),
			}
			var mu sync.Mutex
			counts := map[guardrail.Verdict]int{}
			var wg sync.WaitGroup
			for i := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perWorker {
						d := guards[i%2].Check(context.Background(), step(disableKey, "access_key_id", dana))
						mu.Lock()
						counts[d.Verdict]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			want := map[guardrail.Verdict]int{guardrail.Allow: limit, guardrail.NeedsApproval: workers*perWorker - limit}
			if diff := cmp.Diff(counts, want); diff != "" {
				t.Errorf("verdicts (-got +want):\n%s", diff)
			}
			used := ledgertest.Strings(t, store, `SELECT budget || '=' || used FROM budgets`)
			if diff := cmp.Diff(used, []string{fmt.Sprintf("keys=%d", limit)}); diff != "" {
				t.Errorf("budgets table (-got +want):\n%s", diff)
			}
		})
	}
}

func TestFailClosed(t *testing.T) {
	w := startWorld(t)
	c := newResponderClients(t, w)
	dana := w.keyOf(t, hub, "dana")
	tests := []struct {
		name   string
		fault  sandbox.Fault
		budget bool
		close  bool // close the ledger first
		want   outcome
		reason string
	}{
		{name: "key owner lookup fails", fault: sandbox.Fault{Service: "iam", Operation: "GetAccessKeyLastUsed", ErrorRatio: 1},
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}, reason: "cannot check access_key " + dana},
		{name: "tag lookup is throttled", fault: sandbox.Fault{Service: "iam", Operation: "ListUserTags", ThrottleRatio: 1},
			want: outcome{guardrail.Deny, guardrail.RuleUnresolved}, reason: "iam list user tags dana"},
		{name: "percentage base cannot be counted", fault: sandbox.Fault{Service: "iam", Operation: "ListUsers", ErrorRatio: 1}, budget: true,
			want: outcome{guardrail.Deny, guardrail.RuleBudgetUnavailable}, reason: "cannot count its base"},
		{name: "ledger is gone", budget: true, close: true,
			want: outcome{guardrail.Deny, guardrail.RuleBudgetUnavailable}, reason: "budgets cannot be counted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := ledgertest.SQLite()(t, ledger.Options{})
			clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
			var budgets []guardrail.Budget
			if tt.budget {
				budgets = append(budgets, guardrail.Budget{Name: "keys", Actions: []string{"*"}, Window: time.Hour, Percent: 50, Of: guardrail.Base{Kind: guardrail.BaseUsers}})
			}
			g := newGuard(t, w, c, store, clk, budgets...)
			if tt.fault.Service != "" {
				if err := w.sb.SetFaults(1, tt.fault); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = w.sb.SetFaults(1) })
			}
			if tt.close {
				_ = store.Close()
			}
			d := g.Check(context.Background(), step(disableKey, "access_key_id", dana))
			if diff := cmp.Diff(outcome{d.Verdict, d.Rule}, tt.want); diff != "" {
				t.Errorf("Check (-got +want):\n%s\nreason: %s", diff, d.Reason)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.reason)
			}
		})
	}
}

func openSQLite(t *testing.T) ledger.Store {
	return ledgertest.SQLite()(t, ledger.Options{})
}
