package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

// benchStores opens a fresh SQLite ledger and, when a test server is
// configured, a PostgreSQL one, for the same benchmark.
func benchStores(ctx context.Context, b *testing.B) map[string]func(*testing.B) ledger.Store {
	b.Helper()
	stores := map[string]func(*testing.B) ledger.Store{
		"sqlite": func(b *testing.B) ledger.Store {
			s, err := ledger.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), ledger.Options{MigrateRiver: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	if dsn := os.Getenv("FIREBREAK_TEST_POSTGRES"); dsn != "" {
		stores["postgres"] = func(b *testing.B) ledger.Store {
			schema := ledgertest.NewSchemaName()
			s, err := ledger.OpenPostgres(ctx, dsn, ledger.Options{MigrateRiver: true, Schema: schema})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				_ = s.Close()
				ledgertest.DropSchema(b, dsn, schema)
			})
			return s
		}
	}
	return stores
}

var benchEvent = json.RawMessage(`{"version":"0","id":"e","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"123456789012","region":"us-east-1","detail":{"type":"UnauthorizedAccess:EC2/SSHBruteForce","severity":8}}`)

func benchFinding(key string) ledger.Finding {
	return ledger.Finding{
		DedupKey: key, Playbook: "ec2-attack", Source: "aws.guardduty", FindingType: "UnauthorizedAccess:EC2/SSHBruteForce",
		Title: "SSH brute force", Severity: 8, SeverityLabel: "high", Account: "123456789012", Region: "us-east-1",
		Subjects: []ledger.Subject{{Kind: ledger.SubjectInstance, Value: "i-0123456789abcdef0"}, {Kind: ledger.SubjectIP, Value: "198.51.100.7"}},
		Event:    benchEvent,
	}
}

// BenchmarkRecordFinding measures one finding per transaction on SQLite
// (and PostgreSQL when FIREBREAK_TEST_POSTGRES is set):
// a new incident each time, and a repeat counted on an existing one.
func BenchmarkRecordFinding(b *testing.B) {
	ctx := context.Background()
	for _, db := range []string{"sqlite", "postgres"} {
		open, ok := benchStores(ctx, b)[db]
		if !ok {
			continue
		}
		for _, mode := range []string{"new", "repeat"} {
			b.Run(db+"/"+mode, func(b *testing.B) {
				s := open(b)
				i := 0
				for b.Loop() {
					key := "same"
					if mode == "new" {
						key = fmt.Sprintf("k%d", i)
					}
					i++
					err := s.Update(ctx, func(tx ledger.Tx) error {
						_, _, err := tx.RecordFinding(ctx, benchFinding(key))
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkTransitionStep measures one compare-and-set step transition per
// transaction on SQLite (and PostgreSQL) (running → running, a re-drive, so that the step
// can move forever).
func BenchmarkTransitionStep(b *testing.B) {
	ctx := context.Background()
	for _, db := range []string{"sqlite", "postgres"} {
		open, ok := benchStores(ctx, b)[db]
		if !ok {
			continue
		}
		b.Run(db, func(b *testing.B) {
			s := open(b)
			key := ledger.StepKey{StepID: "isolate"}
			err := s.Update(ctx, func(tx ledger.Tx) error {
				inc, _, err := tx.RecordFinding(ctx, benchFinding("k"))
				if err != nil {
					return err
				}
				run, err := tx.EnsureRun(ctx, inc.ID, "ec2-attack")
				if err != nil {
					return err
				}
				key.RunID = run.ID
				if _, err := tx.EnsureStep(ctx, key, "aws.ec2.isolate_instance", map[string]string{"instance_id": "i-0123456789abcdef0"}); err != nil {
					return err
				}
				_, err = tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepPending, To: ledger.StepRunning})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			attempt := 1
			for b.Loop() {
				err := s.Update(ctx, func(tx ledger.Tx) error {
					_, err := tx.TransitionStep(ctx, ledger.Transition{StepKey: key, From: ledger.StepRunning, To: ledger.StepRunning, Attempt: attempt, Output: map[string]string{"state": "isolated"}})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				attempt++
			}
		})
	}
}

// BenchmarkVerify measures walking a chain of 1,000 audit entries.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	s := benchStores(ctx, b)["sqlite"](b)
	for i := range 1000 {
		err := s.Update(ctx, func(tx ledger.Tx) error {
			_, _, err := tx.RecordFinding(ctx, benchFinding(fmt.Sprintf("k%d", i%50)))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		v, err := s.Verify(ctx)
		if err != nil || v.Broken != nil || v.Entries != 1000 {
			b.Fatalf("Verify = %+v, %v", v, err)
		}
	}
}
