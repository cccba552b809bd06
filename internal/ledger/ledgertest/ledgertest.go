package ledgertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/firebreak-sec/firebreak/internal/ledger"
)

// Opener returns a fresh, empty, migrated ledger (River's tables
// included) for one test; it is closed when the test ends.
type Opener func(t *testing.T, opts ledger.Options) ledger.Store

// SQLite opens each ledger in a new file under the test's temporary
// directory. The file starts as a copy of one migrated once per process
// (River's migrations included), as migrating is most of the cost of a
// small test.
func SQLite() Opener {
	return func(t *testing.T, opts ledger.Options) ledger.Store {
		t.Helper()
		path := filepath.Join(t.TempDir(), "ledger.db")
		if err := os.WriteFile(path, sqliteTemplate(t), 0o600); err != nil {
			t.Fatal(err)
		}
		opts.MigrateRiver = true // finds nothing left to do
		s, err := ledger.OpenSQLite(context.Background(), path, opts)
		if err != nil {
			t.Fatalf("open sqlite ledger: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

var template struct {
	once sync.Once
	db   []byte
	err  error
}

// sqliteTemplate returns the bytes of a freshly migrated, closed (so
// checkpointed) ledger file.
func sqliteTemplate(t *testing.T) []byte {
	t.Helper()
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "ledgertest")
		if err != nil {
			template.err = err
			return
		}
		defer func() { _ = os.RemoveAll(dir) }()
		path := filepath.Join(dir, "template.db")
		s, err := ledger.OpenSQLite(context.Background(), path, ledger.Options{MigrateRiver: true})
		if err != nil {
			template.err = err
			return
		}
		if template.err = s.Close(); template.err != nil {
			return
		}
		template.db, template.err = os.ReadFile(path)
	})
	if template.err != nil {
		t.Fatalf("migrated SQLite template: %v", template.err)
	}
	return template.db
}

// PostgresDSN is the DSN of the test server in FIREBREAK_TEST_POSTGRES
// (scripts/test.sh starts one). Without it the test is skipped, or fails
// when FIREBREAK_CI=1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("FIREBREAK_TEST_POSTGRES")
	if dsn == "" {
		const msg = "FIREBREAK_TEST_POSTGRES is not set: no PostgreSQL server to test against (run scripts/test.sh with postgresql installed)"
		if os.Getenv("FIREBREAK_CI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// Postgres opens each ledger in a new schema of the test server, dropped
// when the test ends, so tests are isolated and can run in parallel.
func Postgres(t testing.TB) Opener {
	dsn := PostgresDSN(t)
	return func(t *testing.T, opts ledger.Options) ledger.Store {
		t.Helper()
		opts.MigrateRiver = true
		opts.Schema = NewSchemaName()
		if opts.MaxConns == 0 {
			opts.MaxConns = 8
		}
		s, err := ledger.OpenPostgres(context.Background(), dsn, opts)
		if err != nil {
			t.Fatalf("open postgres ledger: %v", err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			DropSchema(t, dsn, opts.Schema)
		})
		return s
	}
}

// NewSchemaName returns a fresh PostgreSQL schema name for one test.
func NewSchemaName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ledgertest_" + hex.EncodeToString(b)
}

// DropSchema removes a test schema and everything in it.
func DropSchema(t testing.TB, dsn, schema string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// Exec runs raw SQL (no arguments) on the ledger's database, around the
// Store, as someone with database access could.
func Exec(t testing.TB, s ledger.Store, query string) error {
	t.Helper()
	ctx := context.Background()
	switch s := s.(type) {
	case *ledger.SQLite:
		_, err := s.DB().ExecContext(ctx, query)
		return err
	case *ledger.Postgres:
		_, err := s.Pool().Exec(ctx, query)
		return err
	}
	t.Fatalf("Exec: unknown store %T", s)
	return nil
}

// Strings runs a raw query whose rows are one text column.
func Strings(t testing.TB, s ledger.Store, query string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	switch s := s.(type) {
	case *ledger.SQLite:
		rows, err := s.DB().QueryContext(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	case *ledger.Postgres:
		rows, err := s.Pool().Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = vs
	default:
		t.Fatalf("Strings: unknown store %T", s)
	}
	return out
}

// fixedClock is a settable clock for the store under test.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

// dump returns every text the ledger stores, for leak checks.
func dump(t *testing.T, s ledger.Store) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT title || first_event || latest_event FROM incidents`,
		`SELECT kind || value FROM incident_subjects`,
		`SELECT action || params || output || error FROM steps`,
		`SELECT what || why || reason FROM approvals`,
		`SELECT rule || reason FROM guardrail_decisions`,
		`SELECT kind || uri || inline FROM evidence`,
		`SELECT payload FROM audit_log`,
	} {
		parts = append(parts, Strings(t, s, q)...)
	}
	return strings.Join(parts, "\n")
}
