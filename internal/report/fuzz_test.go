package report_test

import (
	"encoding/json"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/report"
)

// FuzzFromLedger reads arbitrary step outputs as the summarize and
// verdict actions' and renders the result: no panic, no render error, and
// valid Slack JSON whatever the ledger holds.
func FuzzFromLedger(f *testing.F) {
	f.Add([]byte(`{"total":3,"top_calls":["iam:CreateUser (2)"],"first_seen":"2026-03-14T07:00:00Z"}`), []byte(`{"succeeded":true,"reasons":["x"]}`), "title")
	f.Add([]byte(`null`), []byte(`[]`), "")
	f.Add([]byte(`{"top_calls":["<!channel> & \"q\" (1)"]}`), []byte(`{"reasons":["`+"\u2028"+`"]}`), "{{.}}")
	tmpl, err := report.Load("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, summary, verdict []byte, title string) {
		rep := ledger.Report{
			Incident: ledger.Incident{ID: "inc_1", Title: title},
			Runs: []ledger.Run{{Steps: []ledger.Step{
				{StepKey: ledger.StepKey{StepID: "s"}, Action: report.SummarizeAction, Status: ledger.StepSucceeded, Output: summary},
				{StepKey: ledger.StepKey{StepID: "v"}, Action: report.VerdictAction, Status: ledger.StepSucceeded, Output: verdict},
			}}},
		}
		b := report.FromLedger(rep).Redact()
		r, err := tmpl.Render(b)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if !json.Valid(r.Slack) {
			t.Fatalf("slack is not JSON: %s", r.Slack)
		}
	})
}
