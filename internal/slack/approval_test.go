package slack_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

// TestForApproval builds a step's message from a real ledger.
func TestForApproval(t *testing.T) {
	w := newWorld(t)
	reg, err := catalog.Registry()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.store.Report(context.Background(), w.incident)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Approvals[0]
	got, err := slack.ForApproval(rep, a.ID, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slack.StepMessage(got); err != nil {
		t.Errorf("StepMessage: %v", err)
	}
	if got.Incident.ID != w.incident || !got.Expires.Equal(a.Expires) {
		t.Errorf("incident %s expires %v, want %s and %v", got.Incident.ID, got.Expires, w.incident, a.Expires)
	}
	got.Incident, got.Expires = ledger.Incident{}, a.Expires
	meta, _ := reg.Lookup("aws.iam.disable_access_key")
	want := slack.Step{
		StepID: "disable", Action: "aws.iam.disable_access_key",
		Summary:  meta.Meta().Summary + ". Approval asked: exposed key.",
		Params:   []slack.Param{{Name: "access_key_id", Value: "AKIAIOSFODNN7EXAMPLE"}},
		Evidence: []string{`cloudtrail_summary (step calls): {"calls":12,"foreign_ips":["203.0.113.9"]}`},
		Approval: true, Expires: a.Expires,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}

	// Once decided, the message has no buttons.
	rec := httptestClick(t, w)
	if !strings.Contains(rec, "Approved by") {
		t.Fatalf("click: %s", rec)
	}
	rep, err = w.store.Report(context.Background(), w.incident)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := slack.ForApproval(rep, a.ID, nil); err != nil || got.Approval {
		t.Errorf("decided approval: got approval=%v, %v; want no buttons", got.Approval, err)
	}

	_, err = slack.ForApproval(rep, "no-such-approval", reg)
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown approval: got %v, want ErrNotFound", err)
	}
}
