package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
)

// With an email channel in firebreak.yaml, serve emails the incident's
// report once its run has ended: one email per incident, through SES, to
// the configured addresses, naming the finding.
func TestServeEmailsReportWhenRunEnds(t *testing.T) {
	sb := sandboxtest.New(t, sandbox.Options{Seed: 5})
	awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	q := newQueues(t, awsCfg)
	store := ledgertest.SQLite()(t, ledger.Options{})

	cfg := &config.Config{
		AWS: config.AWS{Region: "us-east-1"},
		Sources: config.Sources{SQS: []config.SQSSource{
			{QueueURL: q.queue, Receivers: 1, VisibilityTimeout: config.Duration(time.Minute), MaxMessageBytes: 256 << 10, DLQ: config.DLQ{MaxReceives: 5}},
		}},
		Notify: config.Notify{Email: &config.Email{From: "firebreak@acme.example", To: []string{"security@acme.example"}, Via: "ses"}},
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: store, Plans: compile(t, acceptancePlaybook)})
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

	q.send(t, []string{variant(t, "health/risk-credentials-exposed-aws-health-tools.json", 1)})
	mails := func() []sandbox.Email {
		var out []sandbox.Email
		for _, m := range sb.Outbox() {
			if m.From == "firebreak@acme.example" {
				out = append(out, m)
			}
		}
		return out
	}
	deadline := time.Now().Add(time.Minute)
	for len(mails()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no incident report emailed within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a second email to show
	got := mails()
	if len(got) != 1 {
		t.Fatalf("%d reports emailed, want 1", len(got))
	}
	if !slices.Contains(append(got[0].To, got[0].Cc...), "security@acme.example") {
		t.Errorf("report to %v cc %v; want security@acme.example", got[0].To, got[0].Cc)
	}
	if !strings.Contains(got[0].Subject, "AWS_RISK_CREDENTIALS_EXPOSED") {
		t.Errorf("report subject %q does not name the finding", got[0].Subject)
	}
}
