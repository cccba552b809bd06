package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/notify"
	"github.com/firebreak-sec/firebreak/internal/report"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

func templates(t *testing.T) *report.Templates {
	t.Helper()
	tmpl, err := report.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// slackHook is an httptest Slack incoming webhook: it answers with the
// statuses given, one per request (then 200), and keeps what it got.
type slackHook struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int
}

func newSlackHook(t *testing.T, statuses ...int) *slackHook {
	h := &slackHook{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.headers = append(h.headers, r.Header.Clone())
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		h.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/XXXXSECRETXXXX" {
			status = http.StatusNotFound
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			io.WriteString(w, "ok")
		} else {
			io.WriteString(w, "no_service")
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *slackHook) url() secret.String {
	return secret.New(h.URL + "/services/T000/B000/XXXXSECRETXXXX")
}

func (h *slackHook) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func TestSESAgainstSandboxOutbox(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	ses := sesv2.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	n := &notify.Notifier{
		Templates:  templates(t),
		Channels:   []notify.Channel{notify.SES{Client: ses, From: "firebreak@acme.example", To: []string{"security@acme.example"}}},
		Recipients: notify.Owners{Default: []string{"dana@acme.example", "security@acme.example"}},
	}
	got, err := n.Notify(ctx, report.Example())
	if err != nil {
		t.Fatal(err)
	}
	want := []notify.Delivery{{Channel: "email:ses", To: []string{"dana@acme.example", "security@acme.example"}, OK: true, Attempts: 1}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("deliveries (-got +want):\n%s", diff)
	}
	rep, err := templates(t).Render(report.Example())
	if err != nil {
		t.Fatal(err)
	}
	box := sb.Outbox()
	if len(box) != 1 {
		t.Fatalf("outbox has %d emails, want 1", len(box))
	}
	e := box[0]
	if diff := cmp.Diff([]string{e.From, e.Subject, e.Text, e.HTML, strings.Join(e.To, ",")},
		[]string{"firebreak@acme.example", rep.Subject, rep.Text, rep.HTML, "dana@acme.example,security@acme.example"}); diff != "" {
		t.Errorf("email (-got +want):\n%s", diff)
	}
}

func TestSESRetriesThrottlingThenGivesUp(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.New(t, sandbox.Options{Seed: 1})
	if err := sb.SetFaults(1, sandbox.Fault{Service: "ses", Operation: "SendEmail", ThrottleRatio: 1}); err != nil {
		t.Fatal(err)
	}
	ses := sesv2.NewFromConfig(sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb)))
	hook := newSlackHook(t)
	n := &notify.Notifier{
		Templates: templates(t),
		Channels: []notify.Channel{
			notify.SES{Client: ses, From: "firebreak@acme.example", To: []string{"security@acme.example"}},
			notify.Slack{URL: hook.url()},
		},
		Attempts: 3, Backoff: time.Millisecond,
	}
	got, err := n.Notify(ctx, report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("deliveries = %+v", got)
	}
	if got[0].OK || got[0].Attempts != 3 || !strings.Contains(got[0].Error, "email:ses: ses send email") || !strings.Contains(got[0].Error, "TooManyRequestsException") {
		t.Errorf("ses delivery = %+v, want 3 throttled attempts", got[0])
	}
	if !got[1].OK || hook.requests() != 1 {
		t.Errorf("slack delivery = %+v after %d requests, want it sent despite SES failing", got[1], hook.requests())
	}
	if len(sb.Outbox()) != 0 {
		t.Errorf("outbox = %+v, want empty", sb.Outbox())
	}
}

func TestSlackPayload(t *testing.T) {
	hook := newSlackHook(t)
	n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{notify.Slack{URL: hook.url()}}}
	got, err := n.Notify(context.Background(), report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []notify.Delivery{{Channel: "slack", To: []string{"slack incoming webhook"}, OK: true, Attempts: 1}}); diff != "" {
		t.Errorf("deliveries (-got +want):\n%s", diff)
	}
	if hook.requests() != 1 {
		t.Fatalf("slack got %d requests, want 1", hook.requests())
	}
	if ct := hook.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type   string `json:"type"`
			Text   *struct{ Type, Text string }
			Fields []struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(hook.bodies[0], &msg); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, hook.bodies[0])
	}
	var types []string
	var all strings.Builder
	for _, b := range msg.Blocks {
		types = append(types, b.Type)
		if b.Text != nil {
			all.WriteString(b.Text.Text + "\n")
		}
		for _, f := range b.Fields {
			all.WriteString(f.Text + "\n")
		}
	}
	if diff := cmp.Diff(types, []string{"header", "section", "section", "section", "section", "section", "context", "section", "actions"}); diff != "" {
		t.Errorf("block types (-got +want):\n%s", diff)
	}
	for _, want := range []string{
		"*Severity*\ncritical", "*access key*\nAKIAEXAMPLEDEVKEY001", // fields
		"disable `aws.iam.disable_access_key`: *succeeded*",       // actions taken
		"12 × `sts:GetCallerIdentity`",                            // top calls
		"*Verdict:* attacker succeeded",                           // verdict
		"firebreak approve inc_01J9Z8K3T5Q2W7E4R6Y1U0I9O8 delete", // next steps
	} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("slack message lacks %q:\n%s", want, all.String())
		}
	}
}

func TestRetry(t *testing.T) {
	cases := []struct {
		name         string
		statuses     []int
		wantOK       bool
		wantAttempts int
		wantError    string
	}{
		{"ok first time", nil, true, 1, ""},
		{"503 then ok", []int{503}, true, 2, ""},
		{"429 twice then ok", []int{429, 429}, true, 3, ""},
		{"500 every time", []int{500, 500, 500, 500}, false, 3, "slack: HTTP 500: no_service"},
		{"400 is not retried", []int{400, 200}, false, 1, "slack: HTTP 400: no_service"},
		{"404 is not retried", []int{404}, false, 1, "slack: HTTP 404: no_service"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			hook := newSlackHook(t, tt.statuses...)
			n := &notify.Notifier{Templates: templates(t), Channels: []notify.Channel{notify.Slack{URL: hook.url()}}, Backoff: time.Millisecond}
			got, err := n.Notify(context.Background(), report.Example())
			if err != nil {
				t.Fatal(err)
			}
			want := notify.Delivery{Channel: "slack", To: []string{"slack incoming webhook"}, OK: tt.wantOK, Attempts: tt.wantAttempts, Error: tt.wantError}
			if diff := cmp.Diff(got, []notify.Delivery{want}); diff != "" {
				t.Errorf("deliveries (-got +want):\n%s", diff)
			}
			if hook.requests() != tt.wantAttempts {
				t.Errorf("slack got %d requests, want %d", hook.requests(), tt.wantAttempts)
			}
		})
	}
}

// TestTimeout: a channel that hangs is cut off at the Notifier's
// timeout, and the others still deliver.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := newSlackHook(t)
	n := &notify.Notifier{
		Templates: templates(t),
		Channels:  []notify.Channel{notify.Slack{URL: secret.New(slow.URL + "/services/T/B/TOKEN")}, notify.Slack{URL: fast.url()}},
		Timeout:   100 * time.Millisecond, Backoff: time.Millisecond,
	}
	got, err := n.Notify(context.Background(), report.Example())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].OK || !strings.Contains(got[0].Error, "context deadline exceeded") || got[0].Attempts != 1 {
		t.Errorf("slow channel = %+v, want one attempt cut off by the deadline", got[0])
	}
	if strings.Contains(got[0].Error, "TOKEN") {
		t.Errorf("error %q carries the webhook URL", got[0].Error)
	}
	if !got[1].OK {
		t.Errorf("fast channel = %+v, want delivered", got[1])
	}
}

func TestNotifyWithoutTemplates(t *testing.T) {
	hook := newSlackHook(t)
	n := &notify.Notifier{Channels: []notify.Channel{notify.Slack{URL: hook.url()}}}
	if _, err := n.Notify(context.Background(), report.Example()); err == nil || !strings.Contains(err.Error(), "no templates") {
		t.Errorf("err = %v, want a clear error", err)
	}
	if hook.requests() != 0 {
		t.Errorf("sent %d requests without a report", hook.requests())
	}
}
