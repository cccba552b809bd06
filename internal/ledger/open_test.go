package ledger_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-sec/firebreak/internal/ledger"
	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name       string
		dsn        string
		wantDriver ledger.Driver
		wantTarget string
		wantErr    string
	}{
		{"bare file", "firebreak.db", ledger.DriverSQLite, "firebreak.db", ""},
		{"bare absolute path", "/var/lib/firebreak/ledger.db", ledger.DriverSQLite, "/var/lib/firebreak/ledger.db", ""},
		{"sqlite url, absolute", "sqlite:///var/lib/firebreak.db", ledger.DriverSQLite, "/var/lib/firebreak.db", ""},
		{"sqlite url, relative", "sqlite://data/ledger.db", ledger.DriverSQLite, "data/ledger.db", ""},
		{"sqlite: prefix", "sqlite:ledger.db", ledger.DriverSQLite, "ledger.db", ""},
		{"postgres url", "postgres://fb:pw@db:5432/firebreak?sslmode=require", ledger.DriverPostgres, "postgres://fb:pw@db:5432/firebreak?sslmode=require", ""},
		{"postgresql url", "postgresql://db/firebreak", ledger.DriverPostgres, "postgresql://db/firebreak", ""},
		{"key=value", "host=/tmp/pg user=firebreak dbname=postgres", ledger.DriverPostgres, "host=/tmp/pg user=firebreak dbname=postgres", ""},
		{"surrounding space", "  ledger.db ", ledger.DriverSQLite, "ledger.db", ""},
		{"empty", "", "", "", "ledger DSN: empty"},
		{"blank", "   ", "", "", "ledger DSN: empty"},
		{"sqlite url without path", "sqlite://", "", "", "no file path"},
		{"query in sqlite path", "sqlite://a.db?mode=ro", "", "", "must not contain ?"},
		{"unknown scheme", "mysql://db/x", "", "", `scheme "mysql"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver, target, err := ledger.ParseDSN(tt.dsn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDSN(%q) error = %v, want one containing %q", tt.dsn, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{string(driver), target}, []string{string(tt.wantDriver), tt.wantTarget}); diff != "" {
				t.Errorf("ParseDSN(%q) (-got +want):\n%s", tt.dsn, diff)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"firebreak.db", "sqlite:///a/b.db", "postgres://u:p@h/d", "host=x dbname=y", "", "sqlite://", "a://b", "x=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		driver, target, err := ledger.ParseDSN(dsn)
		if err != nil {
			if driver != "" || target != "" {
				t.Errorf("ParseDSN(%q) returned %q %q with error %v", dsn, driver, target, err)
			}
			return
		}
		switch driver {
		case ledger.DriverSQLite:
			if target == "" || strings.ContainsAny(target, "?\x00") {
				t.Errorf("ParseDSN(%q) gave SQLite path %q", dsn, target)
			}
		case ledger.DriverPostgres:
			if target == "" {
				t.Errorf("ParseDSN(%q) gave an empty PostgreSQL DSN", dsn)
			}
		default:
			t.Errorf("ParseDSN(%q) gave driver %q", dsn, driver)
		}
	})
}

func TestOpenSQLiteReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := ledger.Open(ctx, ledger.Config{DSN: "sqlite://" + path, Options: ledger.Options{MigrateRiver: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*ledger.SQLite); !ok {
		t.Fatalf("Open(sqlite://...) = %T, want *ledger.SQLite", s)
	}
	err = s.Update(ctx, func(tx ledger.Tx) error {
		_, _, err := tx.RecordFinding(ctx, ledger.Finding{DedupKey: "k"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening applies no migration twice and keeps what was written.
	s, err = ledger.Open(ctx, ledger.Config{DSN: path, Options: ledger.Options{MigrateRiver: true, MustExist: true}})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() { _ = s.Close() }()
	got := ledgertest.Strings(t, s, `SELECT CAST(version AS TEXT) || ' ' || name FROM ledger_migrations ORDER BY version`)
	if diff := cmp.Diff(got, []string{"1 initial", "2 quarantine"}); diff != "" {
		t.Errorf("ledger_migrations (-got +want):\n%s", diff)
	}
	list, err := s.ListIncidents(ctx, ledger.ListFilter{})
	if err != nil || len(list) != 1 {
		t.Errorf("after reopen: %d incidents, %v; want 1", len(list), err)
	}
	if v, err := s.Verify(ctx); err != nil || v.Broken != nil || v.Entries != 1 {
		t.Errorf("after reopen: Verify = %+v, %v", v, err)
	}
}

func TestOpenSQLiteMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := ledger.Open(context.Background(), ledger.Config{DSN: path, Options: ledger.Options{MustExist: true}})
	if err == nil || !strings.Contains(err.Error(), path+" does not exist") {
		t.Fatalf("Open(missing, MustExist) error = %v", err)
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("Open with MustExist created %s", path)
	}
}

func TestOpenSQLiteNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ledger.Open(context.Background(), ledger.Config{DSN: path})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(junk file) error = %v, want one naming %s", err, path)
	}
}

func TestOpenPostgresErrorHidesPassword(t *testing.T) {
	const password = "hunter2-very-secret"
	for _, dsn := range []string{
		"postgres://fb:" + password + "@127.0.0.1:1/x?connect_timeout=1&sslmode=bogus",   // does not parse
		"postgres://fb:" + password + "@127.0.0.1:1/x?connect_timeout=1&sslmode=disable", // cannot connect
	} {
		_, err := ledger.Open(context.Background(), ledger.Config{DSN: dsn})
		if err == nil {
			t.Fatal("Open of an unusable PostgreSQL DSN succeeded")
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

func TestOpenPostgresReopen(t *testing.T) {
	dsn := ledgertest.PostgresDSN(t)
	ctx := context.Background()
	schema := ledgertest.NewSchemaName()
	t.Cleanup(func() { ledgertest.DropSchema(t, dsn, schema) })
	for i := range 2 {
		s, err := ledger.OpenPostgres(ctx, dsn, ledger.Options{Schema: schema, MigrateRiver: true})
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		got := ledgertest.Strings(t, s, `SELECT CAST(version AS TEXT) FROM ledger_migrations ORDER BY version`)
		_ = s.Close()
		if diff := cmp.Diff(got, []string{"1", "2"}); diff != "" {
			t.Errorf("open %d: ledger_migrations (-got +want):\n%s", i+1, diff)
		}
	}
	if _, err := ledger.OpenPostgres(ctx, dsn, ledger.Options{Schema: "bad-schema;drop"}); err == nil || !strings.Contains(err.Error(), `schema "bad-schema;drop"`) {
		t.Errorf("bad schema name: %v", err)
	}
}
