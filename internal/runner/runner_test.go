package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/guardrail"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/sandbox"
)

// containKey disables the leaked key and then says whose it was, from the
// first step's output.
const containKey = `
name: contain-key
trigger:
  source: [aws.health]
dedup: subjects.access_keys[0].id
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
    retry: {attempts: 5, backoff: 10ms}
  - id: tell
    action: core.log
    with:
      message: "disabled a key of ${{ steps.disable.output.user }} (was ${{ steps.disable.output.previous_status }})"
`

func TestIngestDedup(t *testing.T) {
	f := newFixture(t, nil)
	filtered := `
name: only-guardduty
trigger:
  source: [aws.health]
when: finding_type.startsWith("GuardDuty")
steps:
  - id: say
    action: core.log
    with: {message: hi}
`
	broken := `
name: broken-dedup
trigger:
  source: [aws.health]
dedup: subjects.instances[0].id
steps:
  - id: say
    action: core.log
    with: {message: hi}
`
	r := f.runner(Options{}, containKey, filtered, broken)
	dana := f.keys("dana")
	first := f.exposed("dana", dana[0])
	ctx := context.Background()

	type outcome struct {
		Playbook string
		Outcome  Outcome
		Count    int64
		NewRun   bool
	}
	summarise := func(rs []Result) []outcome {
		var out []outcome
		for _, r := range rs {
			out = append(out, outcome{r.Playbook, r.Outcome, r.Count, r.RunID != ""})
		}
		return out
	}
	var incident string
	for _, tc := range []struct {
		name  string
		event []byte
		want  []outcome
	}{
		{"first report opens an incident", first, []outcome{{"broken-dedup", Unevaluable, 0, false}, {"contain-key", NewIncident, 1, true}, {"only-guardduty", Filtered, 0, false}}},
		{"the same event again counts", first, []outcome{{"broken-dedup", Unevaluable, 0, false}, {"contain-key", Duplicate, 2, false}, {"only-guardduty", Filtered, 0, false}}},
		{"another finding on the same key counts", f.exposed("dana", dana[0]), []outcome{{"broken-dedup", Unevaluable, 0, false}, {"contain-key", Duplicate, 3, false}, {"only-guardduty", Filtered, 0, false}}},
		{"another key opens another incident", f.exposed("dana", dana[1]), []outcome{{"broken-dedup", Unevaluable, 0, false}, {"contain-key", NewIncident, 1, true}, {"only-guardduty", Filtered, 0, false}}},
		{"no trigger matches", []byte(`{"version":"0","id":"e1","source":"aws.s3","detail-type":"x","account":"111111111111","region":"us-east-1","time":"2026-01-01T00:00:00Z","resources":[],"detail":{}}`),
			[]outcome{{"", NoMatch, 0, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Ingest(ctx, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(summarise(res), tc.want); diff != "" {
				t.Errorf("results (-got +want):\n%s", diff)
			}
			for _, x := range res {
				switch {
				case x.Outcome == Unevaluable && (x.Err == nil || !strings.Contains(x.Err.Error(), "dedup")):
					t.Errorf("%s: got error %v, want the dedup key's", x.Playbook, x.Err)
				case x.Playbook != "contain-key":
				case incident == "":
					incident = x.IncidentID
				case x.Outcome == Duplicate && x.IncidentID != incident:
					t.Errorf("duplicate counted on incident %s, want %s", x.IncidentID, incident)
				}
			}
		})
	}
	incs, err := f.store.ListIncidents(ctx, ledger.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 2 {
		t.Errorf("incidents: got %d, want 2", len(incs))
	}
}

func TestIngestBadInput(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{}, containKey)
	_, err := r.Ingest(context.Background(), []byte(`{"source": 1`))
	if err == nil {
		t.Fatal("got no error for truncated JSON")
	}
}

// TestRunOnRiver runs a two-step playbook on River workers: the key is
// disabled once, the second step sees the first one's output.
func TestRunOnRiver(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{Concurrency: 2}, containKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	dana := f.keys("dana")
	res := f.ingestOne(r, f.exposed("dana", dana[0]))
	waitFor(t, "the run to finish", 30*time.Second, func() bool { return f.steps(res.IncidentID)["tell[0]"] == "succeeded" })

	if diff := cmp.Diff(f.steps(res.IncidentID), map[string]string{"disable[0]": "succeeded", "tell[0]": "succeeded"}); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	if got := f.calls("UpdateAccessKey"); got != 1 {
		t.Errorf("UpdateAccessKey calls: got %d, want 1", got)
	}
	if got := f.keyStatus(dana[0]); got != "Inactive" {
		t.Errorf("leaked key: got %s, want Inactive", got)
	}
	if got := f.keyStatus(dana[1]); got != "Active" {
		t.Errorf("dana's other key: got %s, want Active", got)
	}
	if !strings.Contains(f.logs.String(), "disabled a key of dana (was Active)") {
		t.Errorf("the log step did not see the first step's output; logs:\n%s", f.logs)
	}
	for _, want := range []string{"incident_id=" + res.IncidentID, "playbook=contain-key", "step=disable", "action=aws.iam.disable_access_key", "account=111111111111"} {
		if !strings.Contains(f.logs.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

func pass(t *testing.T, r *Runner, res Result) PassResult {
	t.Helper()
	out, err := r.Pass(context.Background(), res.RunID, res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWhenAndForEach(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{}, `
name: each
trigger:
  source: [aws.health]
steps:
  - id: each_key
    action: core.log
    for_each: subjects.access_keys
    with:
      message: "key ${{ item.id }}"
  - id: never
    action: aws.iam.disable_access_key
    when: severity > 100.0
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
  - id: after
    action: core.log
    with: {message: done}
`)
	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	got := pass(t, r, res)
	if got.Status != RunSucceeded {
		t.Errorf("run: got %s, want %s", got.Status, RunSucceeded)
	}
	want := map[string]string{"each_key[0]": "succeeded", "never[0]": "skipped", "after[0]": "succeeded"}
	if diff := cmp.Diff(f.steps(res.IncidentID), want); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	if n := f.calls("UpdateAccessKey"); n != 0 {
		t.Errorf("a skipped step called UpdateAccessKey %d times", n)
	}
	// A second pass changes nothing: passes are idempotent.
	if got := pass(t, r, res); got.Status != RunSucceeded {
		t.Errorf("second pass: got %s", got.Status)
	}
	if diff := cmp.Diff(f.steps(res.IncidentID), want); diff != "" {
		t.Errorf("steps after a second pass (-got +want):\n%s", diff)
	}
}

func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fault       sandbox.Fault
		wantStatus  string
		wantAttempt int
		wantCalls   int
	}{
		// Seed 7 throttles the first two calls of three at this ratio.
		{"throttled twice then served", sandbox.Fault{Service: "iam", Operation: "UpdateAccessKey", ThrottleRatio: 0.6}, "succeeded", 3, 1},
		{"throttled every time", sandbox.Fault{Service: "iam", Operation: "UpdateAccessKey", ThrottleRatio: 1}, "failed", 4, 0},
		{"a wrong owner is not retried", sandbox.Fault{}, "failed", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			user := "dana"
			if tc.name == "a wrong owner is not retried" {
				user = "erin" // the key is dana's: a permanent error
			}
			r := f.runner(Options{}, `
name: retry
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
      user: `+user+`
    retry: {attempts: 4, backoff: 5ms}
`)
			res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
			if err := f.sb.SetFaults(7, tc.fault); err != nil {
				t.Fatal(err)
			}
			pass(t, r, res)
			rep, err := f.store.Report(context.Background(), res.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Runs[0].Steps[0]
			if string(s.Status) != tc.wantStatus || s.Attempt != tc.wantAttempt {
				t.Errorf("step: got %s at attempt %d (%s), want %s at attempt %d", s.Status, s.Attempt, s.Error, tc.wantStatus, tc.wantAttempt)
			}
			if got := f.calls("UpdateAccessKey"); got != tc.wantCalls {
				t.Errorf("UpdateAccessKey calls: got %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestCompensate(t *testing.T) {
	f := newFixture(t, nil)
	erin := f.keys("erin")[0] // named as dana's: a permanent error
	r := f.runner(Options{}, `
name: compensate
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: aws.iam.disable_access_key
    with:
      access_key_id: ${{ subjects.access_keys[0].id }}
  - id: also_erin
    action: aws.iam.disable_access_key
    with:
      access_key_id: `+erin+`
      user: dana
    on_error: compensate
  - id: never
    action: core.log
    with: {message: unreachable}
`)
	key := f.keys("dana")[0]
	res := f.ingestOne(r, f.exposed("dana", key))
	got := pass(t, r, res)
	if got.Status != RunCompensated {
		t.Errorf("run: got %s, want %s", got.Status, RunCompensated)
	}
	want := map[string]string{"disable[0]": "compensated", "also_erin[0]": "failed"}
	if diff := cmp.Diff(f.steps(res.IncidentID), want); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	if got := f.calls("UpdateAccessKey"); got != 2 {
		t.Errorf("UpdateAccessKey calls: got %d, want 2 (disable, then revert)", got)
	}
	if got := f.keyStatus(key); got != "Active" {
		t.Errorf("key after compensation: got %s, want Active", got)
	}
}

func TestGuardrailDenial(t *testing.T) {
	f := newFixture(t, nil)
	g := f.guard(guardrail.Config{Protected: guardrail.Protected{Principals: []string{"arn:aws:iam::*:user/dana"}}})
	r := f.runner(Options{Guard: g}, containKey)
	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	if got := pass(t, r, res); got.Status != RunFailed {
		t.Errorf("run: got %s, want %s", got.Status, RunFailed)
	}
	if diff := cmp.Diff(f.steps(res.IncidentID), map[string]string{"disable[0]": "denied"}); diff != "" {
		t.Errorf("steps (-got +want):\n%s", diff)
	}
	rep, err := f.store.Report(context.Background(), res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Guardrails) != 1 || rep.Guardrails[0].Verdict != ledger.VerdictDeny || rep.Guardrails[0].Rule != guardrail.RuleProtectedPrincipal {
		t.Errorf("guardrail decisions: got %+v, want one deny by %s", rep.Guardrails, guardrail.RuleProtectedPrincipal)
	}
	if n := f.calls("UpdateAccessKey"); n != 0 {
		t.Errorf("a denied step called UpdateAccessKey %d times", n)
	}
}

const needsApproval = `
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
      timeout: 1h
`

func TestApproval(t *testing.T) {
	for _, tc := range []struct {
		name       string
		approve    bool
		wantRun    Status
		wantStep   string
		wantCalls  int
		wantReason string
	}{
		{"approved", true, RunSucceeded, "succeeded", 1, "confirmed leak"},
		{"denied", false, RunFailed, "denied", 0, "CI key, rotate instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.runner(Options{}, needsApproval)
			res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
			if got := pass(t, r, res); got.Status != RunWaiting || got.Wait.IsZero() {
				t.Fatalf("first pass: got %s until %v, want waiting with a deadline", got.Status, got.Wait)
			}
			if diff := cmp.Diff(f.steps(res.IncidentID), map[string]string{"disable[0]": "awaiting_approval"}); diff != "" {
				t.Errorf("steps (-got +want):\n%s", diff)
			}
			// Waiting again changes nothing.
			if got := pass(t, r, res); got.Status != RunWaiting {
				t.Errorf("second pass: got %s, want waiting", got.Status)
			}
			a, err := Decide(context.Background(), f.store, Decision{
				IncidentID: res.IncidentID, Step: "disable", Approve: tc.approve, By: "alice", Channel: ledger.ChannelCLI, Reason: tc.wantReason,
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.DecidedBy != "alice" || a.Channel != ledger.ChannelCLI || a.Reason != tc.wantReason {
				t.Errorf("approval: got %+v", a)
			}
			if got := pass(t, r, res); got.Status != tc.wantRun {
				t.Errorf("run: got %s, want %s", got.Status, tc.wantRun)
			}
			if diff := cmp.Diff(f.steps(res.IncidentID), map[string]string{"disable[0]": tc.wantStep}); diff != "" {
				t.Errorf("steps (-got +want):\n%s", diff)
			}
			if got := f.calls("UpdateAccessKey"); got != tc.wantCalls {
				t.Errorf("UpdateAccessKey calls: got %d, want %d", got, tc.wantCalls)
			}
			// A second decision is refused.
			_, err = Decide(context.Background(), f.store, Decision{IncidentID: res.IncidentID, Step: "disable", Approve: true, By: "bob", Channel: ledger.ChannelCLI})
			if !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("second decision: got %v, want ErrNotFound", err)
			}
		})
	}
}

// TestDecideAfterDeadline proves a late answer cannot overrule on_timeout
// in the moment before the expiry job runs: no runner is started here, so
// only the ledger's check, inside Decide's transaction, stands in the way.
func TestDecideAfterDeadline(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{}, strings.Replace(needsApproval, "timeout: 1h", "timeout: 1s\n      on_timeout: deny", 1))
	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	if got := pass(t, r, res); got.Status != RunWaiting {
		t.Fatalf("first pass: got %s, want waiting", got.Status)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err := Decide(context.Background(), f.store, Decision{
		IncidentID: res.IncidentID, Step: "disable", Approve: true, By: "alice", Channel: ledger.ChannelCLI, Reason: "late",
	})
	if !errors.Is(err, ledger.ErrConflict) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("late decision: got %v, want a conflict saying the approval expired", err)
	}
	rep, err := f.store.Report(context.Background(), res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Approvals) != 1 || rep.Approvals[0].Decision != "" {
		t.Errorf("approvals after a late answer: got %+v, want one still undecided", rep.Approvals)
	}
	if got := f.calls("UpdateAccessKey"); got != 0 {
		t.Errorf("UpdateAccessKey calls: got %d, want 0", got)
	}
}

// TestApprovalExpiry lets River apply on_timeout at the deadline.
func TestApprovalExpiry(t *testing.T) {
	for _, tc := range []struct {
		onTimeout string
		wantStep  string
		wantCalls int
	}{
		{"approve", "succeeded", 1},
		{"deny", "denied", 0},
	} {
		t.Run(tc.onTimeout, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.runner(Options{Concurrency: 2}, strings.Replace(needsApproval, "timeout: 1h", "timeout: 1s\n      on_timeout: "+tc.onTimeout, 1))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Stop(context.Background()) }()
			res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
			waitFor(t, "the step to finish", 30*time.Second, func() bool { return finished(ledger.StepStatus(f.steps(res.IncidentID)["disable[0]"])) })
			if got := f.steps(res.IncidentID)["disable[0]"]; got != tc.wantStep {
				t.Errorf("step: got %s, want %s", got, tc.wantStep)
			}
			rep, err := f.store.Report(ctx, res.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Approvals) != 1 || rep.Approvals[0].Channel != ledger.ChannelExpiry || string(rep.Approvals[0].Decision) != tc.onTimeout {
				t.Errorf("approvals: got %+v, want one decided %s by expiry", rep.Approvals, tc.onTimeout)
			}
			if got := f.calls("UpdateAccessKey"); got != tc.wantCalls {
				t.Errorf("UpdateAccessKey calls: got %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

// TestApprovalWakesRun proves a decision resumes a run whose job sleeps
// until an hour-long deadline, at once.
func TestApprovalWakesRun(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{Concurrency: 2}, needsApproval)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	waitFor(t, "the approval request", 30*time.Second, func() bool { return f.steps(res.IncidentID)["disable[0]"] == "awaiting_approval" })
	start := time.Now()
	if _, err := Decide(ctx, f.store, Decision{IncidentID: res.IncidentID, Step: "disable", Approve: true, By: "alice", Channel: ledger.ChannelCLI, Reason: "go"}); err != nil {
		t.Fatal(err)
	}
	// Well before the job's own poll (pollWhileWaiting), whether the
	// decision came while the job slept or while its pass still ran.
	waitFor(t, "the step to run", pollWhileWaiting/3, func() bool { return f.steps(res.IncidentID)["disable[0]"] == "succeeded" })
	t.Logf("resumed %s after the decision", time.Since(start).Round(time.Millisecond))
}

// TestRedrive puts a step in the state a crash leaves it in, running,
// and checks what the next pass does with it.
func TestRedrive(t *testing.T) {
	for _, tc := range []struct {
		name      string
		playbook  string
		wantState string
		wantError string
	}{
		{"idempotent is called again", containKey, "succeeded", ""},
		{"not idempotent is failed", `
name: say
trigger:
  source: [aws.health]
steps:
  - id: disable
    action: core.log
    with: {message: once}
`, "failed", "interrupted; not idempotent, not retried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.runner(Options{}, tc.playbook)
			res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
			ctx := context.Background()
			key := ledger.StepKey{RunID: res.RunID, StepID: "disable"}
			err := f.store.Update(ctx, func(tx ledger.Tx) error {
				if _, err := tx.EnsureStep(ctx, key, "x", nil); err != nil {
					return err
				}
				_, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			pass(t, r, res)
			rep, err := f.store.Report(ctx, res.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Runs[0].Steps[0]
			if string(s.Status) != tc.wantState || s.Error != tc.wantError || s.Attempt != 2 && tc.wantState == "succeeded" {
				t.Errorf("step: got %s (%q) at attempt %d, want %s (%q)", s.Status, s.Error, s.Attempt, tc.wantState, tc.wantError)
			}
		})
	}
}

// TestTimeout bounds each try by the step's timeout; a try that runs out
// is retried when the action is idempotent, and the step fails at last.
func TestTimeout(t *testing.T) {
	f := newFixture(t, nil)
	r := f.runner(Options{}, `
name: slow
trigger:
  source: [aws.health]
steps:
  - id: wait
    action: core.wait
    with: {duration: 1m}
    timeout: 50ms
    retry: {attempts: 2, backoff: 10ms}
`)
	res := f.ingestOne(r, f.exposed("dana", f.keys("dana")[0]))
	if got := pass(t, r, res); got.Status != RunFailed {
		t.Errorf("run: got %s, want %s", got.Status, RunFailed)
	}
	rep, err := f.store.Report(context.Background(), res.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Runs[0].Steps[0]
	if s.Status != ledger.StepFailed || s.Attempt != 2 || !strings.Contains(s.Error, "deadline exceeded") {
		t.Errorf("step: got %s at attempt %d (%q), want failed at attempt 2 by the deadline", s.Status, s.Attempt, s.Error)
	}
}

// TestReportOnceWhenRunEnds proves Options.Report is called once for a run
// that ended, after its steps are in the ledger, and not while a run waits.
func TestReportOnceWhenRunEnds(t *testing.T) {
	f := newFixture(t, nil)
	var mu sync.Mutex
	reported := map[string]int{}
	var stepsAtReport map[string]string
	report := func(_ context.Context, incidentID, runID string) error {
		mu.Lock()
		defer mu.Unlock()
		reported[incidentID+"/"+runID]++
		stepsAtReport = f.steps(incidentID)
		return nil
	}
	r := f.runner(Options{Concurrency: 2, Report: report}, containKey, strings.Replace(needsApproval, "name: ", "name: waits-", 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()

	results, err := r.Ingest(ctx, f.exposed("dana", f.keys("dana")[0]))
	if err != nil {
		t.Fatal(err)
	}
	var waitingIncident string
	for _, res := range results {
		if res.Outcome != NewIncident {
			t.Fatalf("ingest: %s; want a new incident per playbook", res)
		}
		if strings.HasPrefix(res.Playbook, "waits-") {
			waitingIncident = res.IncidentID
		}
	}
	if len(results) != 2 || waitingIncident == "" {
		t.Fatalf("ingest results: %v; want one run per playbook", results)
	}
	waitFor(t, "the other run to wait for approval", 30*time.Second, func() bool {
		return f.steps(waitingIncident)["disable[0]"] == "awaiting_approval"
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, c := range reported {
			n += c
		}
		return n
	}
	waitFor(t, "the report of the run that ended", 30*time.Second, func() bool { return count() >= 1 })
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 {
		t.Fatalf("reported runs: %v; want exactly one (the waiting run is not reported)", reported)
	}
	for k, n := range reported {
		if n != 1 {
			t.Errorf("run %s reported %d times, want once", k, n)
		}
	}
	if diff := cmp.Diff(stepsAtReport, map[string]string{"disable[0]": "succeeded", "tell[0]": "succeeded"}); diff != "" {
		t.Errorf("steps when reported (-got +want):\n%s", diff)
	}
}
