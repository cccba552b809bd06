package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/app"
	"github.com/firebreak-sec/firebreak/internal/config"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

// slackWorld: dana's key leaks; the responder is Firebreak.
const slackWorld = `
accounts:
  - id: "111111111111"
    regions: [us-east-1]
    users:
      - name: responder
        admin: true
        managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess]
        keys: [{}]
      - name: dana
        keys: [{}]
      - name: erin
        keys: [{}]
`

// slackPlaybook notes the leak, then disables the key once a person says
// so; NOTE_ANNOUNCE is the note step's announce.
const slackPlaybook = `
name: slack-approve
trigger:
  source: [aws.health]
steps:
  - id: note
    action: core.log
    with:
      message: "key ${{ subjects.access_keys[0].id }} exposed"
    announce: NOTE_ANNOUNCE
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
    approval:
      required: true
`

const (
	flowSecret   = "e3b0c44298fc1c149afbf4c8996fb924"
	flowApprover = "U024BE7LH"
)

// slackServer stands in for Slack: the incoming webhook (/services/…),
// recording each message, and response URLs (/actions/…).
type slackServer struct {
	*httptest.Server
	mu        sync.Mutex
	posted    []map[string]any
	responses int
}

func newSlackServer(t *testing.T) *slackServer {
	s := &slackServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("slack got a body that is not JSON: %q", b)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/actions/") {
			s.responses++
		} else {
			s.posted = append(s.posted, m)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

// messages returns the text of every message posted, in order.
func (s *slackServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.posted {
		t, _ := m["text"].(string)
		out = append(out, t)
	}
	return out
}

// buttons returns action_id=value of every button of every message.
func (s *slackServer) buttons() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.posted {
		b, _ := json.Marshal(m)
		var msg struct {
			Blocks []struct {
				Elements []struct {
					ActionID string `json:"action_id"`
					Value    string `json:"value"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		_ = json.Unmarshal(b, &msg)
		for _, bl := range msg.Blocks {
			for _, e := range bl.Elements {
				if e.ActionID != "" {
					out = append(out, e.ActionID+"="+e.Value)
				}
			}
		}
	}
	return out
}

func (s *slackServer) raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(s.posted)
	return string(b)
}

type slackFlow struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	store  ledger.Store
	app    *app.App
	slack  *slackServer
	key    string
	result runner.Result
}

// startSlackFlow runs the whole app against the sandbox with Slack
// configured (notify.slack.steps: steps) and ingests dana's leak.
func startSlackFlow(t *testing.T, steps string, noteAnnounce bool) *slackFlow {
	world, err := sandbox.ParseWorld("world.yaml", []byte(slackWorld))
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{World: world, Seed: 8})
	awsCfg := sandboxtest.Config(t, sb, sandboxtest.Admin(t, sb))
	store := ledgertest.SQLite()(t, ledger.Options{})
	srv := newSlackServer(t)
	cfg := &config.Config{
		AWS: config.AWS{Region: "us-east-1"},
		Notify: config.Notify{Slack: &config.Slack{
			WebhookURL: secret.New(srv.URL + "/services/T0/B0/XXXXSECRETPATH"), SigningSecret: secret.New(flowSecret),
			Approvers: []string{flowApprover}, Steps: steps,
		}},
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, AWS: awsCfg, Ledger: store, Plans: compile(t, strings.Replace(slackPlaybook, "NOTE_ANNOUNCE", strconv.FormatBool(noteAnnounce), 1)), Sources: []app.Source{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	f := &slackFlow{t: t, sb: sb, store: store, app: a, slack: srv}
	for _, k := range sb.Keys() {
		if k.UserName == "dana" {
			f.key = k.AccessKeyID
		}
	}
	ev, err := sb.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, Account: "111111111111", UserName: "dana", AccessKeyID: f.key})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Runner().Ingest(ctx, raw)
	if err != nil || len(res) != 1 || res[0].Outcome != runner.NewIncident {
		t.Fatalf("ingest: %v %v", res, err)
	}
	f.result = res[0]
	return f
}

func (f *slackFlow) step(id string) ledger.StepStatus {
	rep, err := f.store.Report(context.Background(), f.result.IncidentID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rep.Runs {
		for _, s := range r.Steps {
			if s.StepID == id {
				return s.Status
			}
		}
	}
	return ""
}

func (f *slackFlow) calls(op string) int {
	n := 0
	for _, r := range f.sb.Trail() {
		if r.EventName == op && r.ErrorCode == "" {
			n++
		}
	}
	return n
}

// click posts a Slack button click, signed with key at ts, to the app's
// interactivity URL.
func (f *slackFlow) click(user, actionID, key string, ts time.Time, tamper bool) *httptest.ResponseRecorder {
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": "alice"}, "team": map[string]any{"id": "T0"},
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "firebreak_decide", "type": "button",
			"value": slack.Target{IncidentID: f.result.IncidentID, Step: "disable"}.Value()}},
	}
	b, _ := json.Marshal(p)
	body := []byte("payload=" + url.QueryEscape(string(b)))
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := slack.SignatureHeader(secret.New(key), stamp, body)
	if tamper {
		body = bytes.Replace(body, []byte(flowApprover), []byte("U0TAMPERED"), 1)
		body = bytes.Replace(body, []byte("firebreak_deny"), []byte("firebreak_approve"), 1)
	}
	req := httptest.NewRequest(http.MethodPost, app.SlackInteractivityPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(slack.HeaderTimestamp, stamp)
	req.Header.Set(slack.HeaderSignature, sig)
	rec := httptest.NewRecorder()
	f.app.Handler().ServeHTTP(rec, req)
	return rec
}

// The approval request reaches Slack once, with Approve and Deny buttons
// for the step and the AWS calls the step would make; forged, replayed
// and unauthorised clicks decide nothing; the approver's click runs the
// step, and with steps: all each step's end is posted too.
func TestSlackApprovalFlow(t *testing.T) {
	f := startSlackFlow(t, config.SlackStepsAll, false)
	waitUntil(t, "the approval request in Slack", func() bool { return len(f.slack.buttons()) > 0 })
	if got := f.step("disable"); got != ledger.StepAwaitingApproval {
		t.Fatalf("disable: %s, want awaiting_approval", got)
	}
	value := slack.Target{IncidentID: f.result.IncidentID, Step: "disable"}.Value()
	if diff := cmp.Diff(f.slack.buttons(), []string{slack.ActionApprove + "=" + value, slack.ActionDeny + "=" + value}); diff != "" {
		t.Errorf("buttons (-got +want):\n%s", diff)
	}
	raw := f.slack.raw()
	for _, want := range []string{"iam:UpdateAccessKey on " + f.key, "Status=Inactive", "output of step note", "Expires "} {
		if !strings.Contains(raw, want) {
			t.Errorf("the approval message lacks %q: %s", want, raw)
		}
	}

	now := time.Now()
	for _, tc := range []struct {
		name     string
		rec      *httptest.ResponseRecorder
		wantCode int
	}{
		{"tampered body", f.click(flowApprover, slack.ActionDeny, flowSecret, now, true), http.StatusUnauthorized},
		{"replayed (6 minutes old)", f.click(flowApprover, slack.ActionApprove, flowSecret, now.Add(-6*time.Minute), false), http.StatusUnauthorized},
		{"wrong secret", f.click(flowApprover, slack.ActionApprove, "not-the-signing-secret", now, false), http.StatusUnauthorized},
		{"not an approver", f.click("U0STRANGER", slack.ActionApprove, flowSecret, now, false), http.StatusForbidden},
	} {
		if tc.rec.Code != tc.wantCode {
			t.Errorf("%s: status %d (%s), want %d", tc.name, tc.rec.Code, tc.rec.Body, tc.wantCode)
		}
	}
	time.Sleep(200 * time.Millisecond) // room for a wrongly accepted click to act
	if got := f.step("disable"); got != ledger.StepAwaitingApproval || f.calls("UpdateAccessKey") != 0 {
		t.Fatalf("after refused clicks: disable %s with %d UpdateAccessKey calls; want still waiting, none", got, f.calls("UpdateAccessKey"))
	}

	rec := f.click(flowApprover, slack.ActionApprove, flowSecret, time.Now(), false)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Approved by") {
		t.Fatalf("approver's click: %d %s", rec.Code, rec.Body)
	}
	waitUntil(t, "the approved step to run", func() bool { return f.step("disable") == ledger.StepSucceeded })
	if got := f.calls("UpdateAccessKey"); got != 1 {
		t.Errorf("UpdateAccessKey calls: %d, want 1", got)
	}
	// The same click again (a replay inside the window) records nothing.
	if rec := f.click(flowApprover, slack.ActionDeny, flowSecret, time.Now(), false); !strings.Contains(rec.Body.String(), "no approval waiting") {
		t.Errorf("second click: %d %s, want no approval waiting", rec.Code, rec.Body)
	}
	rep, err := f.store.Report(context.Background(), f.result.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Approvals) != 1 || rep.Approvals[0].DecidedBy != "alice ("+flowApprover+")" || rep.Approvals[0].Channel != ledger.ChannelSlack || rep.Approvals[0].Decided.IsZero() {
		t.Errorf("approvals: %+v, want one decided in Slack by alice", rep.Approvals)
	}
	waitUntil(t, "the step messages and the report", func() bool { return len(f.slack.messages()) >= 3 })
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show
	var heads []string
	for _, m := range f.slack.messages() {
		head, _, _ := strings.Cut(m, " (")
		heads = append(heads, head)
	}
	slices.Sort(heads) // each is its own job: the order may vary
	// The decision made in Slack is shown by replacing the request
	// (response_url), not by a new message; note's end is not posted
	// (announce: false). The run's end sends the incident report (notify)
	// to the same channel.
	want := []string{"Firebreak asks: approve disable?", "Step disable succeeded", "critical: AWS_RISK_CREDENTIALS_EXPOSED"}
	if diff := cmp.Diff(heads, want); diff != "" {
		t.Errorf("messages (-got +want):\n%s", diff)
	}
	if strings.Contains(f.slack.raw(), "XXXXSECRETPATH") {
		t.Errorf("a message carries the webhook URL")
	}
	for _, k := range f.sb.Keys() {
		if c, err := f.sb.KeyCredentials(k.AccessKeyID); err == nil && c.SecretAccessKey != "" && strings.Contains(f.slack.raw(), c.SecretAccessKey) {
			t.Errorf("a message carries the secret of %s", k.AccessKeyID)
		}
	}
}

// A decision taken with firebreak deny (runner.Decide, the CLI's path)
// is posted to Slack with who decided and when; with the default steps
// (approvals) only the step that says announce: true has its end posted.
func TestSlackCLIDecisionPosted(t *testing.T) {
	f := startSlackFlow(t, "", true)
	waitUntil(t, "the approval request in Slack", func() bool { return len(f.slack.buttons()) > 0 })
	if _, err := runner.Decide(context.Background(), f.store, runner.Decision{
		IncidentID: f.result.IncidentID, Step: "disable", Approve: false, By: "bob", Channel: ledger.ChannelCLI, Reason: "CI key, rotate instead",
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the decision and the report in Slack", func() bool { return len(f.slack.messages()) >= 4 })
	time.Sleep(300 * time.Millisecond)
	msgs := f.slack.messages()
	// note's end and the request (in either order), then (in either
	// order) the CLI's denial and the incident report the run's end sends.
	var heads []string
	for _, m := range msgs[:min(2, len(msgs))] {
		head, _, _ := strings.Cut(m, " (")
		heads = append(heads, head)
	}
	slices.Sort(heads)
	if len(msgs) != 4 || !slices.Equal(heads, []string{"Firebreak asks: approve disable?", "Step note succeeded"}) {
		t.Fatalf("messages: %q; want note's end, the request, the CLI's denial and the report", msgs)
	}
	denial := slices.IndexFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "Denied by bob (cli) at ") })
	if denial < 0 || !strings.Contains(msgs[denial], "CI key, rotate instead") {
		t.Errorf("messages: %q; want the CLI's denial with its reason", msgs)
	}
	if got := f.step("disable"); got != ledger.StepDenied || f.calls("UpdateAccessKey") != 0 {
		t.Errorf("disable: %s with %d UpdateAccessKey calls; want denied, none", got, f.calls("UpdateAccessKey"))
	}
}

// With steps: none nothing is posted while the run goes on, whatever
// the steps' announce says.
func TestSlackStepsNone(t *testing.T) {
	f := startSlackFlow(t, config.SlackStepsNone, true)
	waitUntil(t, "the step to wait", func() bool { return f.step("disable") == ledger.StepAwaitingApproval })
	time.Sleep(500 * time.Millisecond)
	if got := f.slack.messages(); len(got) != 0 {
		t.Errorf("posted %q with steps: none", got)
	}
}
