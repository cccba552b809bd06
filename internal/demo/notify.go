package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// The demo's email addresses: the sender, and the security team, who
// hear about every incident and get it when nobody owns the key.
const (
	mailFrom     = "firebreak@acme.example"
	securityTeam = "security@acme.example"
)

// Notify tells the owners about an incident, the way serve does once the
// runner sends reports itself: the ledger's report as an evidence bundle,
// rendered with the default templates and emailed through the sandbox's
// SES (its outbox) to the owner tag of the key's user, with the security
// team in copy (or alone, when the user has no owner).
func (e *Env) Notify(ctx context.Context, rep ledger.Report) ([]notify.Delivery, error) {
	tmpl, err := report.Load("")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg, err := e.AWSConfig(ctx, e.Responder, sandbox.WithMaxAttempts(3))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	b := report.FromLedger(rep)
	// An AWS Health event names the key only; the disable step found
	// whose it is, and the owner is read from that user's tags.
	if u := keyUser(rep); u != "" && !slices.Contains(b.Event.Subjects, report.Subject{Kind: "user", Value: u}) {
		b.Event.Subjects = append(b.Event.Subjects, report.Subject{Kind: "user", Value: u})
	}
	n := &notify.Notifier{
		Templates:  tmpl,
		Channels:   []notify.Channel{notify.SES{Client: sesv2.NewFromConfig(cfg), From: mailFrom}},
		Recipients: notify.Owners{IAM: notify.OneIAM(iam.NewFromConfig(cfg)), Default: []string{securityTeam}, CC: []string{securityTeam}},
	}
	d, err := n.Notify(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return d, nil
}

// keyUser is the user the disable step found the key belongs to.
func keyUser(rep ledger.Report) string {
	for _, run := range rep.Runs {
		for _, st := range run.Steps {
			if st.Action == "aws.iam.disable_access_key" && st.Status == ledger.StepSucceeded {
				var out struct {
					User string `json:"user"`
				}
				if json.Unmarshal(st.Output, &out) == nil && out.User != "" {
					return out.User
				}
			}
		}
	}
	return ""
}
