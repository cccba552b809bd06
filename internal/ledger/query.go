package ledger

import (
	"context"
	"fmt"
	"strings"
)

// defaultLimit is how many incidents ListIncidents returns when the
// filter sets no limit.
const defaultLimit = 100

func (s *store) ListIncidents(ctx context.Context, f ListFilter) ([]Incident, error) {
	if f.Status != "" && !f.Status.valid() {
		return nil, fmt.Errorf("list incidents: status %q: unknown (want open, contained, resolved or suppressed): %w", f.Status, ErrInvalid)
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("list incidents: limit %d is negative: %w", f.Limit, ErrInvalid)
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "i.status = ?")
		args = append(args, string(f.Status))
	}
	if !f.Since.IsZero() {
		where = append(where, "i.last_seen >= ?")
		args = append(args, micros(f.Since))
	}
	if f.Subject != nil {
		where = append(where, "EXISTS (SELECT 1 FROM incident_subjects s WHERE s.incident_id = i.id AND s.kind = ? AND s.value = ?)")
		args = append(args, string(f.Subject.Kind), f.Subject.Value)
	}
	q := `SELECT ` + prefixed("i.", incidentCols) + ` FROM incidents i`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY i.last_seen DESC, i.id DESC LIMIT ?`
	args = append(args, limit)
	return s.incidents(ctx, q, args...)
}

// incidents runs a query selecting incidentCols and loads each incident's
// subjects.
func (s *store) incidents(ctx context.Context, q string, args ...any) ([]Incident, error) {
	rs, err := s.pool.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	out := []Incident{}
	for rs.Next() {
		inc, err := scanIncident(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, inc)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	for i := range out {
		if out[i].Subjects, err = loadSubjects(ctx, s.pool, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// maxPriors bounds how many earlier incidents SeenBefore returns.
const maxPriors = 50

func (s *store) SeenBefore(ctx context.Context, incidentID string) ([]Prior, error) {
	if _, err := loadIncident(ctx, s.pool, incidentID, false); err != nil {
		return nil, err
	}
	rs, err := s.pool.query(ctx, `
SELECT i.id, o.kind, o.value
FROM incident_subjects m
JOIN incident_subjects o ON o.kind = m.kind AND o.value = m.value AND o.incident_id <> m.incident_id
JOIN incidents i ON i.id = o.incident_id
JOIN incidents x ON x.id = m.incident_id
WHERE m.incident_id = ?
  AND (i.first_seen < x.first_seen OR (i.first_seen = x.first_seen AND i.id < x.id))
ORDER BY i.first_seen DESC, i.id DESC, o.kind, o.value`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("incident %s: seen before: %w", incidentID, err)
	}
	var order []string
	shared := map[string][]Subject{}
	for rs.Next() {
		var id string
		var sub Subject
		if err := rs.Scan(&id, &sub.Kind, &sub.Value); err != nil {
			rs.Close()
			return nil, fmt.Errorf("incident %s: seen before: %w", incidentID, err)
		}
		if _, ok := shared[id]; !ok {
			if len(order) == maxPriors {
				continue
			}
			order = append(order, id)
		}
		shared[id] = append(shared[id], sub)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("incident %s: seen before: %w", incidentID, err)
	}
	priors := []Prior{}
	for _, id := range order {
		inc, err := loadIncident(ctx, s.pool, id, false)
		if err != nil {
			return nil, err
		}
		priors = append(priors, Prior{Incident: inc, Shared: shared[id]})
	}
	return priors, nil
}

func (s *store) Report(ctx context.Context, incidentID string) (Report, error) {
	var r Report
	var err error
	if r.Incident, err = loadIncident(ctx, s.pool, incidentID, true); err != nil {
		return r, err
	}
	if r.SeenBefore, err = s.SeenBefore(ctx, incidentID); err != nil {
		return r, err
	}
	if r.Runs, err = collect(ctx, s.pool, "runs", func(rw row) (Run, error) {
		var run Run
		var created int64
		err := rw.Scan(&run.ID, &run.IncidentID, &run.Playbook, &created)
		run.Created = fromMicros(created)
		return run, err
	}, `SELECT id, incident_id, playbook, created FROM runs WHERE incident_id = ? ORDER BY created, id`, incidentID); err != nil {
		return r, err
	}
	for i := range r.Runs {
		if r.Runs[i].Steps, err = collect(ctx, s.pool, "steps", scanStep,
			`SELECT `+stepCols+` FROM steps WHERE run_id = ? ORDER BY created, step_id, item`, r.Runs[i].ID); err != nil {
			return r, err
		}
	}
	if r.Approvals, err = collect(ctx, s.pool, "approvals", scanApproval,
		`SELECT `+approvalCols+` FROM approvals WHERE incident_id = ? ORDER BY requested, id`, incidentID); err != nil {
		return r, err
	}
	if r.Guardrails, err = collect(ctx, s.pool, "guardrail decisions", func(rw row) (GuardrailDecision, error) {
		var d GuardrailDecision
		var at int64
		err := rw.Scan(&d.ID, &d.IncidentID, &d.Step.RunID, &d.Step.StepID, &d.Step.Item, &d.Rule, &d.Verdict, &d.Reason, &at)
		d.At = fromMicros(at)
		return d, err
	}, `SELECT id, incident_id, run_id, step_id, item, rule, verdict, reason, at FROM guardrail_decisions WHERE incident_id = ? ORDER BY at, id`, incidentID); err != nil {
		return r, err
	}
	if r.Evidence, err = collect(ctx, s.pool, "evidence", func(rw row) (Evidence, error) {
		var e Evidence
		var inline string
		var created int64
		err := rw.Scan(&e.ID, &e.IncidentID, &e.Step.RunID, &e.Step.StepID, &e.Step.Item, &e.Kind, &e.URI, &inline, &e.SHA256, &created)
		if inline != "" {
			e.Inline = []byte(inline)
		}
		e.Created = fromMicros(created)
		return e, err
	}, `SELECT id, incident_id, run_id, step_id, item, kind, uri, inline, sha256, created FROM evidence WHERE incident_id = ? ORDER BY created, id`, incidentID); err != nil {
		return r, err
	}
	return r, nil
}

// collect runs q and scans every row with scan.
func collect[T any](ctx context.Context, q querier, what string, scan func(row) (T, error), query string, args ...any) ([]T, error) {
	rs, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rs.Close()
	out := []T{}
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
