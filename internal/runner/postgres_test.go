package runner

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

// TestPostgres runs a playbook on River's PostgreSQL driver, in the same
// database and transactions as the ledger: an approval request, a
// decision that wakes the run, and the rest of the run.
func TestPostgres(t *testing.T) {
	store := ledgertest.Postgres(t)(t, ledger.Options{})
	f := newFixture(t, nil)
	g, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: f.self, Clients: f.clients, Ledger: store})
	if err != nil {
		t.Fatal(err)
	}
	r := f.runner(Options{Ledger: store, Guard: g, Concurrency: 2}, needsApproval+`
  - id: tell
    action: core.log
    with:
      message: "disabled a key of ${{ steps.disable.output.user }}"
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()

	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	steps := func() map[string]string {
		rep, err := store.Report(ctx, res.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, s := range rep.Runs[0].Steps {
			out[stepName(s.StepKey)] = string(s.Status)
		}
		return out
	}
	waitFor(t, "the approval request", 30*time.Second, func() bool { return steps()["disable[0]"] == "awaiting_approval" })
	if _, err := Decide(ctx, store, Decision{IncidentID: res.IncidentID, Step: "disable", Approve: true, By: "alice", Channel: ledger.ChannelCLI, Reason: "go"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run to finish", pollWhileWaiting/3, func() bool { return finished(ledger.StepStatus(steps()["tell[0]"])) })
	if diff := cmp.Diff(steps(), map[string]string{"disable[0]": "succeeded", "tell[0]": "succeeded"}); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	if got := f.calls("UpdateAccessKey"); got != 1 {
		t.Errorf("UpdateAccessKey calls: got %d, want 1", got)
	}
}
