package ledger_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Two processes share a SQLite ledger: firebreak serve writing, and an
// operator's firebreak ledger verify. Verify reads a snapshot and must not
// wait for the writer's transaction to end.
func TestSQLiteVerifyDoesNotWaitForAnotherWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	writer, err := ledger.OpenSQLite(ctx, path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = writer.Close() }()
	reader, err := ledger.OpenSQLite(ctx, path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reader.Close() }()

	record := func(tx ledger.Tx, key string) error {
		_, _, err := tx.RecordFinding(ctx, ledger.Finding{DedupKey: key})
		return err
	}
	if err := writer.Update(ctx, func(tx ledger.Tx) error { return record(tx, "committed") }); err != nil {
		t.Fatal(err)
	}

	var got ledger.Verification
	var verifyErr error
	err = writer.UpdateSQL(ctx, func(tx ledger.Tx, _ *sql.Tx) error {
		if err := record(tx, "in flight"); err != nil {
			return err
		}
		// The write lock is held until this callback returns.
		got, verifyErr = reader.Verify(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if verifyErr != nil {
		t.Fatalf("Verify during another connection's write transaction: %v", verifyErr)
	}
	if got.Broken != nil || got.Entries != 1 {
		t.Errorf("Verify saw %+v; want the 1 committed entry, intact", got)
	}
	if v, err := reader.Verify(ctx); err != nil || v.Entries != 2 || v.Broken != nil {
		t.Errorf("after commit: Verify = %+v, %v; want 2 entries", v, err)
	}
}
