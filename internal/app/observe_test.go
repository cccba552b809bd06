package app_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/samples"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/source"
)

// observePlaybooks: one disables the event's key (the guardrail refuses:
// its user is protected); the other waits for a person.
const observePlaybooks = `
name: disable
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
---
name: ask
trigger:
  source: [aws.health]
steps:
  - id: note
    action: core.log
    with:
      message: "asked"
    approval:
      required: true
      timeout: 1h
`

// /metrics counts guardrail denials by rule and observes how long
// approvals waited, as serve applies them.
func TestMetricsGuardrailDenialsAndApprovalWait(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 3})
	awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	account := sb.Accounts()[0].ID
	key := sandboxtest.User(t, sb, account, "dana").AccessKeyID
	store := ledgertest.SQLite()(t, ledger.Options{})

	var plans = compile(t, strings.Split(observePlaybooks, "---\n")[0])
	plans = append(plans, compile(t, strings.Split(observePlaybooks, "---\n")[1])...)
	cfg := &config.Config{
		AWS:        config.AWS{Region: "us-east-1"},
		Guardrails: config.Guardrails{ProtectedPrincipals: []string{"arn:aws:iam::*:user/dana"}},
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: store, Plans: plans, Sources: []app.Source{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	raw, err := samples.Read("health/risk-credentials-exposed-aws-health-tools.json")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(strings.ReplaceAll(string(raw), "ACCESS_KEY_ID_HERE", key), "123456789012", account)
	if _, err := a.Sink().Ingest(ctx, []byte(body), source.Meta{Source: "test", MessageID: "1", Received: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var asked string
	waitUntil(t, "the denial and the approval request", func() bool {
		incs, err := store.ListIncidents(ctx, ledger.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		denied, waiting := false, false
		for _, inc := range incs {
			rep, err := store.Report(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Runs {
				for _, s := range r.Steps {
					denied = denied || s.Status == ledger.StepDenied
					if s.Status == ledger.StepAwaitingApproval {
						waiting, asked = true, inc.ID
					}
				}
			}
		}
		return denied && waiting
	})
	if _, err := runner.Decide(ctx, store, runner.Decision{IncidentID: asked, Step: "note", Approve: true, By: "alice", Channel: ledger.ChannelCLI, Reason: "go"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the approval wait in /metrics", func() bool {
		return strings.Contains(scrape(t, a), "firebreak_approval_wait_seconds_count 1")
	})
	if m := scrape(t, a); !strings.Contains(m, `firebreak_guardrail_denials_total{rule="protected_principal"} 1`) {
		t.Errorf("/metrics lacks one protected_principal denial:\n%s", grep(m, "guardrail_denials"))
	}
}

func scrape(t *testing.T, a *app.App) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
