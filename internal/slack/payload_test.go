package slack_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/slack"
)

func form(payload string) []byte { return []byte("payload=" + url.QueryEscape(payload)) }

const clickPayload = `{"type":"block_actions","user":{"id":"U024BE7LH","username":"alice","name":"alice","team_id":"T1"},"team":{"id":"T1","domain":"x"},"api_app_id":"A1","token":"t","response_url":"https://hooks.slack.com/actions/T1/1/x","trigger_id":"1.2.3","container":{"type":"message"},"message":{"type":"message","text":"x"},"state":{"values":{"firebreak_reason":{"reason":{"type":"plain_text_input","value":"  seen the leak  "}}}},"actions":[{"action_id":"firebreak_deny","block_id":"firebreak_decide","type":"button","value":"{\"incident\":\"0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f\",\"step\":\"sessions\",\"item\":2}","action_ts":"1.3"}]}`

func TestParseInteraction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    []byte
		want    slack.Interaction
		wantErr string
	}{
		{
			name: "deny with a reason",
			body: form(clickPayload),
			want: slack.Interaction{
				Approve: false, Target: slack.Target{IncidentID: "0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f", Step: "sessions", Item: 2},
				UserID: "U024BE7LH", UserName: "alice", TeamID: "T1", Reason: "seen the leak", ResponseURL: "https://hooks.slack.com/actions/T1/1/x",
			},
		},
		{
			name: "approve without state, name only",
			body: form(`{"type":"block_actions","user":{"id":"U1","name":"bob"},"actions":[{"action_id":"other"},{"action_id":"firebreak_approve","value":"{\"incident\":\"i\",\"step\":\"s\"}"}]}`),
			want: slack.Interaction{Approve: true, Target: slack.Target{IncidentID: "i", Step: "s"}, UserID: "U1", UserName: "bob"},
		},
		{name: "not a form", body: []byte("payload=%zz"), wantErr: "body: not a URL-encoded form"},
		{name: "no payload", body: []byte("token=x"), wantErr: "payload: missing form field"},
		{name: "payload not JSON", body: form(`{"type":`), wantErr: "payload: not JSON"},
		{name: "other type", body: form(`{"type":"view_submission"}`), wantErr: `payload.type: "view_submission", want block_actions`},
		{name: "no user", body: form(`{"type":"block_actions","actions":[]}`), wantErr: "payload.user.id: required"},
		{name: "no actions", body: form(`{"type":"block_actions","user":{"id":"U1"}}`), wantErr: "payload.actions: no firebreak_approve or firebreak_deny action among 0"},
		{name: "foreign action", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"x","value":"y"}]}`), wantErr: "among 1"},
		{name: "value not JSON", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"inc/step"}]}`), wantErr: "payload.actions[0].value: not a Firebreak step"},
		{name: "value with an unknown field", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\",\"step\":\"s\",\"secret\":1}"}]}`), wantErr: `unknown field "secret"`},
		{name: "value with trailing data", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\",\"step\":\"s\"} {}"}]}`), wantErr: "data after the step"},
		{name: "no incident", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"step\":\"s\"}"}]}`), wantErr: "payload.actions[0].value.incident: required"},
		{name: "no step", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\"}"}]}`), wantErr: "payload.actions[0].value.step: required"},
		{name: "negative item", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\",\"step\":\"s\",\"item\":-1}"}]}`), wantErr: "value.item: -1 is negative"},
		{name: "control characters", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\\n\",\"step\":\"s\"}"}]}`), wantErr: "control characters"},
		{name: "value too long", body: form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"` + strings.Repeat("x", 2001) + `"}]}`), wantErr: "2001 characters, more than 2000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := slack.ParseInteraction(tc.body)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, slack.ErrPayload) {
					t.Fatalf("got %v, want an ErrPayload containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

// FuzzParseInteraction checks that any body gives an interaction with a
// usable target, or an ErrPayload; never a panic.
func FuzzParseInteraction(f *testing.F) {
	f.Add(form(clickPayload))
	f.Add(form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":"{\"incident\":\"i\",\"step\":\"s\"}"}]}`))
	f.Add([]byte("payload=%7B%7D"))
	f.Add([]byte(docBody))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := slack.ParseInteraction(body)
		if err != nil {
			if !errors.Is(err, slack.ErrPayload) {
				t.Fatalf("error without ErrPayload: %v", err)
			}
			return
		}
		if in.UserID == "" || in.Target.IncidentID == "" || in.Target.Step == "" || in.Target.Item < 0 {
			t.Fatalf("accepted an unusable interaction: %+v", in)
		}
		// The target survives the round trip through a button value.
		back, err := slack.ParseInteraction(form(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"firebreak_approve","value":` + jsonString(in.Target.Value()) + `}]}`))
		if err != nil {
			t.Fatalf("round trip of %+v: %v", in.Target, err)
		}
		if back.Target != in.Target {
			t.Fatalf("round trip: got %+v, want %+v", back.Target, in.Target)
		}
	})
}
