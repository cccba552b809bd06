package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// store is what the SQLite and PostgreSQL ledgers share: every query,
// written once with ? placeholders.
type store struct {
	pool   querier // reads outside transactions
	now    func() time.Time
	redact func([]byte) ([]byte, error)
}

func newStore(pool querier, o Options) *store {
	clock := o.Now
	if clock == nil {
		clock = time.Now
	}
	// Times are stored to the microsecond; truncate so that what a write
	// returns equals what a read returns.
	s := &store{pool: pool, redact: o.Redact, now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }}
	if s.redact == nil {
		s.redact = RedactJSON
	}
	return s
}

// tx is one write transaction.
type tx struct {
	s *store
	q querier
}

var _ Tx = (*tx)(nil)

// newID returns a time-ordered identifier (a UUIDv7): ids sort in the
// order they were made.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// encode marshals v to JSON and redacts it; nil is stored as "".
func (s *store) encode(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	var b []byte
	switch v := v.(type) {
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return "", err
		}
	}
	r, err := s.redact(b)
	if err != nil {
		return "", err
	}
	return string(r), nil
}

func idempotencyKey(incidentID, playbook string, k StepKey) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%d", incidentID, playbook, k.StepID, k.Item)))
	return hex.EncodeToString(h[:16])
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func validStepKey(k StepKey, field string) error {
	switch {
	case k.RunID == "":
		return fmt.Errorf("%s.run_id: required: %w", field, ErrInvalid)
	case k.StepID == "":
		return fmt.Errorf("%s.step_id: required: %w", field, ErrInvalid)
	case k.Item < 0:
		return fmt.Errorf("%s.item: %d is negative: %w", field, k.Item, ErrInvalid)
	}
	return nil
}

// ---- incidents ----

const incidentCols = `id, dedup_key, playbook, source, finding_type, title, severity, severity_label, status, account, region, first_seen, last_seen, count`

func scanIncident(r row, extra ...any) (Incident, error) {
	var inc Incident
	var first, last int64
	dest := []any{&inc.ID, &inc.DedupKey, &inc.Playbook, &inc.Source, &inc.FindingType, &inc.Title,
		&inc.Severity, &inc.SeverityLabel, &inc.Status, &inc.Account, &inc.Region, &first, &last, &inc.Count}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return inc, err
	}
	inc.FirstSeen, inc.LastSeen = fromMicros(first), fromMicros(last)
	return inc, nil
}

func (f Finding) validate() error {
	switch {
	case f.DedupKey == "":
		return fmt.Errorf("finding.dedup_key: required: %w", ErrInvalid)
	case math.IsNaN(f.Severity) || f.Severity < 0 || f.Severity > 10:
		return fmt.Errorf("finding.severity: %v is outside 0 to 10: %w", f.Severity, ErrInvalid)
	}
	for i, sub := range f.Subjects {
		if !sub.Kind.valid() {
			return fmt.Errorf("finding.subjects[%d].kind: unknown kind %q (want one of %v): %w", i, sub.Kind, SubjectKinds, ErrInvalid)
		}
		if sub.Value == "" {
			return fmt.Errorf("finding.subjects[%d].value: required: %w", i, ErrInvalid)
		}
	}
	return nil
}

func (t *tx) RecordFinding(ctx context.Context, f Finding) (Incident, bool, error) {
	if err := f.validate(); err != nil {
		return Incident{}, false, err
	}
	event, err := t.s.encode(f.Event)
	if err != nil {
		return Incident{}, false, fmt.Errorf("finding.event: %w: %w", err, ErrInvalid)
	}
	now := t.s.now()
	seen := f.Seen
	if seen.IsZero() {
		seen = now
	}
	id := newID()
	var gotID string
	err = t.q.queryRow(ctx, `
INSERT INTO incidents (id, dedup_key, playbook, source, finding_type, title, severity, severity_label, status,
                       account, region, first_seen, last_seen, count, first_event, latest_event, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, 1, ?, '', ?)
ON CONFLICT (dedup_key) WHERE status <> 'resolved' DO UPDATE SET
    count        = incidents.count + 1,
    first_seen   = CASE WHEN excluded.first_seen < incidents.first_seen THEN excluded.first_seen ELSE incidents.first_seen END,
    last_seen    = CASE WHEN excluded.last_seen > incidents.last_seen THEN excluded.last_seen ELSE incidents.last_seen END,
    latest_event = CASE WHEN excluded.last_seen >= incidents.last_seen THEN excluded.first_event ELSE incidents.latest_event END,
    updated      = excluded.updated
RETURNING id`,
		id, f.DedupKey, f.Playbook, f.Source, f.FindingType, f.Title, f.Severity, f.SeverityLabel,
		f.Account, f.Region, micros(seen), micros(seen), event, micros(now)).Scan(&gotID)
	if err != nil {
		return Incident{}, false, fmt.Errorf("record finding %q: %w", f.DedupKey, err)
	}
	isNew := gotID == id

	var added []Subject
	for _, sub := range dedupSubjects(f.Subjects) {
		n, err := t.q.exec(ctx, `INSERT INTO incident_subjects (incident_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			gotID, string(sub.Kind), sub.Value)
		if err != nil {
			return Incident{}, false, fmt.Errorf("record finding %q: subject %s=%s: %w", f.DedupKey, sub.Kind, sub.Value, err)
		}
		if n == 1 {
			added = append(added, sub)
		}
	}
	inc, err := loadIncident(ctx, t.q, gotID, false)
	if err != nil {
		return Incident{}, false, err
	}
	action := "incident.repeated"
	payload := map[string]any{"dedup_key": inc.DedupKey, "count": inc.Count, "last_seen": micros(inc.LastSeen), "event_sha256": sha256Hex([]byte(event))}
	if isNew {
		action = "incident.opened"
		payload["title"] = inc.Title
		payload["playbook"] = inc.Playbook
		payload["source"] = inc.Source
		payload["finding_type"] = inc.FindingType
		payload["severity"] = inc.Severity
		payload["account"] = inc.Account
		payload["region"] = inc.Region
	}
	if len(added) > 0 {
		payload["subjects"] = added
	}
	if err := t.audit(ctx, action, inc.ID, payload); err != nil {
		return Incident{}, false, err
	}
	return inc, isNew, nil
}

func dedupSubjects(in []Subject) []Subject {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b Subject) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.Compact(out)
}

func (t *tx) SetIncidentStatus(ctx context.Context, incidentID string, from, to IncidentStatus, reason string) error {
	if !to.valid() {
		return fmt.Errorf("incident %s: status %q: unknown: %w", incidentID, to, ErrInvalid)
	}
	n, err := t.q.exec(ctx, `UPDATE incidents SET status = ?, updated = ? WHERE id = ? AND status = ?`,
		string(to), micros(t.s.now()), incidentID, string(from))
	if err != nil {
		return fmt.Errorf("incident %s: set status %s: %w", incidentID, to, err)
	}
	if n == 0 {
		inc, err := loadIncident(ctx, t.q, incidentID, false)
		if err != nil {
			return err
		}
		return fmt.Errorf("incident %s: status is %s, not %s: %w", incidentID, inc.Status, from, ErrConflict)
	}
	return t.audit(ctx, "incident.status", incidentID, map[string]any{"from": from, "to": to, "reason": RedactText(reason)})
}

// loadIncident reads one incident with its subjects.
func loadIncident(ctx context.Context, q querier, id string, withEvents bool) (Incident, error) {
	var inc Incident
	var err error
	if withEvents {
		var first, latest string
		inc, err = scanIncident(q.queryRow(ctx, `SELECT `+incidentCols+`, first_event, latest_event FROM incidents WHERE id = ?`, id), &first, &latest)
		if first != "" {
			inc.FirstEvent = json.RawMessage(first)
		}
		if latest != "" {
			inc.LatestEvent = json.RawMessage(latest)
		}
	} else {
		inc, err = scanIncident(q.queryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	}
	if isNoRows(err) {
		return inc, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return inc, fmt.Errorf("incident %s: %w", id, err)
	}
	if inc.Subjects, err = loadSubjects(ctx, q, id); err != nil {
		return inc, err
	}
	return inc, nil
}

func loadSubjects(ctx context.Context, q querier, incidentID string) ([]Subject, error) {
	rs, err := q.query(ctx, `SELECT kind, value FROM incident_subjects WHERE incident_id = ? ORDER BY kind, value`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident %s: subjects: %w", incidentID, err)
	}
	defer rs.Close()
	subs := []Subject{}
	for rs.Next() {
		var s Subject
		if err := rs.Scan(&s.Kind, &s.Value); err != nil {
			return nil, fmt.Errorf("incident %s: subjects: %w", incidentID, err)
		}
		subs = append(subs, s)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident %s: subjects: %w", incidentID, err)
	}
	return subs, nil
}

// ---- runs and steps ----

func (t *tx) EnsureRun(ctx context.Context, incidentID, playbook string) (Run, error) {
	if playbook == "" {
		return Run{}, fmt.Errorf("run.playbook: required: %w", ErrInvalid)
	}
	if _, err := loadIncident(ctx, t.q, incidentID, false); err != nil {
		return Run{}, err
	}
	n, err := t.q.exec(ctx, `INSERT INTO runs (id, incident_id, playbook, created) VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, playbook) DO NOTHING`,
		newID(), incidentID, playbook, micros(t.s.now()))
	if err != nil {
		return Run{}, fmt.Errorf("incident %s: run %s: %w", incidentID, playbook, err)
	}
	var r Run
	var created int64
	if err := t.q.queryRow(ctx, `SELECT id, incident_id, playbook, created FROM runs WHERE incident_id = ? AND playbook = ?`, incidentID, playbook).
		Scan(&r.ID, &r.IncidentID, &r.Playbook, &created); err != nil {
		return Run{}, fmt.Errorf("incident %s: run %s: %w", incidentID, playbook, err)
	}
	r.Created = fromMicros(created)
	if n == 1 {
		if err := t.audit(ctx, "run.created", incidentID, map[string]any{"run_id": r.ID, "playbook": playbook}); err != nil {
			return Run{}, err
		}
	}
	return r, nil
}

const stepCols = `run_id, step_id, item, incident_id, action, status, attempt, idempotency_key, params, output, error, created, updated, started, finished`

func scanStep(r row) (Step, error) {
	var s Step
	var params, output string
	var created, updated, started, finished int64
	if err := r.Scan(&s.RunID, &s.StepID, &s.Item, &s.IncidentID, &s.Action, &s.Status, &s.Attempt, &s.IdempotencyKey,
		&params, &output, &s.Error, &created, &updated, &started, &finished); err != nil {
		return s, err
	}
	if params != "" {
		s.Params = json.RawMessage(params)
	}
	if output != "" {
		s.Output = json.RawMessage(output)
	}
	s.Created, s.Updated, s.Started, s.Finished = fromMicros(created), fromMicros(updated), fromMicros(started), fromMicros(finished)
	return s, nil
}

func loadStep(ctx context.Context, q querier, k StepKey) (Step, error) {
	s, err := scanStep(q.queryRow(ctx, `SELECT `+stepCols+` FROM steps WHERE run_id = ? AND step_id = ? AND item = ?`, k.RunID, k.StepID, k.Item))
	if isNoRows(err) {
		return s, fmt.Errorf("step %s/%s[%d]: %w", k.RunID, k.StepID, k.Item, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("step %s/%s[%d]: %w", k.RunID, k.StepID, k.Item, err)
	}
	return s, nil
}

func (t *tx) EnsureStep(ctx context.Context, k StepKey, action string, params any) (Step, error) {
	if err := validStepKey(k, "step"); err != nil {
		return Step{}, err
	}
	var incidentID, playbook string
	err := t.q.queryRow(ctx, `SELECT incident_id, playbook FROM runs WHERE id = ?`, k.RunID).Scan(&incidentID, &playbook)
	if isNoRows(err) {
		return Step{}, fmt.Errorf("run %s: %w", k.RunID, ErrNotFound)
	}
	if err != nil {
		return Step{}, fmt.Errorf("run %s: %w", k.RunID, err)
	}
	p, err := t.s.encode(params)
	if err != nil {
		return Step{}, fmt.Errorf("step %s[%d].params: %w: %w", k.StepID, k.Item, err, ErrInvalid)
	}
	now := micros(t.s.now())
	n, err := t.q.exec(ctx, `
INSERT INTO steps (run_id, step_id, item, incident_id, action, status, attempt, idempotency_key, params, created, updated)
VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
ON CONFLICT (run_id, step_id, item) DO NOTHING`,
		k.RunID, k.StepID, k.Item, incidentID, action, idempotencyKey(incidentID, playbook, k), p, now, now)
	if err != nil {
		return Step{}, fmt.Errorf("step %s[%d]: create: %w", k.StepID, k.Item, err)
	}
	s, err := loadStep(ctx, t.q, k)
	if err != nil {
		return Step{}, err
	}
	if n == 1 {
		if err := t.audit(ctx, "step.created", incidentID, map[string]any{
			"run_id": k.RunID, "step_id": k.StepID, "item": k.Item, "action": action, "params_sha256": sha256Hex([]byte(p)),
		}); err != nil {
			return Step{}, err
		}
	}
	return s, nil
}

func terminal(s StepStatus) bool {
	switch s {
	case StepSucceeded, StepFailed, StepSkipped, StepDenied, StepCompensated:
		return true
	}
	return false
}

func (t *tx) TransitionStep(ctx context.Context, tr Transition) (Step, error) {
	if err := validStepKey(tr.StepKey, "transition"); err != nil {
		return Step{}, err
	}
	if !CanMove(tr.From, tr.To) {
		return Step{}, fmt.Errorf("step %s[%d]: %s → %s is not a step transition: %w", tr.StepID, tr.Item, tr.From, tr.To, ErrInvalid)
	}
	cur, err := loadStep(ctx, t.q, tr.StepKey)
	if err != nil {
		return Step{}, err
	}
	if cur.Status != tr.From || cur.Attempt != tr.Attempt {
		return Step{}, fmt.Errorf("step %s[%d]: is %s at attempt %d, not %s at attempt %d: %w",
			tr.StepID, tr.Item, cur.Status, cur.Attempt, tr.From, tr.Attempt, ErrConflict)
	}
	now := t.s.now()
	next := cur
	next.Status = tr.To
	next.Updated = now
	next.Error = RedactText(tr.Error)
	if tr.To == StepRunning {
		next.Attempt++
		next.Started = now
		next.Finished = time.Time{}
	}
	if terminal(tr.To) {
		next.Finished = now
	}
	output := string(cur.Output)
	if tr.Output != nil {
		if output, err = t.s.encode(tr.Output); err != nil {
			return Step{}, fmt.Errorf("step %s[%d].output: %w: %w", tr.StepID, tr.Item, err, ErrInvalid)
		}
		next.Output = json.RawMessage(output)
	}
	n, err := t.q.exec(ctx, `
UPDATE steps SET status = ?, attempt = ?, output = ?, error = ?, updated = ?, started = ?, finished = ?
WHERE run_id = ? AND step_id = ? AND item = ? AND status = ? AND attempt = ?`,
		string(next.Status), next.Attempt, output, next.Error, micros(next.Updated), micros(next.Started), micros(next.Finished),
		tr.RunID, tr.StepID, tr.Item, string(tr.From), tr.Attempt)
	if err != nil {
		return Step{}, fmt.Errorf("step %s[%d]: %s → %s: %w", tr.StepID, tr.Item, tr.From, tr.To, err)
	}
	if n != 1 {
		return Step{}, fmt.Errorf("step %s[%d]: %s → %s: changed concurrently: %w", tr.StepID, tr.Item, tr.From, tr.To, ErrConflict)
	}
	payload := map[string]any{
		"run_id": tr.RunID, "step_id": tr.StepID, "item": tr.Item,
		"from": tr.From, "to": tr.To, "attempt": next.Attempt,
	}
	if next.Error != "" {
		payload["error"] = next.Error
	}
	if output != "" {
		payload["output_sha256"] = sha256Hex([]byte(output))
	}
	if err := t.audit(ctx, "step.transition", cur.IncidentID, payload); err != nil {
		return Step{}, err
	}
	return next, nil
}

// ---- approvals ----

const approvalCols = `id, incident_id, run_id, step_id, item, requested_by, what, why, requested, expires, decision, decided_by, decided, channel, reason`

func scanApproval(r row) (Approval, error) {
	var a Approval
	var requested, expires, decided int64
	if err := r.Scan(&a.ID, &a.IncidentID, &a.Step.RunID, &a.Step.StepID, &a.Step.Item, &a.RequestedBy, &a.What, &a.Why,
		&requested, &expires, &a.Decision, &a.DecidedBy, &decided, &a.Channel, &a.Reason); err != nil {
		return a, err
	}
	a.Requested, a.Expires, a.Decided = fromMicros(requested), fromMicros(expires), fromMicros(decided)
	return a, nil
}

func (t *tx) RequestApproval(ctx context.Context, r ApprovalRequest) (Approval, error) {
	switch {
	case r.RequestedBy == "":
		return Approval{}, fmt.Errorf("approval.requested_by: required: %w", ErrInvalid)
	case r.What == "":
		return Approval{}, fmt.Errorf("approval.what: required: %w", ErrInvalid)
	case r.Expires.IsZero():
		return Approval{}, fmt.Errorf("approval.expires: required: %w", ErrInvalid)
	}
	if _, err := loadIncident(ctx, t.q, r.IncidentID, false); err != nil {
		return Approval{}, err
	}
	a := Approval{
		ID: newID(), IncidentID: r.IncidentID, Step: r.Step, RequestedBy: r.RequestedBy,
		What: r.What, Why: RedactText(r.Why), Requested: t.s.now().UTC(), Expires: r.Expires.UTC(),
	}
	if _, err := t.q.exec(ctx, `INSERT INTO approvals (id, incident_id, run_id, step_id, item, requested_by, what, why, requested, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.IncidentID, a.Step.RunID, a.Step.StepID, a.Step.Item, a.RequestedBy, a.What, a.Why, micros(a.Requested), micros(a.Expires)); err != nil {
		return Approval{}, fmt.Errorf("incident %s: request approval: %w", r.IncidentID, err)
	}
	if err := t.audit(ctx, "approval.requested", a.IncidentID, map[string]any{
		"approval_id": a.ID, "run_id": a.Step.RunID, "step_id": a.Step.StepID, "item": a.Step.Item,
		"requested_by": a.RequestedBy, "what": a.What, "why": a.Why, "expires": micros(a.Expires),
	}); err != nil {
		return Approval{}, err
	}
	return a, nil
}

func (t *tx) DecideApproval(ctx context.Context, d ApprovalDecision) (Approval, error) {
	switch {
	case d.Decision != Approve && d.Decision != Deny:
		return Approval{}, fmt.Errorf("decision.decision: %q is not approve or deny: %w", d.Decision, ErrInvalid)
	case d.By == "":
		return Approval{}, fmt.Errorf("decision.by: required: %w", ErrInvalid)
	}
	switch d.Channel {
	case ChannelCLI, ChannelSlack, ChannelWeb, ChannelExpiry:
	default:
		return Approval{}, fmt.Errorf("decision.channel: %q is not cli, slack, web or expiry: %w", d.Channel, ErrInvalid)
	}
	a, err := scanApproval(t.q.queryRow(ctx, `SELECT `+approvalCols+` FROM approvals WHERE id = ?`, d.ApprovalID))
	if isNoRows(err) {
		return Approval{}, fmt.Errorf("approval %s: %w", d.ApprovalID, ErrNotFound)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("approval %s: %w", d.ApprovalID, err)
	}
	if a.Decision != "" {
		return Approval{}, fmt.Errorf("approval %s: already decided (%s by %s): %w", a.ID, a.Decision, a.DecidedBy, ErrConflict)
	}
	now := t.s.now().UTC()
	if d.Channel != ChannelExpiry && !now.Before(a.Expires) {
		return Approval{}, fmt.Errorf("approval %s: expired at %s: %w", a.ID, a.Expires.Format(time.RFC3339), ErrConflict)
	}
	a.Decision, a.DecidedBy, a.Decided, a.Channel, a.Reason = d.Decision, d.By, now, d.Channel, RedactText(d.Reason)
	n, err := t.q.exec(ctx, `UPDATE approvals SET decision = ?, decided_by = ?, decided = ?, channel = ?, reason = ? WHERE id = ? AND decision = ''`,
		string(a.Decision), a.DecidedBy, micros(a.Decided), string(a.Channel), a.Reason, a.ID)
	if err != nil {
		return Approval{}, fmt.Errorf("approval %s: decide: %w", a.ID, err)
	}
	if n != 1 {
		return Approval{}, fmt.Errorf("approval %s: decided concurrently: %w", a.ID, ErrConflict)
	}
	if err := t.audit(ctx, "approval.decided", a.IncidentID, map[string]any{
		"approval_id": a.ID, "decision": a.Decision, "by": a.DecidedBy, "channel": a.Channel, "reason": a.Reason,
	}); err != nil {
		return Approval{}, err
	}
	return a, nil
}

// ---- guardrails and budgets ----

func (t *tx) RecordGuardrail(ctx context.Context, d GuardrailDecision) (GuardrailDecision, error) {
	switch d.Verdict {
	case VerdictAllow, VerdictDeny, VerdictNeedsApproval:
	default:
		return d, fmt.Errorf("guardrail.verdict: %q is not allow, deny or needs_approval: %w", d.Verdict, ErrInvalid)
	}
	if d.Rule == "" {
		return d, fmt.Errorf("guardrail.rule: required: %w", ErrInvalid)
	}
	if _, err := loadIncident(ctx, t.q, d.IncidentID, false); err != nil {
		return d, err
	}
	d.ID, d.At, d.Reason = newID(), t.s.now().UTC(), RedactText(d.Reason)
	if _, err := t.q.exec(ctx, `INSERT INTO guardrail_decisions (id, incident_id, run_id, step_id, item, rule, verdict, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.IncidentID, d.Step.RunID, d.Step.StepID, d.Step.Item, d.Rule, string(d.Verdict), d.Reason, micros(d.At)); err != nil {
		return d, fmt.Errorf("incident %s: guardrail %s: %w", d.IncidentID, d.Rule, err)
	}
	if err := t.audit(ctx, "guardrail.decision", d.IncidentID, map[string]any{
		"decision_id": d.ID, "run_id": d.Step.RunID, "step_id": d.Step.StepID, "item": d.Step.Item,
		"rule": d.Rule, "verdict": d.Verdict, "reason": d.Reason,
	}); err != nil {
		return d, err
	}
	return d, nil
}

func (t *tx) ConsumeBudget(ctx context.Context, r BudgetRequest) (BudgetResult, error) {
	switch {
	case r.Budget == "":
		return BudgetResult{}, fmt.Errorf("budget.budget: required: %w", ErrInvalid)
	case r.Units <= 0:
		return BudgetResult{}, fmt.Errorf("budget.units: %d is not positive: %w", r.Units, ErrInvalid)
	case r.Limit < 0:
		return BudgetResult{}, fmt.Errorf("budget.limit: %d is negative: %w", r.Limit, ErrInvalid)
	}
	window := micros(r.WindowStart)
	if !r.Since.IsZero() {
		return t.consumeSliding(ctx, r)
	}
	var res BudgetResult
	if r.Units <= r.Limit {
		err := t.q.queryRow(ctx, `
INSERT INTO budgets (budget, action_kind, account, window_start, used, limit_units, updated)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (budget, action_kind, account, window_start) DO UPDATE SET
    used        = budgets.used + excluded.used,
    limit_units = excluded.limit_units,
    updated     = excluded.updated
WHERE budgets.used + excluded.used <= excluded.limit_units
RETURNING used`,
			r.Budget, r.ActionKind, r.Account, window, r.Units, r.Limit, micros(t.s.now())).Scan(&res.Used)
		switch {
		case err == nil:
			res.Granted = true
		case !isNoRows(err):
			return res, fmt.Errorf("budget %s: consume %d: %w", r.Budget, r.Units, err)
		}
	}
	if !res.Granted {
		err := t.q.queryRow(ctx, `SELECT used FROM budgets WHERE budget = ? AND action_kind = ? AND account = ? AND window_start = ?`,
			r.Budget, r.ActionKind, r.Account, window).Scan(&res.Used)
		if err != nil && !isNoRows(err) {
			return res, fmt.Errorf("budget %s: read use: %w", r.Budget, err)
		}
	}
	return res, t.auditBudget(ctx, r, res)
}

// consumeSliding grants r when the units used from r.Since to
// r.WindowStart, and r's, stay within r.Limit. Write transactions are
// serialised (SQLite has one writer; on PostgreSQL every Update locks the
// audit head first), so the sum cannot change between reading it and
// adding to it.
func (t *tx) consumeSliding(ctx context.Context, r BudgetRequest) (BudgetResult, error) {
	var res BudgetResult
	if r.Since.After(r.WindowStart) {
		return res, fmt.Errorf("budget.since: %s is after window_start %s: %w", r.Since.UTC().Format(time.RFC3339Nano), r.WindowStart.UTC().Format(time.RFC3339Nano), ErrInvalid)
	}
	window := micros(r.WindowStart)
	if err := t.q.queryRow(ctx, `
SELECT COALESCE(SUM(used), 0) FROM budgets
WHERE budget = ? AND action_kind = ? AND account = ? AND window_start >= ? AND window_start <= ?`,
		r.Budget, r.ActionKind, r.Account, micros(r.Since), window).Scan(&res.Used); err != nil {
		return res, fmt.Errorf("budget %s: read use: %w", r.Budget, err)
	}
	if res.Used+r.Units <= r.Limit {
		if _, err := t.q.exec(ctx, `
INSERT INTO budgets (budget, action_kind, account, window_start, used, limit_units, updated)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (budget, action_kind, account, window_start) DO UPDATE SET
    used        = budgets.used + excluded.used,
    limit_units = excluded.limit_units,
    updated     = excluded.updated`,
			r.Budget, r.ActionKind, r.Account, window, r.Units, r.Limit, micros(t.s.now())); err != nil {
			return res, fmt.Errorf("budget %s: consume %d: %w", r.Budget, r.Units, err)
		}
		res.Granted = true
		res.Used += r.Units
	}
	return res, t.auditBudget(ctx, r, res)
}

// auditBudget records a budget decision in the audit log.
func (t *tx) auditBudget(ctx context.Context, r BudgetRequest, res BudgetResult) error {
	action := "budget.denied"
	if res.Granted {
		action = "budget.consumed"
	}
	fields := map[string]any{
		"budget": r.Budget, "action_kind": r.ActionKind, "account": r.Account, "window_start": micros(r.WindowStart),
		"units": r.Units, "limit": r.Limit, "used": res.Used,
	}
	if !r.Since.IsZero() {
		fields["since"] = micros(r.Since)
	}
	return t.audit(ctx, action, r.IncidentID, fields)
}

// ---- evidence ----

func (t *tx) AddEvidence(ctx context.Context, e Evidence) (Evidence, error) {
	switch {
	case e.Kind == "":
		return e, fmt.Errorf("evidence.kind: required: %w", ErrInvalid)
	case (e.URI == "") == (len(e.Inline) == 0):
		return e, fmt.Errorf("evidence: exactly one of uri and inline is required: %w", ErrInvalid)
	}
	var inline string
	if len(e.Inline) > 0 {
		var err error
		if inline, err = t.s.encode(e.Inline); err != nil {
			return e, fmt.Errorf("evidence.inline: %w: %w", err, ErrInvalid)
		}
		sum := sha256Hex([]byte(inline))
		if e.SHA256 != "" && e.SHA256 != sum && sha256Hex(e.Inline) != e.SHA256 {
			return e, fmt.Errorf("evidence.sha256: %s does not match the inline content (%s): %w", e.SHA256, sum, ErrInvalid)
		}
		e.SHA256 = sum // of what is stored, so the row can be checked
		e.Inline = json.RawMessage(inline)
	} else if e.SHA256 != "" {
		if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != sha256.Size {
			return e, fmt.Errorf("evidence.sha256: %q is not a hex SHA-256: %w", e.SHA256, ErrInvalid)
		}
	}
	if _, err := loadIncident(ctx, t.q, e.IncidentID, false); err != nil {
		return e, err
	}
	e.ID, e.Created, e.URI = newID(), t.s.now().UTC(), RedactText(e.URI)
	if _, err := t.q.exec(ctx, `INSERT INTO evidence (id, incident_id, run_id, step_id, item, kind, uri, inline, sha256, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.IncidentID, e.Step.RunID, e.Step.StepID, e.Step.Item, e.Kind, e.URI, inline, e.SHA256, micros(e.Created)); err != nil {
		return e, fmt.Errorf("incident %s: evidence %s: %w", e.IncidentID, e.Kind, err)
	}
	if err := t.audit(ctx, "evidence.added", e.IncidentID, map[string]any{
		"evidence_id": e.ID, "kind": e.Kind, "uri": e.URI, "sha256": e.SHA256,
		"run_id": e.Step.RunID, "step_id": e.Step.StepID, "item": e.Step.Item,
	}); err != nil {
		return e, err
	}
	return e, nil
}
