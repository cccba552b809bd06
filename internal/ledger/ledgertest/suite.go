package ledgertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/secret"
)

// Run is the behavioural suite every ledger.Store implementation must
// pass, like River's riverdrivertest.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"RecordFindingDedup", testRecordFindingDedup},
		{"RecordFindingInvalid", testRecordFindingInvalid},
		{"RecordFindingConcurrent", testRecordFindingConcurrent},
		{"IncidentStatus", testIncidentStatus},
		{"StepTransitions", testStepTransitions},
		{"StepTransitionConcurrent", testStepTransitionConcurrent},
		{"Approvals", testApprovals},
		{"GuardrailsAndEvidence", testGuardrailsAndEvidence},
		{"BudgetConcurrent", testBudgetConcurrent},
		{"BudgetLimits", testBudgetLimits},
		{"Redaction", testRedaction},
		{"ListAndSeenBefore", testListAndSeenBefore},
		{"AuditChain", testAuditChain},
		{"AuditTamper", testAuditTamper},
		{"AuditConcurrent", testAuditConcurrent},
		{"RollbackLeavesNothing", testRollback},
		{"RiverJobInSameTx", testRiverJobInSameTx},
		{"Quarantine", testQuarantine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func clockAt(ts time.Time) (*fixedClock, ledger.Options) {
	c := &fixedClock{t: ts}
	return c, ledger.Options{Now: c.now}
}

func finding(key string, seen time.Time, subs ...ledger.Subject) ledger.Finding {
	return ledger.Finding{
		DedupKey:      key,
		Playbook:      "exposed-key",
		Source:        "aws.health",
		FindingType:   "AWS_RISK_CREDENTIALS_EXPOSED",
		Title:         "Access key exposed: " + key,
		Severity:      8,
		SeverityLabel: "high",
		Account:       "123456789012",
		Region:        "us-east-1",
		Seen:          seen,
		Subjects:      subs,
		Event:         json.RawMessage(`{"id":"` + key + `","detail":{"n":1}}`),
	}
}

func sub(kind ledger.SubjectKind, v string) ledger.Subject {
	return ledger.Subject{Kind: kind, Value: v}
}

// record records f in its own transaction.
func record(t *testing.T, s ledger.Store, f ledger.Finding) (ledger.Incident, bool) {
	t.Helper()
	var inc ledger.Incident
	var isNew bool
	err := s.Update(t.Context(), func(tx ledger.Tx) error {
		var err error
		inc, isNew, err = tx.RecordFinding(t.Context(), f)
		return err
	})
	if err != nil {
		t.Fatalf("RecordFinding(%s): %v", f.DedupKey, err)
	}
	return inc, isNew
}

func update(t *testing.T, s ledger.Store, fn func(ledger.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func verifyIntact(t *testing.T, s ledger.Store) ledger.Verification {
	t.Helper()
	v, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Broken != nil {
		t.Fatalf("Verify: chain broken: %+v", *v.Broken)
	}
	return v
}

func testRecordFindingDedup(t *testing.T, open Opener) {
	ctx := context.Background()
	clock, opts := clockAt(t0)
	s := open(t, opts)

	key := sub(ledger.SubjectAccessKey, "AKIAIOSFODNN7EXAMPLE")
	user := sub(ledger.SubjectUser, "alice")
	ip := sub(ledger.SubjectIP, "198.51.100.7")

	first, isNew := record(t, s, finding("k1", t0, key, user, key))
	if !isNew || first.Count != 1 {
		t.Fatalf("first finding: new=%v count=%d; want new with count 1", isNew, first.Count)
	}
	clock.t = t0.Add(time.Minute)
	later := finding("k1", t0.Add(time.Hour), ip)
	later.Event = json.RawMessage(`{"id":"k1-again"}`)
	second, isNew := record(t, s, later)
	if isNew {
		t.Fatalf("repeat created a new incident %s", second.ID)
	}
	want := first
	want.Count = 2
	want.LastSeen = t0.Add(time.Hour)
	want.Subjects = []ledger.Subject{key, ip, user}
	if diff := cmp.Diff(second, want); diff != "" {
		t.Errorf("after repeat (-got +want):\n%s", diff)
	}
	if first.Status != ledger.StatusOpen || !first.FirstSeen.Equal(t0) {
		t.Errorf("first incident: status %s first seen %s; want open at %s", first.Status, first.FirstSeen, t0)
	}

	// An out-of-order earlier repeat moves first seen back, not last seen.
	third, _ := record(t, s, finding("k1", t0.Add(-time.Hour)))
	if !third.FirstSeen.Equal(t0.Add(-time.Hour)) || !third.LastSeen.Equal(t0.Add(time.Hour)) || third.Count != 3 {
		t.Errorf("after earlier repeat: first %s last %s count %d", third.FirstSeen, third.LastSeen, third.Count)
	}

	r, err := s.Report(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.Incident.FirstEvent), `{"id":"k1","detail":{"n":1}}`; got != want {
		t.Errorf("first event = %s, want %s (verbatim)", got, want)
	}
	if got, want := string(r.Incident.LatestEvent), `{"id":"k1-again"}`; got != want {
		t.Errorf("latest event = %s, want %s", got, want)
	}

	other, isNew := record(t, s, finding("k2", t0))
	if !isNew || other.ID == first.ID {
		t.Errorf("a different dedup key joined incident %s", first.ID)
	}
	if other.ID <= first.ID {
		t.Errorf("ids are not time-ordered: %s then %s", first.ID, other.ID)
	}
	verifyIntact(t, s)
}

func testRecordFindingInvalid(t *testing.T, open Opener) {
	s := open(t, ledger.Options{})
	tests := []struct {
		name   string
		change func(*ledger.Finding)
		want   string
	}{
		{"no dedup key", func(f *ledger.Finding) { f.DedupKey = "" }, "finding.dedup_key: required"},
		{"severity above 10", func(f *ledger.Finding) { f.Severity = 11 }, "finding.severity: 11 is outside 0 to 10"},
		{"negative severity", func(f *ledger.Finding) { f.Severity = -1 }, "finding.severity: -1 is outside 0 to 10"},
		{"unknown subject kind", func(f *ledger.Finding) { f.Subjects = []ledger.Subject{sub("user", "a"), sub("planet", "mars")} }, `finding.subjects[1].kind: unknown kind "planet"`},
		{"empty subject value", func(f *ledger.Finding) { f.Subjects = []ledger.Subject{sub("ip", "")} }, "finding.subjects[0].value: required"},
		{"event not JSON", func(f *ledger.Finding) { f.Event = json.RawMessage(`{"id":`) }, "finding.event: not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := finding("bad", t0)
			tt.change(&f)
			err := s.Update(context.Background(), func(tx ledger.Tx) error {
				_, _, err := tx.RecordFinding(context.Background(), f)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ledger.ErrInvalid) {
				t.Errorf("error = %v; want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
	list, err := s.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil || len(list) != 0 {
		t.Errorf("invalid findings left %d incidents (err %v)", len(list), err)
	}
}

func testRecordFindingConcurrent(t *testing.T, open Opener) {
	const n = 25
	s := open(t, ledger.Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	news, ids := 0, map[string]bool{}
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx ledger.Tx) error {
				inc, isNew, err := tx.RecordFinding(context.Background(), finding("same", t0.Add(time.Duration(i)*time.Second), sub(ledger.SubjectInstance, fmt.Sprintf("i-%02d", i))))
				if err == nil {
					mu.Lock()
					defer mu.Unlock()
					ids[inc.ID] = true
					if isNew {
						news++
					}
				}
				return err
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent RecordFinding: %v", err)
		}
	}
	list, err := s.ListIncidents(context.Background(), ledger.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || news != 1 || len(ids) != 1 {
		t.Fatalf("%d concurrent identical findings: %d incidents, %d reported new, %d ids; want 1, 1, 1", n, len(list), news, len(ids))
	}
	if got := list[0]; got.Count != n || len(got.Subjects) != n || !got.LastSeen.Equal(t0.Add((n-1)*time.Second)) {
		t.Errorf("incident count %d, %d subjects, last seen %s; want %d, %d, %s", got.Count, len(got.Subjects), got.LastSeen, n, n, t0.Add((n-1)*time.Second))
	}
	if v := verifyIntact(t, s); v.Entries != n {
		t.Errorf("audit entries = %d, want %d", v.Entries, n)
	}
}

func testIncidentStatus(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	inc, _ := record(t, s, finding("k", t0))
	setStatus := func(from, to ledger.IncidentStatus) error {
		return s.Update(ctx, func(tx ledger.Tx) error { return tx.SetIncidentStatus(ctx, inc.ID, from, to, "operator said so") })
	}
	if err := setStatus(ledger.StatusOpen, ledger.StatusContained); err != nil {
		t.Fatal(err)
	}
	if err := setStatus(ledger.StatusOpen, ledger.StatusResolved); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("stale from-status: error %v, want ErrConflict", err)
	}
	if err := setStatus(ledger.StatusContained, "gone"); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("unknown status: error %v, want ErrInvalid", err)
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		return tx.SetIncidentStatus(ctx, "no-such-incident", ledger.StatusOpen, ledger.StatusResolved, "")
	}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown incident: error %v, want ErrNotFound", err)
	}
	if err := setStatus(ledger.StatusContained, ledger.StatusResolved); err != nil {
		t.Fatal(err)
	}
	// Once resolved, the same finding opens a new incident, which has
	// seen the old one before.
	again, isNew := record(t, s, finding("k", t0.Add(24*time.Hour)))
	if !isNew || again.ID == inc.ID {
		t.Fatalf("finding after resolution joined the resolved incident")
	}
	r, err := s.Report(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Incident.Status != ledger.StatusResolved {
		t.Errorf("status = %s, want resolved", r.Incident.Status)
	}
}

// newRun records an incident and a run for it.
func newRun(t *testing.T, s ledger.Store, key string) (ledger.Incident, ledger.Run) {
	t.Helper()
	inc, _ := record(t, s, finding(key, t0, sub(ledger.SubjectAccessKey, "AKIA"+key)))
	var run ledger.Run
	update(t, s, func(tx ledger.Tx) error {
		var err error
		run, err = tx.EnsureRun(context.Background(), inc.ID, "exposed-key")
		return err
	})
	return inc, run
}

func testStepTransitions(t *testing.T, open Opener) {
	ctx := context.Background()
	clock, opts := clockAt(t0)
	s := open(t, opts)
	inc, run := newRun(t, s, "steps")

	var again ledger.Run
	update(t, s, func(tx ledger.Tx) error {
		var err error
		again, err = tx.EnsureRun(ctx, inc.ID, "exposed-key")
		return err
	})
	if again.ID != run.ID {
		t.Errorf("EnsureRun made a second run %s for the same playbook (first %s)", again.ID, run.ID)
	}

	key := ledger.StepKey{RunID: run.ID, StepID: "disable_key", Item: 2}
	var step ledger.Step
	update(t, s, func(tx ledger.Tx) error {
		var err error
		step, err = tx.EnsureStep(ctx, key, "aws.iam.disable_access_key", map[string]any{"access_key_id": "AKIAsteps"})
		return err
	})
	if step.Status != ledger.StepPending || step.Attempt != 0 || step.IdempotencyKey == "" || step.IncidentID != inc.ID {
		t.Fatalf("new step = %+v; want pending, attempt 0, an idempotency key, incident %s", step, inc.ID)
	}
	if got, want := string(step.Params), `{"access_key_id":"AKIAsteps"}`; got != want {
		t.Errorf("params = %s, want %s", got, want)
	}
	var same ledger.Step
	update(t, s, func(tx ledger.Tx) error {
		var err error
		same, err = tx.EnsureStep(ctx, key, "aws.iam.disable_access_key", map[string]any{"access_key_id": "other"})
		return err
	})
	if diff := cmp.Diff(same, step); diff != "" {
		t.Errorf("EnsureStep of an existing step changed it (-got +want):\n%s", diff)
	}

	transition := func(from, to ledger.StepStatus, attempt int, output any, msg string) (ledger.Step, error) {
		var st ledger.Step
		err := s.Update(ctx, func(tx ledger.Tx) error {
			var err error
			st, err = tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: from, To: to, Attempt: attempt, Output: output, Error: msg})
			return err
		})
		return st, err
	}
	steps := []struct {
		name        string
		from, to    ledger.StepStatus
		attempt     int
		output      any
		errMsg      string
		wantErr     error
		wantAttempt int
	}{
		{"pending to awaiting approval", ledger.StepPending, ledger.StepAwaitingApproval, 0, nil, "", nil, 0},
		{"replayed transition conflicts", ledger.StepPending, ledger.StepAwaitingApproval, 0, nil, "", ledger.ErrConflict, 0},
		{"approved, running", ledger.StepAwaitingApproval, ledger.StepRunning, 0, nil, "", nil, 1},
		{"crash re-drive with stale attempt conflicts", ledger.StepRunning, ledger.StepRunning, 0, nil, "", ledger.ErrConflict, 0},
		{"crash re-drive is attempt 2", ledger.StepRunning, ledger.StepRunning, 1, nil, "", nil, 2},
		{"fails", ledger.StepRunning, ledger.StepFailed, 2, nil, "throttled", nil, 2},
		{"retry is attempt 3", ledger.StepFailed, ledger.StepRunning, 2, nil, "", nil, 3},
		{"succeeds with output", ledger.StepRunning, ledger.StepSucceeded, 3, map[string]string{"status": "Inactive"}, "", nil, 3},
		{"succeeded cannot run again", ledger.StepSucceeded, ledger.StepRunning, 3, nil, "", ledger.ErrInvalid, 0},
		{"compensated", ledger.StepSucceeded, ledger.StepCompensated, 3, nil, "", nil, 3},
		{"compensated is final", ledger.StepCompensated, ledger.StepRunning, 3, nil, "", ledger.ErrInvalid, 0},
	}
	for _, st := range steps {
		clock.t = clock.t.Add(time.Second)
		got, err := transition(st.from, st.to, st.attempt, st.output, st.errMsg)
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Errorf("%s: error %v, want %v", st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Status != st.to || got.Attempt != st.wantAttempt || got.Error != st.errMsg {
			t.Errorf("%s: got %s attempt %d error %q; want %s attempt %d error %q", st.name, got.Status, got.Attempt, got.Error, st.to, st.wantAttempt, st.errMsg)
		}
	}
	r, err := s.Report(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 1 || len(r.Runs[0].Steps) != 1 {
		t.Fatalf("report runs = %+v; want one run with one step", r.Runs)
	}
	got := r.Runs[0].Steps[0]
	if got.Status != ledger.StepCompensated || got.Attempt != 3 || string(got.Output) != `{"status":"Inactive"}` || got.Finished.IsZero() || got.Started.IsZero() {
		t.Errorf("final step = %+v", got)
	}
	if _, err := transition(ledger.StepPending, ledger.StepRunning, 0, nil, ""); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("transition from a status the step left: %v, want ErrConflict", err)
	}
	err = s.Update(ctx, func(tx ledger.Tx) error {
		_, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: ledger.StepKey{RunID: run.ID, StepID: "nope"}, From: ledger.StepPending, To: ledger.StepRunning})
		return err
	})
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown step: %v, want ErrNotFound", err)
	}
	verifyIntact(t, s)
}

func testStepTransitionConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	_, run := newRun(t, s, "race")
	key := ledger.StepKey{RunID: run.ID, StepID: "isolate"}
	update(t, s, func(tx ledger.Tx) error {
		_, err := tx.EnsureStep(ctx, key, "aws.ec2.isolate_instance", nil)
		return err
	})
	const workers = 10
	var wg sync.WaitGroup
	results := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- s.Update(ctx, func(tx ledger.Tx) error {
				_, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning})
				return err
			})
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrConflict):
			t.Errorf("losing worker: %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d workers moved the step to running, want exactly 1", won)
	}
}

func testApprovals(t *testing.T, open Opener) {
	ctx := context.Background()
	clock, opts := clockAt(t0)
	s := open(t, opts)
	inc, run := newRun(t, s, "appr")
	step := ledger.StepKey{RunID: run.ID, StepID: "delete_key"}
	request := func(expires time.Time) ledger.Approval {
		var a ledger.Approval
		err := s.Update(ctx, func(tx ledger.Tx) error {
			var err error
			a, err = tx.RequestApproval(ctx, ledger.ApprovalRequest{IncidentID: inc.ID, Step: step, RequestedBy: "playbook exposed-key", What: "delete access key AKIAappr", Why: "severity high", Expires: expires})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	decide := func(id string, d ledger.Decision, ch ledger.Channel) (ledger.Approval, error) {
		var a ledger.Approval
		err := s.Update(ctx, func(tx ledger.Tx) error {
			var err error
			a, err = tx.DecideApproval(ctx, ledger.ApprovalDecision{ApprovalID: id, Decision: d, By: "bob", Channel: ch, Reason: "key is unused"})
			return err
		})
		return a, err
	}

	a := request(t0.Add(time.Hour))
	clock.t = t0.Add(time.Minute)
	got, err := decide(a.ID, ledger.Approve, ledger.ChannelSlack)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Decision, want.DecidedBy, want.Decided, want.Channel, want.Reason = ledger.Approve, "bob", t0.Add(time.Minute), ledger.ChannelSlack, "key is unused"
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("decided approval (-got +want):\n%s", diff)
	}
	if _, err := decide(a.ID, ledger.Deny, ledger.ChannelCLI); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("second decision: %v, want ErrConflict", err)
	}

	late := request(t0.Add(2 * time.Minute))
	clock.t = t0.Add(3 * time.Minute)
	if _, err := decide(late.ID, ledger.Approve, ledger.ChannelCLI); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("decision after expiry: %v, want ErrConflict", err)
	}
	if got, err := decide(late.ID, ledger.Deny, ledger.ChannelExpiry); err != nil || got.Channel != ledger.ChannelExpiry {
		t.Errorf("expiry decision: %+v, %v", got, err)
	}
	for _, bad := range []struct {
		d  ledger.Decision
		ch ledger.Channel
	}{{"maybe", ledger.ChannelCLI}, {ledger.Approve, "email"}} {
		if _, err := decide(a.ID, bad.d, bad.ch); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("decision %q via %q: %v, want ErrInvalid", bad.d, bad.ch, err)
		}
	}
	if _, err := decide("no-such-approval", ledger.Approve, ledger.ChannelCLI); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown approval: %v, want ErrNotFound", err)
	}
	r, err := s.Report(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Approvals) != 2 || r.Approvals[0].ID != a.ID || r.Approvals[1].Decision != ledger.Deny {
		t.Errorf("report approvals = %+v", r.Approvals)
	}
}

func testGuardrailsAndEvidence(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	inc, run := newRun(t, s, "ev")
	step := ledger.StepKey{RunID: run.ID, StepID: "snapshot"}
	var dec ledger.GuardrailDecision
	var inline, byURI ledger.Evidence
	update(t, s, func(tx ledger.Tx) error {
		var err error
		if dec, err = tx.RecordGuardrail(ctx, ledger.GuardrailDecision{IncidentID: inc.ID, Step: step, Rule: "protected-principals", Verdict: ledger.VerdictNeedsApproval, Reason: "ci-deployer is protected"}); err != nil {
			return err
		}
		if inline, err = tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Step: step, Kind: "cloudtrail-summary", Inline: json.RawMessage(`{"calls":10}`)}); err != nil {
			return err
		}
		byURI, err = tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Step: step, Kind: "snapshot", URI: "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0123"})
		return err
	})
	sum := sha256.Sum256([]byte(`{"calls":10}`))
	if got, want := inline.SHA256, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("inline evidence sha256 = %s, want %s", got, want)
	}
	r, err := s.Report(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.Guardrails, []ledger.GuardrailDecision{dec}); diff != "" {
		t.Errorf("guardrail decisions (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(r.Evidence, []ledger.Evidence{inline, byURI}); diff != "" {
		t.Errorf("evidence (-got +want):\n%s", diff)
	}

	bad := []struct {
		name string
		fn   func(ledger.Tx) error
		want error
	}{
		{"unknown verdict", func(tx ledger.Tx) error {
			_, err := tx.RecordGuardrail(ctx, ledger.GuardrailDecision{IncidentID: inc.ID, Rule: "r", Verdict: "perhaps"})
			return err
		}, ledger.ErrInvalid},
		{"guardrail for unknown incident", func(tx ledger.Tx) error {
			_, err := tx.RecordGuardrail(ctx, ledger.GuardrailDecision{IncidentID: "nope", Rule: "r", Verdict: ledger.VerdictAllow})
			return err
		}, ledger.ErrNotFound},
		{"evidence with uri and inline", func(tx ledger.Tx) error {
			_, err := tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Kind: "k", URI: "s3://b/k", Inline: json.RawMessage(`{}`)})
			return err
		}, ledger.ErrInvalid},
		{"evidence with wrong sha256", func(tx ledger.Tx) error {
			_, err := tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Kind: "k", Inline: json.RawMessage(`{}`), SHA256: strings.Repeat("0", 64)})
			return err
		}, ledger.ErrInvalid},
		{"evidence with malformed sha256", func(tx ledger.Tx) error {
			_, err := tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Kind: "k", URI: "s3://b/k", SHA256: "xyz"})
			return err
		}, ledger.ErrInvalid},
	}
	for _, tt := range bad {
		if err := s.Update(ctx, tt.fn); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func consume(s ledger.Store, req ledger.BudgetRequest) (ledger.BudgetResult, error) {
	var res ledger.BudgetResult
	err := s.Update(context.Background(), func(tx ledger.Tx) error {
		var err error
		res, err = tx.ConsumeBudget(context.Background(), req)
		return err
	})
	return res, err
}

func testBudgetConcurrent(t *testing.T, open Opener) {
	const goroutines, limit = 50, 10
	s := open(t, ledger.Options{})
	req := ledger.BudgetRequest{Budget: "disable-keys", ActionKind: "aws.iam.disable_access_key", Account: "123456789012", WindowStart: t0, Units: 1, Limit: limit}
	var wg sync.WaitGroup
	type result struct {
		res ledger.BudgetResult
		err error
	}
	results := make(chan result, goroutines)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := consume(s, req)
			results <- result{res, err}
		}()
	}
	wg.Wait()
	close(results)
	granted := 0
	for r := range results {
		if r.err != nil {
			t.Fatalf("ConsumeBudget: %v", r.err)
		}
		if r.res.Used > limit {
			t.Errorf("budget used %d, over its limit %d", r.res.Used, limit)
		}
		if r.res.Granted {
			granted++
		}
	}
	if granted != limit {
		t.Errorf("%d of %d concurrent consumers were granted a unit of a budget of %d", granted, goroutines, limit)
	}
	if v := verifyIntact(t, s); v.Entries != goroutines {
		t.Errorf("audit entries = %d, want %d (one per attempt)", v.Entries, goroutines)
	}
}

func testBudgetLimits(t *testing.T, open Opener) {
	s := open(t, ledger.Options{})
	base := ledger.BudgetRequest{Budget: "isolations", ActionKind: "aws.ec2.isolate_instance", Account: "111111111111", WindowStart: t0, Limit: 5}
	with := func(units int64, change func(*ledger.BudgetRequest)) ledger.BudgetRequest {
		r := base
		r.Units = units
		if change != nil {
			change(&r)
		}
		return r
	}
	tests := []struct {
		name string
		req  ledger.BudgetRequest
		want ledger.BudgetResult
	}{
		{"3 of 5", with(3, nil), ledger.BudgetResult{Granted: true, Used: 3}},
		{"3 more would overshoot", with(3, nil), ledger.BudgetResult{Granted: false, Used: 3}},
		{"2 more fill it", with(2, nil), ledger.BudgetResult{Granted: true, Used: 5}},
		{"1 more is refused", with(1, nil), ledger.BudgetResult{Granted: false, Used: 5}},
		{"another window is separate", with(1, func(r *ledger.BudgetRequest) { r.WindowStart = t0.Add(time.Hour) }), ledger.BudgetResult{Granted: true, Used: 1}},
		{"another account is separate", with(1, func(r *ledger.BudgetRequest) { r.Account = "222222222222" }), ledger.BudgetResult{Granted: true, Used: 1}},
		{"more than the whole limit", with(6, func(r *ledger.BudgetRequest) { r.Account = "333333333333" }), ledger.BudgetResult{Granted: false, Used: 0}},
		{"a raised limit applies", with(1, func(r *ledger.BudgetRequest) { r.Limit = 6 }), ledger.BudgetResult{Granted: true, Used: 6}},
	}
	for _, tt := range tests {
		got, err := consume(s, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}
	for _, bad := range []ledger.BudgetRequest{with(0, nil), with(1, func(r *ledger.BudgetRequest) { r.Budget = "" }), with(1, func(r *ledger.BudgetRequest) { r.Limit = -1 })} {
		if _, err := consume(s, bad); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("ConsumeBudget(%+v): %v, want ErrInvalid", bad, err)
		}
	}
}

// Fake credentials in AWS's documented example shapes.
//
//nolint:gosec // AWS's documented example values, not credentials.
const (
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleAiB3example3example3example3exampleKq0DCHMQABoMMTIzNDU2Nzg5MDEyIgy"
)

func testRedaction(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	f := finding("leak", t0, sub(ledger.SubjectAccessKey, "AKIAIOSFODNN7EXAMPLE"))
	f.Event = json.RawMessage(`{"detail":{"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"` + sessionToken + `"}}}}`)
	inc, _ := record(t, s, f)
	var run ledger.Run
	update(t, s, func(tx ledger.Tx) error {
		var err error
		if run, err = tx.EnsureRun(ctx, inc.ID, "exposed-key"); err != nil {
			return err
		}
		key := ledger.StepKey{RunID: run.ID, StepID: "rotate"}
		params := map[string]any{
			"user":              "alice",
			"secret_access_key": "anything at all",
			"nested":            []any{map[string]any{"note": "key=" + secretKey}},
			"typed":             secret.New("typed-secret-value"),
		}
		if _, err := tx.EnsureStep(ctx, key, "aws.iam.rotate", params); err != nil {
			return err
		}
		if _, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning}); err != nil {
			return err
		}
		_, err = tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepRunning, To: ledger.StepFailed, Attempt: 1,
			Output: map[string]string{"SecretAccessKey": secretKey, "AccessKeyId": "AKIANEW"},
			Error:  "InvalidClientTokenId: token " + sessionToken + " rejected"})
		if err != nil {
			return err
		}
		if _, err := tx.RecordGuardrail(ctx, ledger.GuardrailDecision{IncidentID: inc.ID, Rule: "r", Verdict: ledger.VerdictDeny, Reason: "saw " + secretKey}); err != nil {
			return err
		}
		_, err = tx.AddEvidence(ctx, ledger.Evidence{IncidentID: inc.ID, Kind: "creds", Inline: json.RawMessage(`{"Credentials":{"SessionToken":"` + sessionToken + `"}}`)})
		return err
	})
	all := dump(t, s)
	for _, secret := range []string{secretKey, sessionToken, "anything at all", "typed-secret-value", secret.Redacted} {
		if strings.Contains(all, secret) {
			t.Errorf("the ledger stores the secret %.20q…", secret)
		}
	}
	for _, kept := range []string{"alice", "AKIANEW", "ASIAEXAMPLE", "AKIAIOSFODNN7EXAMPLE", "InvalidClientTokenId", ledger.Redacted} {
		if !strings.Contains(all, kept) {
			t.Errorf("redaction removed %q, which is not a secret", kept)
		}
	}
}

func testListAndSeenBefore(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	key := sub(ledger.SubjectAccessKey, "AKIAONE")
	ip := sub(ledger.SubjectIP, "203.0.113.9")
	inst := sub(ledger.SubjectInstance, "i-0abc")

	a, _ := record(t, s, finding("a", t0, key, ip))
	b, _ := record(t, s, finding("b", t0.Add(time.Hour), inst))
	c, _ := record(t, s, finding("c", t0.Add(2*time.Hour), ip, inst))
	d, _ := record(t, s, finding("d", t0.Add(3*time.Hour), key, ip, inst))
	update(t, s, func(tx ledger.Tx) error {
		return tx.SetIncidentStatus(ctx, b.ID, ledger.StatusOpen, ledger.StatusResolved, "")
	})

	ids := func(incs []ledger.Incident) []string {
		var out []string
		for _, i := range incs {
			out = append(out, i.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    ledger.ListFilter
		want []string
	}{
		{"all, newest first", ledger.ListFilter{}, []string{d.ID, c.ID, b.ID, a.ID}},
		{"limit", ledger.ListFilter{Limit: 2}, []string{d.ID, c.ID}},
		{"status", ledger.ListFilter{Status: ledger.StatusResolved}, []string{b.ID}},
		{"since", ledger.ListFilter{Since: t0.Add(90 * time.Minute)}, []string{d.ID, c.ID}},
		{"subject", ledger.ListFilter{Subject: &key}, []string{d.ID, a.ID}},
		{"subject and status", ledger.ListFilter{Subject: &inst, Status: ledger.StatusOpen}, []string{d.ID, c.ID}},
		{"nothing matches", ledger.ListFilter{Subject: &ledger.Subject{Kind: ledger.SubjectUser, Value: "nobody"}}, nil},
	}
	for _, tt := range tests {
		got, err := s.ListIncidents(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(ids(got), tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}
	if _, err := s.ListIncidents(ctx, ledger.ListFilter{Status: "burning"}); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("unknown status filter: %v, want ErrInvalid", err)
	}

	priors, err := s.SeenBefore(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		ID     string
		Shared []ledger.Subject
	}
	var got []seen
	for _, p := range priors {
		got = append(got, seen{p.Incident.ID, p.Shared})
	}
	want := []seen{
		{c.ID, []ledger.Subject{inst, ip}},
		{b.ID, []ledger.Subject{inst}},
		{a.ID, []ledger.Subject{key, ip}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("SeenBefore(d) (-got +want):\n%s", diff)
	}
	if priors, err := s.SeenBefore(ctx, a.ID); err != nil || len(priors) != 0 {
		t.Errorf("SeenBefore(first incident) = %v, %v; want none: later incidents are not 'before'", priors, err)
	}
	r, err := s.Report(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.SeenBefore) != 3 {
		t.Errorf("report seen before has %d incidents, want 3", len(r.SeenBefore))
	}
	if _, err := s.Report(ctx, "no-such-incident"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Report(unknown): %v, want ErrNotFound", err)
	}
}

// fill makes a few audited changes of every kind.
func fill(t *testing.T, s ledger.Store) {
	t.Helper()
	ctx := context.Background()
	inc, run := newRun(t, s, "fill")
	record(t, s, finding("fill", t0.Add(time.Minute)))
	update(t, s, func(tx ledger.Tx) error {
		key := ledger.StepKey{RunID: run.ID, StepID: "s"}
		if _, err := tx.EnsureStep(ctx, key, "a", map[string]int{"n": 1}); err != nil {
			return err
		}
		if _, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning}); err != nil {
			return err
		}
		_, err := tx.ConsumeBudget(ctx, ledger.BudgetRequest{IncidentID: inc.ID, Budget: "b", Units: 1, Limit: 3})
		return err
	})
}

func testAuditChain(t *testing.T, open Opener) {
	s := open(t, ledger.Options{})
	v := verifyIntact(t, s)
	if v.Entries != 0 {
		t.Errorf("empty ledger has %d audit entries", v.Entries)
	}
	fill(t, s)
	v = verifyIntact(t, s)
	if head := Strings(t, s, `SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1`); len(head) != 1 || v.Head != head[0] {
		t.Errorf("Verify head = %q, want the last entry's hash %v", v.Head, head)
	}
	// opened, run.created, repeated, step.created, step.transition, budget.consumed
	if v.Entries != 6 {
		t.Errorf("audit entries = %d, want 6", v.Entries)
	}
	actions := Strings(t, s, `SELECT action FROM audit_log ORDER BY seq`)
	want := []string{"incident.opened", "run.created", "incident.repeated", "step.created", "step.transition", "budget.consumed"}
	if diff := cmp.Diff(actions, want); diff != "" {
		t.Errorf("audit actions (-got +want):\n%s", diff)
	}
	// The log refuses changes through SQL while its triggers stand.
	if err := Exec(t, s, `UPDATE audit_log SET action = 'x' WHERE seq = 1`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("UPDATE audit_log: %v; want refused as append-only", err)
	}
	if err := Exec(t, s, `DELETE FROM audit_log WHERE seq = 1`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("DELETE FROM audit_log: %v; want refused as append-only", err)
	}
}

// dropAuditTriggers does what an attacker with database access would do
// first.
func dropAuditTriggers(t *testing.T, s ledger.Store) {
	t.Helper()
	var stmts []string
	switch s.(type) {
	case *ledger.SQLite:
		stmts = []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	default:
		stmts = []string{`DROP TRIGGER audit_log_no_update ON audit_log`}
	}
	for _, q := range stmts {
		if err := Exec(t, s, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func testAuditTamper(t *testing.T, open Opener) {
	tests := []struct {
		name      string
		tamper    []string
		wantSeq   int64
		wantField string
	}{
		{"payload edited", []string{`UPDATE audit_log SET payload = replace(payload, '"step_id":"s"', '"step_id":"t"') WHERE seq = 4`}, 4, "hash"},
		{"action edited", []string{`UPDATE audit_log SET action = 'incident.opened' WHERE seq = 3`}, 3, "hash"},
		{"entry rehashed without its successor", []string{`UPDATE audit_log SET hash = '` + strings.Repeat("a", 64) + `' WHERE seq = 2`}, 2, "hash"},
		{"entry deleted", []string{`DELETE FROM audit_log WHERE seq = 5`}, 6, "seq"},
		{"last entry deleted", []string{`DELETE FROM audit_log WHERE seq = 6`}, 6, "head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, ledger.Options{})
			fill(t, s)
			verifyIntact(t, s)
			dropAuditTriggers(t, s)
			for _, q := range tt.tamper {
				if err := Exec(t, s, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			v, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.Broken == nil {
				t.Fatalf("Verify after tampering: chain reported intact (%d entries)", v.Entries)
			}
			if v.Broken.Seq != tt.wantSeq || v.Broken.Field != tt.wantField || v.Broken.Expected == v.Broken.Found {
				t.Errorf("broken link = %+v; want seq %d field %s with differing expected and found", *v.Broken, tt.wantSeq, tt.wantField)
			}
		})
	}
}

func testAuditConcurrent(t *testing.T, open Opener) {
	const writers, each = 8, 5
	s := open(t, ledger.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.Update(context.Background(), func(tx ledger.Tx) error {
					_, _, err := tx.RecordFinding(context.Background(), finding(fmt.Sprintf("w%d-%d", w, i%2), t0))
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v := verifyIntact(t, s); v.Entries != writers*each {
		t.Errorf("audit entries = %d, want %d", v.Entries, writers*each)
	}
}

func testRollback(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx ledger.Tx) error {
		if _, _, err := tx.RecordFinding(ctx, finding("rolled-back", t0, sub(ledger.SubjectUser, "alice"))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the callback's error", err)
	}
	list, err := s.ListIncidents(ctx, ledger.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyIntact(t, s); len(list) != 0 || v.Entries != 0 {
		t.Errorf("after rollback: %d incidents, %d audit entries; want none", len(list), v.Entries)
	}
}

func testQuarantine(t *testing.T, open Opener) {
	ctx := context.Background()
	clock, opts := clockAt(t0)
	s := open(t, opts)
	quarantine := func(p ledger.Poisoned) (ledger.Quarantined, error) {
		var q ledger.Quarantined
		err := s.Update(ctx, func(tx ledger.Tx) error {
			var err error
			q, err = tx.Quarantine(ctx, p)
			return err
		})
		return q, err
	}
	body := []byte(`{"detail-type":7,"SessionToken":"` + sessionToken + `"}`)
	first, err := quarantine(ledger.Poisoned{Source: "sqs", MessageID: "m-1", Reason: "detail-type: expected a string", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	clock.t = t0.Add(time.Minute)
	again, err := quarantine(ledger.Poisoned{Source: "sqs", MessageID: "m-1", Reason: "detail-type: expected a string, again", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(strings.Repeat("{not json ", ledger.MaxQuarantineBody/10+1))
	if _, err := quarantine(ledger.Poisoned{Source: "webhook", MessageID: "m-2", Reason: "too large", Body: big}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListQuarantine(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	bigSum := sha256.Sum256(big)
	want := []ledger.Quarantined{
		{Source: "webhook", MessageID: "m-2", Reason: "too large", Size: int64(len(big)), SHA256: hex.EncodeToString(bigSum[:]),
			Body: string(big[:ledger.MaxQuarantineBody]), FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute), Count: 1},
		{ID: first.ID, Source: "sqs", MessageID: "m-1", Reason: "detail-type: expected a string, again", Size: int64(len(body)),
			SHA256: hex.EncodeToString(sum[:]), Body: `{"SessionToken":"` + ledger.Redacted + `","detail-type":7}`,
			FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 2},
	}
	if diff := cmp.Diff(got, want, cmpopts.IgnoreFields(ledger.Quarantined{}, "ID")); diff != "" {
		t.Errorf("ListQuarantine (-got +want):\n%s", diff)
	}
	if again.ID != first.ID || got[1].ID != first.ID {
		t.Errorf("a repeat made a new row: ids %s, %s, %s", first.ID, again.ID, got[1].ID)
	}
	for _, bad := range []ledger.Poisoned{{MessageID: "m", Reason: "r"}, {Source: "sqs", Reason: "r"}, {Source: "sqs", MessageID: "m"}} {
		if _, err := quarantine(bad); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("Quarantine(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if v := verifyIntact(t, s); v.Entries != 3 {
		t.Errorf("audit entries = %d, want 3", v.Entries)
	}
}
