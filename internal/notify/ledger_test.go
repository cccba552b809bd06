package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/investigate"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
)

// TestNotifyIncidentFromLedger records an incident the way the runner
// does, in a real SQLite ledger, and notifies from it: the bundle carries
// the steps, the CloudTrail summary, the verdict and the earlier incident.
func TestNotifyIncidentFromLedger(t *testing.T) {
	ctx := context.Background()
	store := ledgertest.SQLite()(t, ledger.Options{})
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	subjects := []ledger.Subject{{Kind: ledger.SubjectAccessKey, Value: "AKIAEXAMPLE000000001"}, {Kind: ledger.SubjectUser, Value: "dana"}}
	finding := func(key string, seen time.Time) ledger.Finding {
		return ledger.Finding{DedupKey: key, Playbook: "exposed-access-key", Source: "aws.health", FindingType: "AWS_RISK_CREDENTIALS_EXPOSED",
			Title: "Exposed key", Severity: 9, SeverityLabel: "critical", Account: "111111111111", Region: "us-east-1", Seen: seen, Subjects: subjects,
			Event: json.RawMessage(`{"source":"aws.health"}`)}
	}
	var old, inc ledger.Incident
	err := store.Update(ctx, func(tx ledger.Tx) error {
		var err error
		if old, _, err = tx.RecordFinding(ctx, finding("old", at.AddDate(0, -1, 0))); err != nil {
			return err
		}
		if err := tx.SetIncidentStatus(ctx, old.ID, ledger.StatusOpen, ledger.StatusResolved, "test"); err != nil {
			return err
		}
		if inc, _, err = tx.RecordFinding(ctx, finding("new", at)); err != nil {
			return err
		}
		run, err := tx.EnsureRun(ctx, inc.ID, "exposed-access-key")
		if err != nil {
			return err
		}
		verdict := investigate.Verdict{Succeeded: true, Reasons: []string{"persistence: iam:CreateUser"}, Persistence: []string{"iam:CreateUser"}}
		steps := []struct {
			id, action string
			output     any
		}{
			{"disable", "aws.iam.disable_access_key", map[string]any{"access_key_id": "AKIAEXAMPLE000000001"}},
			{"summarize", report.SummarizeAction, map[string]any{"total": 3, "successes": 2, "errors": 1, "top_calls": []string{"iam:CreateUser (2)", "sts:GetCallerIdentity (1)"}, "first_seen": "2026-03-14T07:00:00Z", "last_seen": "2026-03-14T08:00:00Z"}},
			{"verdict", report.VerdictAction, verdict.Values()},
		}
		for _, s := range steps {
			key := ledger.StepKey{RunID: run.ID, StepID: s.id}
			if _, err := tx.EnsureStep(ctx, key, s.action, nil); err != nil {
				return err
			}
			st, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning})
			if err != nil {
				return err
			}
			if _, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepRunning, To: ledger.StepSucceeded, Attempt: st.Attempt, Output: s.output}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hook := newCapture(t)
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{notify.Webhook{URL: hook.URL}}}
	got, err := n.NotifyIncident(ctx, store, inc.ID, report.Link{Name: "Console", URL: "https://firebreak.acme.example/incidents/" + inc.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].OK {
		t.Fatalf("delivery = %+v", got[0])
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(hook.only(t).body, &p); err != nil {
		t.Fatal(err)
	}
	b := p.Incident
	var steps []string
	for _, a := range b.Actions {
		steps = append(steps, a.Step+" "+a.Status)
	}
	if diff := cmp.Diff(steps, []string{"disable succeeded", "summarize succeeded", "verdict succeeded"}); diff != "" {
		t.Errorf("actions (-got +want):\n%s", diff)
	}
	if b.CloudTrail == nil || b.CloudTrail.Total != 3 || len(b.CloudTrail.TopCalls) != 2 || b.CloudTrail.TopCalls[0] != (report.Count{Value: "iam:CreateUser", N: 2}) {
		t.Errorf("cloudtrail = %+v", b.CloudTrail)
	}
	if b.Verdict == nil || !b.Verdict.Succeeded || len(b.Verdict.Persistence) != 1 {
		t.Errorf("verdict = %+v", b.Verdict)
	}
	if len(b.SeenBefore) != 1 || b.SeenBefore[0].IncidentID != old.ID || b.SeenBefore[0].Status != "resolved" {
		t.Errorf("seen before = %+v, want %s", b.SeenBefore, old.ID)
	}
	if len(b.Links) != 1 || b.Links[0].Name != "Console" || b.Event.Severity != "critical" || b.IncidentID != inc.ID {
		t.Errorf("bundle = %+v", b)
	}
	if _, err := n.NotifyIncident(ctx, store, "inc_missing"); err == nil {
		t.Errorf("NotifyIncident of a missing incident succeeded")
	}
}
