package ledger

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
)

//go:embed migrations/*/*.sql
var migrationFS embed.FS

// migration is one numbered .sql file under migrations/<dialect>/.
type migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads a dialect's migrations in order; their versions must
// run 1, 2, 3... without gaps.
func loadMigrations(fsys fs.FS, dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: %s/%s: name is not NNN_name.sql", dir, e.Name())
		}
		v, _ := strconv.Atoi(m[1]) // three digits always parse
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		out = append(out, migration{Version: v, Name: m[2], SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s: version %03d where %03d was expected", dir, m.Version, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrations: %s: none", dir)
	}
	return out, nil
}

// migrationsTableExists counts the ledger_migrations tables the
// connection sees, per dialect.
var migrationsTableExists = map[string]string{
	"sqlite":   `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_migrations'`,
	"postgres": `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'ledger_migrations'`,
}

// migrate applies the migrations not yet recorded in ledger_migrations,
// inside the caller's transaction (which the caller has made exclusive).
func migrate(ctx context.Context, q querier, dialect string, now int64, log *slog.Logger) error {
	ms, err := loadMigrations(migrationFS, dialect)
	if err != nil {
		return err
	}
	// Look before creating, so that a ledger already up to date is opened
	// without writing (a PostgreSQL role that may only read can open it).
	var exists int
	if err := q.queryRow(ctx, migrationsTableExists[dialect]).Scan(&exists); err != nil {
		return fmt.Errorf("migrations: look for ledger_migrations: %w", err)
	}
	if exists == 0 {
		if _, err := q.exec(ctx, `CREATE TABLE ledger_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`); err != nil {
			return fmt.Errorf("migrations: create ledger_migrations: %w", err)
		}
	}
	applied := map[int]bool{}
	rs, err := q.query(ctx, `SELECT version FROM ledger_migrations`)
	if err != nil {
		return fmt.Errorf("migrations: read ledger_migrations: %w", err)
	}
	for rs.Next() {
		var v int
		if err := rs.Scan(&v); err != nil {
			rs.Close()
			return fmt.Errorf("migrations: read ledger_migrations: %w", err)
		}
		applied[v] = true
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("migrations: read ledger_migrations: %w", err)
	}
	for v := range applied {
		if v > len(ms) {
			return fmt.Errorf("migrations: the ledger is at version %d, newer than this binary knows (%d): upgrade firebreak", v, len(ms))
		}
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		if _, err := q.exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrations: %s/%03d_%s.sql: %w", dialect, m.Version, m.Name, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO ledger_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, now); err != nil {
			return fmt.Errorf("migrations: record %03d_%s: %w", m.Version, m.Name, err)
		}
		log.Info("ledger migration applied", "dialect", dialect, "version", m.Version, "name", m.Name)
	}
	return nil
}
