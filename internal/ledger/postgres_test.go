package ledger_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

// An operator's role that may only read can run incident list and ledger
// verify against an up-to-date ledger: opening it writes nothing.
func TestPostgresOpenWithReadOnlyRole(t *testing.T) {
	dsn := ledgertest.PostgresDSN(t)
	if strings.Contains(dsn, "://") {
		t.Skip("this test appends role= to FIREBREAK_TEST_POSTGRES, which must then be key=value")
	}
	ctx := context.Background()
	schema := ledgertest.NewSchemaName()
	t.Cleanup(func() { ledgertest.DropSchema(t, dsn, schema) })
	s, err := ledger.OpenPostgres(ctx, dsn, ledger.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx ledger.Tx) error {
		_, _, err := tx.RecordFinding(ctx, ledger.Finding{DedupKey: "k"})
		return err
	})
	_ = s.Close()
	if err != nil {
		t.Fatal(err)
	}

	role := schema + "_reader"
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	r, sc := pgx.Identifier{role}.Sanitize(), pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{
		`CREATE ROLE ` + r + ` NOLOGIN`,
		`GRANT USAGE ON SCHEMA ` + sc + ` TO ` + r,
		`GRANT SELECT ON ALL TABLES IN SCHEMA ` + sc + ` TO ` + r,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(ctx, `DROP OWNED BY `+r)
		_, _ = conn.Exec(ctx, `DROP ROLE `+r)
	})

	// Connect as the test user, then act as the reader (role is a
	// run-time parameter).
	readerDSN := dsn + " role=" + role
	rs, err := ledger.OpenPostgres(ctx, readerDSN, ledger.Options{Schema: schema})
	if err != nil {
		t.Fatalf("open as a read-only role: %v", err)
	}
	defer func() { _ = rs.Close() }()
	if v, err := rs.Verify(ctx); err != nil || v.Entries != 1 || v.Broken != nil {
		t.Errorf("Verify as a read-only role = %+v, %v", v, err)
	}
	if list, err := rs.ListIncidents(ctx, ledger.ListFilter{}); err != nil || len(list) != 1 {
		t.Errorf("ListIncidents as a read-only role = %d, %v", len(list), err)
	}
	err = rs.Update(ctx, func(tx ledger.Tx) error {
		_, _, err := tx.RecordFinding(ctx, ledger.Finding{DedupKey: "k2"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("write as a read-only role: %v, want permission denied", err)
	}
}
