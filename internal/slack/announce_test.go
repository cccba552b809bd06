package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/action"
	"github.com/firebreak-sec/firebreak/internal/action/catalog"
	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
	"github.com/firebreak-sec/firebreak/internal/runner"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
	"github.com/firebreak-sec/firebreak/internal/sandbox/sandboxtest"
	"github.com/firebreak-sec/firebreak/internal/secret"
	"github.com/firebreak-sec/firebreak/internal/slack"
)

// announceWorld: dana's key leaks; the responder is Firebreak.
const announceWorld = `
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
`

// approvePlaybook disables the key once a person approves, within the
// default approval timeout (1h: the playbook sets none).
const approvePlaybook = `
name: approve-first
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
    approval:
      required: true
`

// The child process's environment (TestAnnounceCrash).
const (
	envChild    = "FIREBREAK_SLACK_CHILD"
	envDB       = "FIREBREAK_TEST_DB"
	envEndpoint = "FIREBREAK_TEST_ENDPOINT"
	envKey      = "FIREBREAK_TEST_KEY_ID"
	envSecret   = "FIREBREAK_TEST_KEY_SECRET"
	envEvent    = "FIREBREAK_TEST_EVENT"
	envWebhook  = "FIREBREAK_TEST_WEBHOOK"
	envCrash    = "FIREBREAK_TEST_CRASH_ASKED"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// endpointClients reach a sandbox by its URL.
type endpointClients struct {
	endpoint string
	creds    sandbox.Credentials
}

func (c endpointClients) Config(ctx context.Context, t action.Target) (aws.Config, error) {
	region := t.Region
	if region == "" {
		region = "us-east-1"
	}
	return sandbox.ClientConfig(ctx, c.endpoint, c.creds, sandbox.WithRegion(region))
}

// newRunner builds a runner over store that announces to webhook, with
// the sandbox at clients.
func newRunner(ctx context.Context, store ledger.Store, clients endpointClients, webhook string, o runner.Options) (*runner.Runner, error) {
	reg, err := catalog.Registry()
	if err != nil {
		return nil, err
	}
	plan, err := playbook.Compile(reg, "approve.yaml", []byte(approvePlaybook))
	if err != nil {
		return nil, err
	}
	cfg, err := clients.Config(ctx, action.Target{Account: "111111111111"})
	if err != nil {
		return nil, err
	}
	self, err := guardrail.Identify(ctx, cfg)
	if err != nil {
		return nil, err
	}
	guard, err := guardrail.New(guardrail.Config{}, guardrail.Options{Self: []guardrail.Identity{self}, Clients: clients, Ledger: store})
	if err != nil {
		return nil, err
	}
	o.Ledger, o.Plans, o.Guard, o.Clients = store, []*playbook.Plan{plan}, guard, clients
	o.Announcer = &slack.Announcer{Webhook: slack.Webhook{URL: secret.New(webhook)}, Store: store, Registry: reg}
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return runner.New(o)
}

// child is one life of a Firebreak process: it ingests the event when
// told to, runs jobs until the run waits with nothing else to do, and
// kills itself with SIGKILL once the approval request has committed when
// told to.
func child() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := ledger.OpenSQLite(ctx, os.Getenv(envDB), ledger.Options{MigrateRiver: true})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	clients := endpointClients{endpoint: os.Getenv(envEndpoint), creds: sandbox.Credentials{AccessKeyID: os.Getenv(envKey), SecretAccessKey: os.Getenv(envSecret)}}
	crash := os.Getenv(envCrash) == "1"
	r, err := newRunner(ctx, store, clients, os.Getenv(envWebhook), runner.Options{
		Concurrency: 2, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Probe: func(step string, at runner.Point) {
			if crash && at == runner.Asked {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		},
	})
	if err != nil {
		return err
	}
	if path := os.Getenv(envEvent); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := r.Ingest(ctx, data); err != nil {
			return err
		}
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = r.Stop(context.WithoutCancel(ctx)) }()
	// Done when only the run's snoozed job and the approval's expiry are
	// left: every announcement has been made.
	for {
		var open int
		if err := store.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded', 'scheduled')`).Scan(&open); err != nil {
			return err
		}
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d jobs still open: %w", open, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hook stands in for Slack's incoming webhook: it keeps every message.
type hook struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []string
	fail bool // answer 500 (and keep nothing)
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fail {
			http.Error(w, "rollup_error", http.StatusInternalServerError)
			return
		}
		h.msgs = append(h.msgs, string(b))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

func (h *hook) setFail(v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail = v
}

// approvalButtons returns the approve/deny buttons of the approval
// requests among msgs.
func approvalButtons(t *testing.T, msgs []string) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var msg struct {
			Blocks []struct {
				Elements []struct {
					ActionID string `json:"action_id"`
					Value    string `json:"value"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal([]byte(m), &msg); err != nil {
			t.Fatalf("message is not JSON: %v: %s", err, m)
		}
		for _, b := range msg.Blocks {
			for _, e := range b.Elements {
				if e.ActionID != "" {
					out = append(out, e.ActionID+"="+e.Value)
				}
			}
		}
	}
	return out
}

type announceFixture struct {
	sb      *sandbox.Sandbox
	clients endpointClients
	db      string
	store   *ledger.SQLite
	hook    *hook
	event   []byte
}

func newAnnounceFixture(t *testing.T) *announceFixture {
	world, err := sandbox.ParseWorld("world.yaml", []byte(announceWorld))
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.New(t, sandbox.Options{World: world, Seed: 9})
	f := &announceFixture{sb: sb, clients: endpointClients{endpoint: sb.Endpoint(), creds: sandboxtest.Admin(t, sb)}, hook: newHook(t)}
	f.db = filepath.Join(t.TempDir(), "ledger.db")
	f.store, err = ledger.OpenSQLite(context.Background(), f.db, ledger.Options{MigrateRiver: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.store.Close() })
	var key string
	for _, k := range sb.Keys() {
		if k.UserName == "dana" {
			key = k.AccessKeyID
		}
	}
	ev, err := sb.NewFinding(sandbox.Finding{Kind: sandbox.FindingHealthExposedKey, Account: "111111111111", UserName: "dana", AccessKeyID: key})
	if err != nil {
		t.Fatal(err)
	}
	if f.event, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *announceFixture) runner(t *testing.T, o runner.Options) *runner.Runner {
	t.Helper()
	r, err := newRunner(context.Background(), f.store, f.clients, f.hook.URL+"/services/T0/B0/x", o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *announceFixture) incident(t *testing.T) ledger.Report {
	t.Helper()
	incs, err := f.store.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil || len(incs) != 1 {
		t.Fatalf("incidents: %d, %v; want 1", len(incs), err)
	}
	rep, err := f.store.Report(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantOneRequest(t *testing.T, f *announceFixture) {
	t.Helper()
	incidentID := f.incident(t).Incident.ID
	v := slack.Target{IncidentID: incidentID, Step: "disable"}.Value()
	if diff := cmp.Diff(approvalButtons(t, f.hook.messages()), []string{slack.ActionApprove + "=" + v, slack.ActionDeny + "=" + v}); diff != "" {
		t.Errorf("buttons posted (-got +want); want one request's:\n%s", diff)
	}
}

// Passes repeated over a waiting run (as after a crash, or the job's own
// polling) post the approval request exactly once; a post Slack refuses
// is retried until it is accepted.
func TestAnnounceOnceAcrossPasses(t *testing.T) {
	f := newAnnounceFixture(t)
	f.hook.setFail(true)
	r := f.runner(t, runner.Options{Concurrency: 2})
	res, err := r.Ingest(context.Background(), f.event)
	if err != nil || len(res) != 1 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	for i := range 3 {
		p, err := r.Pass(context.Background(), res[0].RunID, res[0].IncidentID)
		if err != nil || p.Status != runner.RunWaiting {
			t.Fatalf("pass %d: %v %v, want waiting; %+v", i, p.Status, err, f.incident(t).Runs[0].Steps)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	time.Sleep(500 * time.Millisecond) // the first try is refused
	f.hook.setFail(false)
	waitFor(t, "the approval request to be posted on a retry", func() bool { return len(f.hook.messages()) > 0 })
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	wantOneRequest(t, f)
	msg := f.hook.messages()[0]
	for _, want := range []string{"iam:UpdateAccessKey on ", "the playbook requires approval", "Expires "} {
		if !strings.Contains(msg, want) {
			t.Errorf("the request lacks %q: %s", want, msg)
		}
	}
	// The decision is still taken, and the run goes on.
	if _, err := runner.Decide(ctx, f.store, runner.Decision{IncidentID: res[0].IncidentID, Step: "disable", Approve: true, By: "bob", Channel: ledger.ChannelCLI, Reason: "go"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the approved step to run", func() bool {
		return f.incident(t).Runs[0].Steps[0].Status == ledger.StepSucceeded
	})
	waitFor(t, "the decision to be posted", func() bool { return len(f.hook.messages()) == 2 })
	if got := f.hook.messages()[1]; !strings.Contains(got, "Approved by bob (cli) at ") {
		t.Errorf("decision message: %s", got)
	}
}

// TestAnnounceCrash kills the process with SIGKILL just after the
// approval request has committed, before it could be posted; the next
// life posts it, once.
func TestAnnounceCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			f := newAnnounceFixture(t)
			eventFile := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(eventFile, f.event, 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{envChild + "=1", envDB + "=" + f.db, envEndpoint + "=" + f.sb.Endpoint(),
				envKey + "=" + f.clients.creds.AccessKeyID, envSecret + "=" + f.clients.creds.SecretAccessKey,
				envWebhook + "=" + f.hook.URL + "/services/T0/B0/x"}
			first := runChild(t, append(env, envEvent+"="+eventFile, fmt.Sprintf("%s=%d", envCrash, map[bool]int{false: 0, true: 1}[crash])))
			if !crash {
				if first != nil {
					t.Fatalf("child: %v", first)
				}
			} else {
				var exit *exec.ExitError
				if !errors.As(first, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("first life: got %v, want killed by SIGKILL", first)
				}
				if n := len(f.hook.messages()); n != 0 {
					t.Logf("the first life posted %d messages before it died", n)
				}
				if err := runChild(t, env); err != nil {
					t.Fatalf("second life: %v", err)
				}
			}
			// A third life finds nothing more to post.
			if err := runChild(t, env); err != nil {
				t.Fatalf("third life: %v", err)
			}
			if got := f.incident(t).Runs[0].Steps[0].Status; got != ledger.StepAwaitingApproval {
				t.Errorf("disable: %s, want awaiting_approval", got)
			}
			wantOneRequest(t, f)
		})
	}
}

func runChild(t *testing.T, env []string) error {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil && testing.Verbose() {
		t.Logf("child output:\n%s", out)
	}
	return err
}

// Nobody decides: at the default deadline (the playbook's one hour, on a
// clock an hour behind) the expiry denies, the step does not run, and
// Slack is told the request expired.
func TestAnnounceExpiry(t *testing.T) {
	f := newAnnounceFixture(t)
	skew := time.Hour - 2*time.Second
	r := f.runner(t, runner.Options{Concurrency: 2, Now: func() time.Time { return time.Now().Add(-skew) }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	start := time.Now()
	if _, err := r.Ingest(ctx, f.event); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the expiry to be posted", func() bool { return len(f.hook.messages()) >= 2 })
	rep := f.incident(t)
	a := rep.Approvals[0]
	if wait := a.Expires.Sub(start.Add(-skew)); wait < time.Hour-time.Second || wait > time.Hour+10*time.Second {
		t.Errorf("the request waits %s, want the default hour", wait)
	}
	if a.Decision != ledger.Deny || a.Channel != ledger.ChannelExpiry {
		t.Errorf("approval: %+v, want denied by the expiry", a)
	}
	waitFor(t, "the step to be denied", func() bool { return f.incident(t).Runs[0].Steps[0].Status == ledger.StepDenied })
	msgs := f.hook.messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1], "Expired: nobody decided on step disable[0]") || !strings.Contains(msgs[1], "on_timeout applied: denied") {
		t.Errorf("messages: %q; want the request, then its expiry", msgs)
	}
	for _, rec := range f.sb.Trail() {
		if rec.EventName == "UpdateAccessKey" && rec.ErrorCode == "" {
			t.Errorf("the expired step disabled the key")
		}
	}
}

func TestFinishedMessage(t *testing.T) {
	inc := exampleStep(false).Incident
	msg, err := slack.FinishedMessage(slack.Finished{
		Incident: inc, StepID: "disable", Action: "aws.iam.disable_access_key", Summary: "Sets the key Inactive.",
		Status: ledger.StepSucceeded, Params: []slack.Param{{Name: "access_key_id", Value: "AKIAIOSFODNN7EXAMPLE"}},
		Outputs: []slack.Param{{Name: "user", Value: "dana"}, {Name: "note", Value: "aws_secret_access_key=" + leakedKey}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(msg)
	if strings.Contains(s, leakedKey) {
		t.Errorf("the message carries the secret access key: %s", s)
	}
	for _, want := range []string{`"Step disable succeeded"`, "*Result:* succeeded", "user=dana", "access_key_id=AKIAIOSFODNN7EXAMPLE"} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, "firebreak_approve") {
		t.Errorf("a finished step's message has buttons: %s", s)
	}
	msg, err = slack.FinishedMessage(slack.Finished{Incident: inc, StepID: "disable", Action: "x", Status: ledger.StepFailed, Error: "AccessDenied: <not allowed>"})
	if err != nil || !strings.Contains(string(msg), "*Result:* failed: AccessDenied: &lt;not allowed&gt;") {
		t.Errorf("failed step: %s %v", msg, err)
	}
	if _, err := slack.FinishedMessage(slack.Finished{Incident: inc, StepID: "disable", Action: "x", Status: ledger.StepRunning}); err == nil {
		t.Errorf("a running step's message: no error")
	}
}

func TestDecisionMessage(t *testing.T) {
	inc := exampleStep(false).Incident
	at := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a    ledger.Approval
		want string
	}{
		{"cli", ledger.Approval{Step: ledger.StepKey{StepID: "disable"}, Decision: ledger.Approve, DecidedBy: "bob", Channel: ledger.ChannelCLI, Decided: at, Reason: "confirmed <leak>"},
			"Approved by bob (cli) at 2026-11-23T01:02:03Z: step disable[0]. Reason: confirmed &lt;leak&gt;"},
		{"expiry", ledger.Approval{Step: ledger.StepKey{StepID: "disable", Item: 2}, Decision: ledger.Deny, DecidedBy: "firebreak", Channel: ledger.ChannelExpiry, Decided: at},
			"Expired: nobody decided on step disable[2] by 2026-11-23T01:02:03Z; on_timeout applied: denied."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := slack.DecisionMessage(inc, tc.a)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Text string }
			if err := json.Unmarshal(msg, &m); err != nil {
				t.Fatal(err)
			}
			if m.Text != tc.want {
				t.Errorf("got %q, want %q", m.Text, tc.want)
			}
		})
	}
	if _, err := slack.DecisionMessage(inc, ledger.Approval{}); err == nil {
		t.Errorf("an undecided approval's decision message: no error")
	}
}

// TestAnnouncer posts what the runner announces about the world's
// waiting step, and nothing where nothing is news.
func TestAnnouncer(t *testing.T) {
	w := newWorld(t)
	h := newHook(t)
	rep, err := w.store.Report(context.Background(), w.incident)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Approvals[0]
	ann := &slack.Announcer{Webhook: slack.Webhook{URL: secret.New(h.URL + "/services/x")}, Store: w.store}
	announce := func(n runner.Announcement) error {
		n.IncidentID, n.Step = w.incident, a.Step
		return ann.Announce(context.Background(), n)
	}
	requested := runner.Announcement{Kind: runner.ApprovalRequested, ApprovalID: a.ID,
		Planned: []action.PlannedCall{{Operation: "iam:UpdateAccessKey", Resource: "AKIAIOSFODNN7EXAMPLE", Detail: "Status=Inactive"}}}

	// Past its expiry, a request is not posted.
	ann.Now = func() time.Time { return a.Expires.Add(time.Second) }
	if err := announce(requested); err != nil || len(h.messages()) != 0 {
		t.Errorf("expired request: %v, posted %d", err, len(h.messages()))
	}
	ann.Now = nil
	h.setFail(true)
	if err := announce(requested); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("Slack refusing: got %v, want the 500", err)
	}
	h.setFail(false)
	if err := announce(requested); err != nil {
		t.Fatal(err)
	}
	if got := h.messages(); len(got) != 1 || !strings.Contains(got[0], "iam:UpdateAccessKey on AKIAIOSFODNN7EXAMPLE (Status=Inactive)") {
		t.Errorf("request: %q, want one with the planned call", got)
	}
	// Not decided yet: nothing to tell.
	if err := announce(runner.Announcement{Kind: runner.ApprovalDecided, ApprovalID: a.ID}); err != nil || len(h.messages()) != 1 {
		t.Errorf("undecided: %v, %d messages", err, len(h.messages()))
	}
	// Decided in Slack: the click replaced the message; nothing more.
	if body := httptestClick(t, w); !strings.Contains(body, "Approved by") {
		t.Fatalf("click: %s", body)
	}
	if err := announce(runner.Announcement{Kind: runner.ApprovalDecided, ApprovalID: a.ID}); err != nil || len(h.messages()) != 1 {
		t.Errorf("decided in Slack: %v, %d messages; want none posted", err, len(h.messages()))
	}
	// A decided request is not posted (again).
	if err := announce(requested); err != nil || len(h.messages()) != 1 {
		t.Errorf("decided request: %v, %d messages", err, len(h.messages()))
	}
	for _, tc := range []struct {
		n       runner.Announcement
		wantErr string
	}{
		{runner.Announcement{Kind: "gossip"}, `unknown kind "gossip"`},
		{runner.Announcement{Kind: runner.ApprovalDecided, ApprovalID: "nope"}, "not found"},
		{runner.Announcement{Kind: runner.ApprovalRequested, ApprovalID: "nope"}, "not found"},
	} {
		if err := announce(tc.n); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: got %v, want %q", tc.n.Kind, err, tc.wantErr)
		}
	}
	// A step's end.
	if err := ann.Announce(context.Background(), runner.Announcement{Kind: runner.StepFinished, IncidentID: w.incident, Step: a.Step, Status: ledger.StepDenied}); err != nil {
		t.Fatal(err)
	}
	if got := h.messages(); len(got) != 2 || !strings.Contains(got[1], "Step disable was denied") || !strings.Contains(got[1], "access_key_id=AKIAIOSFODNN7EXAMPLE") {
		t.Errorf("step end: %q", got)
	}
	if err := ann.Announce(context.Background(), runner.Announcement{Kind: runner.StepFinished, IncidentID: w.incident, Step: ledger.StepKey{RunID: a.Step.RunID, StepID: "ghost"}, Status: ledger.StepSucceeded}); err == nil {
		t.Errorf("the end of an unknown step: no error")
	}
}
