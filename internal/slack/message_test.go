package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("%s (-got +want):\n%s", path, diff)
	}
}

// leakedKey is an AWS example secret access key standing in for one that
// reached a step's parameters or evidence.
const leakedKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func exampleStep(approval bool) slack.Step {
	return slack.Step{
		Incident: ledger.Incident{
			ID: "0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f", Playbook: "exposed-key",
			FindingType: "AWS_RISK_CREDENTIALS_EXPOSED", Title: "Access key AKIAIOSFODNN7EXAMPLE exposed on <github.com> & pastebin",
			Severity: 8, SeverityLabel: "HIGH", Account: "123456789012", Region: "us-east-1",
			Subjects: []ledger.Subject{{Kind: ledger.SubjectAccessKey, Value: "AKIAIOSFODNN7EXAMPLE"}, {Kind: ledger.SubjectUser, Value: "dana"}},
		},
		StepID:  "disable",
		Action:  "aws.iam.disable_access_key",
		Summary: "Sets the access key to Inactive; it can be set Active again.",
		Params:  []slack.Param{{Name: "access_key_id", Value: "AKIAIOSFODNN7EXAMPLE"}, {Name: "user_name", Value: "dana"}},
		Evidence: []string{
			"12 calls with the key in the last 24 h, 3 from 203.0.113.9 (not ours)",
			"the key's secret aws_secret_access_key=" + leakedKey + " was in the paste",
		},
		Approval: approval,
		Expires:  time.Date(2026, 11, 23, 0, 30, 0, 0, time.UTC),
	}
}

func TestStepMessage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		approval bool
	}{
		{"approval", true},
		{"notice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := slack.StepMessage(exampleStep(tc.approval))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(msg), leakedKey) {
				t.Errorf("the message carries the secret access key")
			}
			// Buttons exist exactly when approval is asked, and carry only the target.
			var m struct {
				Blocks []struct {
					Type     string `json:"type"`
					Elements []struct {
						ActionID string `json:"action_id"`
						Value    string `json:"value"`
					} `json:"elements"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal(msg, &m); err != nil {
				t.Fatal(err)
			}
			var values []string
			for _, b := range m.Blocks {
				for _, e := range b.Elements {
					if e.ActionID != "" {
						values = append(values, e.ActionID+"="+e.Value)
					}
				}
			}
			var want []string
			if tc.approval {
				v := `{"incident":"0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f","step":"disable","item":0}`
				want = []string{slack.ActionApprove + "=" + v, slack.ActionDeny + "=" + v}
			}
			if diff := cmp.Diff(values, want); diff != "" {
				t.Errorf("buttons (-got +want):\n%s", diff)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, msg, "", "  "); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden(t, "step-"+tc.name+".golden", out.Bytes())
		})
	}
}

func TestStepMessageErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*slack.Step)
		wantErr string
	}{
		{"no incident", func(s *slack.Step) { s.Incident.ID = "" }, "incident id, step id and action are required"},
		{"no step", func(s *slack.Step) { s.StepID = "" }, "incident id, step id and action are required"},
		{"approval without expiry", func(s *slack.Step) { s.Expires = time.Time{} }, "step disable: an approval needs an expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := exampleStep(true)
			tc.edit(&s)
			_, err := slack.StepMessage(s)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestWebhookPost(t *testing.T) {
	msg, err := slack.StepMessage(exampleStep(true))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	var gotType string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		gotType = r.Header.Get("Content-Type")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "invalid_blocks")
	}))
	defer srv.Close()
	url := srv.URL + "/services/T000/B000/XXXXSECRETPATH"
	hook := slack.Webhook{URL: secret.New(url), Client: srv.Client()}
	if err := hook.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) || gotType != "application/json" {
		t.Errorf("posted %s %q, want the message as application/json", gotType, got)
	}

	status = http.StatusBadRequest
	err = hook.Post(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: invalid_blocks") {
		t.Errorf("refused: got %v, want the status and Slack's reason", err)
	}
	srv.Close()
	err = hook.Post(context.Background(), msg)
	if err == nil {
		t.Fatal("post to a closed server: no error")
	}
	if strings.Contains(err.Error(), "XXXXSECRETPATH") {
		t.Errorf("the error carries the webhook URL: %v", err)
	}
	if err := (slack.Webhook{}).Post(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "no URL configured") {
		t.Errorf("no URL: got %v", err)
	}
}
