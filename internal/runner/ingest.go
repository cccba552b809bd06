package runner

import (
	"context"
	"fmt"

	"github.com/firebreak-sec/firebreak/internal/event"
	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/playbook"
)

// Ingest is the one way events enter: serve, replay, the Lambda entry and
// the demo all call it. It decodes data (any shape event.Decode accepts),
// matches every event against every playbook's triggers at once,
// evaluates the matching playbooks' when, and for each playbook that
// wants the event records it in one transaction: the incident (a repeat
// of an open incident's dedup key only counts), and for a new incident
// its run and the run's first job. It reports what happened per event and
// playbook. A playbook whose when or dedup key fails on an event gets an
// Unevaluable result; errors are the decoder's, for data that is not an
// event, and the ledger's, for events that could not be recorded.
func (r *Runner) Ingest(ctx context.Context, data []byte) ([]Result, error) {
	evts, err := event.Decode(data)
	if err != nil {
		return nil, err
	}
	var out []Result
	var names []string
	for i := range evts {
		evt := &evts[i]
		names, err = r.matcher.Match(evt.EventBridgeJSON(), names[:0])
		if err != nil {
			return out, fmt.Errorf("event %s: match: %w", evt.ID, err)
		}
		matched := false
		seen := map[string]bool{}
		for _, n := range names {
			plan := r.plans[r.triggers[n]]
			if seen[plan.Name()] {
				continue
			}
			seen[plan.Name()] = true
			matched = true
			res, err := r.ingestOne(ctx, evt, plan)
			if err != nil {
				return out, err
			}
			out = append(out, res)
		}
		if !matched {
			out = append(out, Result{EventID: evt.ID, Outcome: NoMatch})
		}
	}
	return out, nil
}

func (r *Runner) ingestOne(ctx context.Context, evt *event.Event, plan *playbook.Plan) (Result, error) {
	res := Result{EventID: evt.ID, Playbook: plan.Name()}
	in, err := playbook.NewInput(evt, playbook.Incident{})
	if err != nil {
		return res, err
	}
	ok, err := plan.Matches(ctx, in)
	if err != nil {
		res.Outcome, res.Err = Unevaluable, fmt.Errorf("event %s: playbook %s: when: %w", evt.ID, plan.Name(), err)
		return res, nil
	}
	if !ok {
		res.Outcome = Filtered
		return res, nil
	}
	key, err := plan.DedupKey(ctx, in)
	if err != nil {
		res.Outcome, res.Err = Unevaluable, fmt.Errorf("event %s: %w", evt.ID, err)
		return res, nil
	}
	f := finding(evt, plan.Name(), key)
	err = r.q.update(ctx, func(tx ledger.Tx, jobs jobs) error {
		inc, isNew, err := tx.RecordFinding(ctx, f)
		if err != nil {
			return err
		}
		res.IncidentID, res.Count = inc.ID, inc.Count
		if !isNew {
			res.Outcome = Duplicate
			return nil
		}
		res.Outcome = NewIncident
		run, err := tx.EnsureRun(ctx, inc.ID, plan.Name())
		if err != nil {
			return err
		}
		res.RunID = run.ID
		return jobs.insert(ctx, advanceArgs{RunID: run.ID, IncidentID: inc.ID}, nil)
	})
	if err != nil {
		return res, fmt.Errorf("event %s: playbook %s: %w", evt.ID, plan.Name(), err)
	}
	r.log.Info("event ingested", "event_id", evt.ID, "playbook", plan.Name(), "outcome", res.Outcome,
		"incident_id", res.IncidentID, "count", res.Count, "account", evt.Account)
	return res, nil
}

// finding is the ledger's view of an event for one playbook. The dedup
// key is the playbook's, prefixed with the playbook's name, so that two
// playbooks answering one finding keep separate incidents.
func finding(evt *event.Event, playbookName, key string) ledger.Finding {
	title := evt.DetailType
	if evt.FindingType != "" {
		title = evt.FindingType
	}
	f := ledger.Finding{
		DedupKey: playbookName + ":" + key, Playbook: playbookName, Source: evt.Source, FindingType: evt.FindingType,
		Title: title, Severity: evt.Severity.Score, SeverityLabel: evt.Severity.Label,
		Account: evt.Account, Region: evt.Region, Seen: evt.Time, Event: evt.EventBridgeJSON(),
	}
	s := evt.Subjects
	add := func(k ledger.SubjectKind, v string) {
		if v != "" {
			f.Subjects = append(f.Subjects, ledger.Subject{Kind: k, Value: v})
		}
	}
	for _, k := range s.AccessKeys {
		add(ledger.SubjectAccessKey, k.ID)
	}
	for _, u := range s.Users {
		add(ledger.SubjectUser, u.Name)
	}
	for _, x := range s.Roles {
		add(ledger.SubjectRole, x.Name)
	}
	for _, x := range s.Instances {
		add(ledger.SubjectInstance, x.ID)
	}
	for _, b := range s.Buckets {
		add(ledger.SubjectBucket, b.Name)
	}
	for _, ip := range s.RemoteIPs {
		if ip.IP.IsValid() {
			add(ledger.SubjectIP, ip.IP.String())
		}
	}
	return f
}
