package ledgertest

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// firstStepArgs is the job a runner would enqueue with a new incident.
type firstStepArgs struct {
	IncidentID string `json:"incident_id"`
}

func (firstStepArgs) Kind() string { return "ledgertest_first_step" }

// insertWithJob records a finding and inserts a River job for it in one
// transaction, then returns fail (rolling both back) or commits.
func insertWithJob(ctx context.Context, t *testing.T, s ledger.Store, key string, fail error) error {
	t.Helper()
	both := func(tx ledger.Tx, insertJob func(args river.JobArgs) error) error {
		inc, _, err := tx.RecordFinding(ctx, finding(key, t0))
		if err != nil {
			return err
		}
		if err := insertJob(firstStepArgs{IncidentID: inc.ID}); err != nil {
			return err
		}
		return fail
	}
	switch s := s.(type) {
	case *ledger.SQLite:
		client, err := river.NewClient(riversqlite.New(s.DB()), &river.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s.UpdateSQL(ctx, func(tx ledger.Tx, stx *sql.Tx) error {
			return both(tx, func(args river.JobArgs) error {
				_, err := client.InsertTx(ctx, stx, args, nil)
				return err
			})
		})
	case *ledger.Postgres:
		client, err := river.NewClient(riverpgxv5.New(s.Pool()), &river.Config{Schema: s.Schema()})
		if err != nil {
			t.Fatal(err)
		}
		return s.UpdatePgx(ctx, func(tx ledger.Tx, ptx pgx.Tx) error {
			return both(tx, func(args river.JobArgs) error {
				_, err := client.InsertTx(ctx, ptx, args, nil)
				return err
			})
		})
	}
	t.Fatalf("unknown store %T", s)
	return nil
}

func testRiverJobInSameTx(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t, ledger.Options{})
	count := func() (incidents, jobs string) {
		return Strings(t, s, `SELECT CAST(count(*) AS TEXT) FROM incidents`)[0], Strings(t, s, `SELECT CAST(count(*) AS TEXT) FROM river_job`)[0]
	}

	boom := errors.New("boom")
	if err := insertWithJob(ctx, t, s, "rolled-back", boom); !errors.Is(err, boom) {
		t.Fatalf("insert with job: %v, want the callback's error", err)
	}
	if inc, jobs := count(); inc != "0" || jobs != "0" {
		t.Errorf("after rollback: %s incidents, %s River jobs; want 0 and 0", inc, jobs)
	}

	if err := insertWithJob(ctx, t, s, "committed", nil); err != nil {
		t.Fatalf("insert with job: %v", err)
	}
	if inc, jobs := count(); inc != "1" || jobs != "1" {
		t.Errorf("after commit: %s incidents, %s River jobs; want 1 and 1", inc, jobs)
	}
	kinds := Strings(t, s, `SELECT kind FROM river_job`)
	if len(kinds) != 1 || kinds[0] != (firstStepArgs{}).Kind() {
		t.Errorf("River job kinds = %v", kinds)
	}
	verifyIntact(t, s)
}
