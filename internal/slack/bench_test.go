package slack_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

// A click as Slack sends it for StepMessage's message: about 3 KB, most of
// it the message echoed back.
func benchBody(b *testing.B) []byte {
	msg, err := slack.StepMessage(exampleStep(true))
	if err != nil {
		b.Fatal(err)
	}
	p := `{"type":"block_actions","user":{"id":"U024BE7LH","username":"alice"},"team":{"id":"T1"},"response_url":"https://hooks.slack.com/actions/T1/1/x","message":` + string(msg) +
		`,"actions":[{"action_id":"firebreak_approve","block_id":"firebreak_decide","type":"button","value":` + jsonString(slack.Target{IncidentID: "0193f1c2-7a4b-7c3d-9e8f-0a1b2c3d4e5f", Step: "disable"}.Value()) + `}]}`
	return form(p)
}

func BenchmarkVerify(b *testing.B) {
	body := benchBody(b)
	key := secret.New(signingSecret)
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(slack.HeaderTimestamp, ts)
	h.Set(slack.HeaderSignature, slack.SignatureHeader(key, ts, body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := slack.Verify(key, h, body, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInteraction(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := slack.ParseInteraction(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStepMessage(b *testing.B) {
	s := exampleStep(true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := slack.StepMessage(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandlerRefused is the whole request path up to the decision,
// for a clicking user who is not an approver (no response_url post, no
// ledger write): reading, verifying, parsing and answering.
func BenchmarkHandlerRefused(b *testing.B) {
	body := benchBody(b)
	h := &slack.Handler{SigningSecret: secret.New(signingSecret), Approvers: []string{"U0OTHER"}, Now: func() time.Time { return now },
		ResponseURLPrefix: "https://nowhere.invalid/"}
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := slack.SignatureHeader(secret.New(signingSecret), ts, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/slack/interactivity", bytes.NewReader(body))
		r.Header.Set(slack.HeaderTimestamp, ts)
		r.Header.Set(slack.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
