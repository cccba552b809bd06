// Package runner turns matched events into durable, guarded runs of
// playbooks.
//
// Ingest is the one entry for events (serve, replay, Lambda, demo): it
// decodes, matches every event against every playbook's triggers with one
// pattern.Matcher, evaluates the playbook's when and dedup key, and in one
// ledger transaction records the incident (a repeat of an open incident
// only counts on it) and, for a new incident, its run and the run's job.
//
// Runs execute on River, in the ledger's own database (riversqlite on
// SQLite, riverpgxv5 on PostgreSQL). A run has exactly one job for its
// whole life (unique by its arguments), so only one worker ever executes
// a run's steps. The job makes a Pass: stage after stage of the plan, each
// step (each for_each item) through a chain of Stages — prepare (when,
// parameters) → guardrail → approval → act → record → notify. Every step
// transition is a compare-and-set in the ledger, committed before the side
// effect it leads to. While steps wait for a person the job is snoozed
// until the earliest deadline; an approval's deadline is a second job that
// applies on_timeout; Decide (firebreak approve|deny) records a decision
// and wakes the run's job in the same transaction.
//
// An Announcer (Slack, in serve) hears of each approval request, each
// decision applied and, when asked, each step's end: each announcement is
// a River job inserted in the transaction of the transition it tells of,
// unique by what it is about, so a repeated pass announces nothing twice
// and a failed post is retried without holding up the run.
//
// After a crash, a run resumes from the ledger: a step found running is
// called again with the same idempotency key when its action is
// idempotent, and failed as "interrupted; not idempotent, not retried"
// otherwise. On SQLite, which one process owns, jobs left running are made
// available at Start; on PostgreSQL River's rescuer does it.
//
// Check mode swaps the act stage for one that asks actions which AWS calls
// they would make: playbook test is the same path as serve.
//
// docs/runner.md describes the lifecycle, crash semantics, approvals and
// dry runs for operators.
package runner
