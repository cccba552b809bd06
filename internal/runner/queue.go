package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// The job kinds.
const (
	kindAdvance = "firebreak.advance"
	kindExpiry  = "firebreak.approval_expiry"
	kindWake    = "firebreak.wake"
	kindReport  = "firebreak.report"
	kindNotice  = "firebreak.notice"
)

// advanceArgs is the one job of a run: it executes every step it can and,
// while steps await approval, is snoozed (stored, not blocked) until the
// earliest deadline or until a decision wakes it.
type advanceArgs struct {
	RunID      string `json:"run_id"`
	IncidentID string `json:"incident_id"`
}

func (advanceArgs) Kind() string { return kindAdvance }

// InsertOpts makes a run's advance job unique for the run's whole life: a
// run has exactly one, so only one process ever executes a run's steps.
func (a advanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Tags: []string{runTag(a.RunID)}, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func runTag(runID string) string { return "run-" + runID }

// expiryArgs applies an approval's on_timeout at its deadline.
type expiryArgs struct {
	ApprovalID string `json:"approval_id"`
	RunID      string `json:"run_id"`
	IncidentID string `json:"incident_id"`
	OnTimeout  string `json:"on_timeout"` // approve or deny
}

func (expiryArgs) Kind() string { return kindExpiry }

func (a expiryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// wakeArgs wakes a run whose job was still running when a decision was
// made: it waits for that pass to end, then makes the job run again.
type wakeArgs struct {
	RunID string `json:"run_id"`
}

func (wakeArgs) Kind() string { return kindWake }

// reportArgs tells people about a run that ended: Options.Report. It is
// inserted by the run's job once the run's end is in the ledger, unique
// per run, so a re-driven job does not report twice.
type reportArgs struct {
	RunID      string `json:"run_id"`
	IncidentID string `json:"incident_id"`
}

func (reportArgs) Kind() string { return kindReport }

func (a reportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// queue is River on the ledger's database, whichever driver it is: the
// runner is not generic, the two River clients are wrapped here.
type queue interface {
	// update runs fn in one ledger transaction in which jobs can be
	// inserted and woken; all of it commits or none.
	update(ctx context.Context, fn func(ledger.Tx, jobs) error) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

// jobs is what a transaction can do with River.
type jobs interface {
	insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	// wake makes the run's snoozed advance job run now. When the job is
	// running, its pass may already have looked for decisions, so a wake
	// job is enqueued to retry it once that pass has ended.
	wake(ctx context.Context, runID string) error
	// retry makes the run's snoozed advance job run now, and reports
	// whether it is running instead.
	retry(ctx context.Context, runID string) (running bool, err error)
}

type riverQueue[TTx any] struct {
	client   *river.Client[TTx]
	updateTx func(ctx context.Context, fn func(ledger.Tx, TTx) error) error
	recover  func(ctx context.Context) error // nil: River's rescuer does it
}

func (q *riverQueue[TTx]) update(ctx context.Context, fn func(ledger.Tx, jobs) error) error {
	return q.updateTx(ctx, func(t ledger.Tx, tx TTx) error {
		return fn(t, txJobs[TTx]{q.client, tx})
	})
}

func (q *riverQueue[TTx]) start(ctx context.Context) error {
	if q.recover != nil {
		if err := q.recover(ctx); err != nil {
			return err
		}
	}
	return q.client.Start(ctx)
}

func (q *riverQueue[TTx]) stop(ctx context.Context) error { return q.client.Stop(ctx) }

type txJobs[TTx any] struct {
	client *river.Client[TTx]
	tx     TTx
}

func (j txJobs[TTx]) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := j.client.InsertTx(ctx, j.tx, args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

func (j txJobs[TTx]) wake(ctx context.Context, runID string) error {
	running, err := j.retry(ctx, runID)
	if err != nil || !running {
		return err
	}
	return j.insert(ctx, wakeArgs{RunID: runID}, nil)
}

func (j txJobs[TTx]) retry(ctx context.Context, runID string) (bool, error) {
	res, err := j.client.JobListTx(ctx, j.tx, river.NewJobListParams().
		Kinds(kindAdvance).TagsAny(runTag(runID)).
		States(rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStateRunning).First(10))
	if err != nil {
		return false, fmt.Errorf("find the job of run %s: %w", runID, err)
	}
	running := false
	for _, job := range res.Jobs {
		if job.State == rivertype.JobStateRunning {
			running = true
			continue
		}
		if _, err := j.client.JobRetryTx(ctx, j.tx, job.ID); err != nil {
			return false, fmt.Errorf("wake the job of run %s: %w", runID, err)
		}
	}
	return running, nil
}

// queueConfig is what both clients are configured with.
type queueConfig struct {
	workers      *river.Workers
	concurrency  int // 0: an insert-only client
	log          *slog.Logger
	pollInterval time.Duration
	jobTimeout   time.Duration
	rescueAfter  time.Duration
}

func (c queueConfig) river() *river.Config {
	cfg := &river.Config{
		Workers:              c.workers,
		Logger:               c.log,
		JobTimeout:           c.jobTimeout,
		RescueStuckJobsAfter: c.rescueAfter,
		FetchPollInterval:    c.pollInterval,
		FetchCooldown:        c.pollInterval / 2,
		MaxAttempts:          10,
	}
	if c.concurrency > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: c.concurrency}}
	}
	return cfg
}

func newQueue(store ledger.Store, c queueConfig) (queue, error) {
	switch s := store.(type) {
	case *ledger.SQLite:
		client, err := river.NewClient(riversqlite.New(s.DB()), c.river())
		if err != nil {
			return nil, fmt.Errorf("runner: river on sqlite: %w", err)
		}
		return &riverQueue[*sql.Tx]{client: client, updateTx: s.UpdateSQL, recover: func(ctx context.Context) error {
			return recoverSQLite(ctx, s.DB())
		}}, nil
	case *ledger.Postgres:
		cfg := c.river()
		cfg.Schema = s.Schema()
		client, err := river.NewClient(riverpgxv5.New(s.Pool()), cfg)
		if err != nil {
			return nil, fmt.Errorf("runner: river on postgres: %w", err)
		}
		return &riverQueue[pgx.Tx]{client: client, updateTx: s.UpdatePgx}, nil
	case nil:
		return nil, errors.New("runner: no ledger")
	}
	return nil, fmt.Errorf("runner: ledger %T is neither *ledger.SQLite nor *ledger.Postgres; River needs one of them", store)
}

// recoverSQLite makes the jobs a killed process left running available
// again. A SQLite ledger belongs to one process (docs/runner.md), so a job
// still running when that process starts was running in a process that is
// gone. On PostgreSQL, where replicas share the queue, River's rescuer does
// this after RescueStuckJobsAfter.
func recoverSQLite(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND kind IN (?, ?, ?, ?)`, kindAdvance, kindExpiry, kindWake, kindNotice)
	if err != nil {
		return fmt.Errorf("runner: recover interrupted jobs: %w", err)
	}
	return nil
}
