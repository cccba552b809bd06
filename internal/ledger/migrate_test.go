package ledger

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		ms, err := loadMigrations(migrationFS, dialect)
		if err != nil {
			t.Fatalf("%s: %v", dialect, err)
		}
		if ms[0].Version != 1 || ms[0].Name != "initial" || !strings.Contains(ms[0].SQL, "CREATE TABLE incidents") {
			t.Errorf("%s: first migration = %d %s", dialect, ms[0].Version, ms[0].Name)
		}
	}
	sqlite, _ := loadMigrations(migrationFS, "sqlite")
	postgres, _ := loadMigrations(migrationFS, "postgres")
	if len(sqlite) != len(postgres) {
		t.Errorf("sqlite has %d migrations, postgres %d: every change needs both dialects", len(sqlite), len(postgres))
	}

	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"gap", []string{"001_a.sql", "003_c.sql"}, "version 003 where 002 was expected"},
		{"bad name", []string{"001_a.sql", "2_b.sql"}, "migrations/x/2_b.sql: name is not NNN_name.sql"},
		{"none", nil, "none"},
		{"starts at 2", []string{"002_b.sql"}, "version 002 where 001 was expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"migrations/x": &fstest.MapFile{Mode: fs.ModeDir | 0o755}}
			for _, f := range tt.files {
				fsys["migrations/x/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			_, err := loadMigrations(fsys, "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	got := rebind(`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`)
	if want := `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`; got != want {
		t.Errorf("rebind = %s, want %s", got, want)
	}
}
