package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// floodWorld has the responder and n users with one key each.
func floodWorld(t testing.TB, n int) *sandbox.World {
	t.Helper()
	var b strings.Builder
	b.WriteString("accounts:\n  - id: \"111111111111\"\n    regions: [us-east-1]\n    users:\n")
	b.WriteString("      - name: responder\n        admin: true\n        managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess]\n        keys: [{}]\n")
	for i := range n {
		fmt.Fprintf(&b, "      - name: user-%02d\n        keys: [{}]\n", i)
	}
	w, err := sandbox.ParseWorld("flood.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestFlood sends 10,000 findings in a burst, about 50 leaked keys, to a
// running runner whose budget allows 10 key disables per window: exactly
// 10 keys are disabled, the other 40 wait for a person, and every finding
// is counted on its key's incident.
func TestFlood(t *testing.T) {
	const (
		findings = 10_000
		targets  = 50
		budget   = 10
	)
	if testing.Short() {
		t.Skip("10,000 findings")
	}
	f := newFixture(t, floodWorld(t, targets))
	// A fixed clock keeps the burst in one budget window.
	fixed := time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC)
	g, err := guardrail.New(guardrail.Config{Budgets: []guardrail.Budget{{
		Name: "key-disables", Actions: []string{"aws.iam.disable_access_key"}, Window: time.Hour, Max: budget, OnExceed: guardrail.NeedsApproval,
	}}}, guardrail.Options{Self: f.self, Clients: f.clients, Ledger: f.store, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	r := f.runner(Options{Guard: g, Concurrency: 8}, containKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()

	var keys []string
	for i := range targets {
		keys = append(keys, f.keys(fmt.Sprintf("user-%02d", i))...)
	}
	events := make([][]byte, targets)
	for i, k := range keys {
		events[i] = f.exposed(fmt.Sprintf("user-%02d", i), k)
	}
	start := time.Now()
	outcomes := map[Outcome]int{}
	for i := range findings {
		// The same finding repeats, as a flood of re-sent alerts would.
		res, err := r.Ingest(ctx, events[i%targets])
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			outcomes[x.Outcome]++
		}
	}
	t.Logf("ingested %d findings in %s", findings, time.Since(start).Round(time.Millisecond))
	if outcomes[NewIncident] != targets || outcomes[Duplicate] != findings-targets {
		t.Errorf("outcomes: got %v, want %d new incidents and %d duplicates", outcomes, targets, findings-targets)
	}

	count := func() (succeeded, awaiting int) {
		out, err := f.store.DB().QueryContext(ctx, `SELECT status, count(*) FROM steps WHERE step_id = 'disable' GROUP BY status`)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = out.Close() }()
		for out.Next() {
			var s string
			var n int
			if err := out.Scan(&s, &n); err != nil {
				t.Fatal(err)
			}
			switch s {
			case "succeeded":
				succeeded = n
			case "awaiting_approval":
				awaiting = n
			}
		}
		return succeeded, awaiting
	}
	waitFor(t, "every run to act or wait", 60*time.Second, func() bool {
		s, a := count()
		return s+a >= targets
	})
	time.Sleep(200 * time.Millisecond) // let any step over the budget show itself
	succeeded, awaiting := count()
	t.Logf("all runs settled %s after the burst began", time.Since(start).Round(time.Millisecond))
	if succeeded != budget || awaiting != targets-budget {
		t.Errorf("steps: got %d succeeded and %d awaiting approval, want %d and %d", succeeded, awaiting, budget, targets-budget)
	}
	if got := f.calls("UpdateAccessKey"); got != budget {
		t.Errorf("UpdateAccessKey calls: got %d, want the budget, %d", got, budget)
	}
	disabled := 0
	for _, k := range keys {
		if f.keyStatus(k) == "Inactive" {
			disabled++
		}
	}
	if disabled != budget {
		t.Errorf("disabled keys: got %d, want %d", disabled, budget)
	}
	// A person approves one step past the budget: it acts, and the budget
	// is not asked again.
	var incident string
	if err := f.store.DB().QueryRowContext(ctx, `SELECT incident_id FROM steps WHERE status = 'awaiting_approval' LIMIT 1`).Scan(&incident); err != nil {
		t.Fatal(err)
	}
	if _, err := Decide(ctx, f.store, Decision{IncidentID: incident, Step: "disable", Approve: true, By: "alice", Channel: ledger.ChannelCLI, Reason: "this one matters"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the approved step to act", 10*time.Second, func() bool { s, _ := count(); return s == budget+1 })
	if got := f.calls("UpdateAccessKey"); got != budget+1 {
		t.Errorf("UpdateAccessKey calls after one approval: got %d, want %d", got, budget+1)
	}

	var total int64
	if err := f.store.DB().QueryRowContext(ctx, `SELECT sum(count) FROM incidents`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != findings {
		t.Errorf("findings counted on incidents: got %d, want %d", total, findings)
	}
}
