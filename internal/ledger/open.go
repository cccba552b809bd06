package ledger

import (
	"context"
	"fmt"
	"strings"
)

// Config says which ledger to open.
type Config struct {
	// DSN is sqlite:///abs/path.db, sqlite://rel/path.db, a bare file
	// path, or a PostgreSQL postgres:// URL or key=value string.
	DSN string
	Options
}

// Driver names a database the ledger runs on.
type Driver string

// The drivers.
const (
	DriverSQLite   Driver = "sqlite"
	DriverPostgres Driver = "postgres"
)

// ParseDSN says which driver dsn is for and what to give it: the file
// path for SQLite, the DSN itself for PostgreSQL. A PostgreSQL DSN is
// never repeated in an error, as it may hold a password.
func ParseDSN(dsn string) (Driver, string, error) {
	d := strings.TrimSpace(dsn)
	switch {
	case d == "":
		return "", "", fmt.Errorf("ledger DSN: empty")
	case strings.HasPrefix(d, "postgres://"), strings.HasPrefix(d, "postgresql://"):
		return DriverPostgres, d, nil
	case strings.HasPrefix(d, "sqlite://"):
		return sqlitePath(strings.TrimPrefix(d, "sqlite://"), dsn)
	case strings.HasPrefix(d, "sqlite:"):
		return sqlitePath(strings.TrimPrefix(d, "sqlite:"), dsn)
	case strings.Contains(d, "://"):
		scheme, _, _ := strings.Cut(d, "://")
		return "", "", fmt.Errorf("ledger DSN: scheme %q: want sqlite:// or postgres://", scheme)
	case isKeyValueDSN(d):
		return DriverPostgres, d, nil
	}
	return sqlitePath(d, dsn)
}

func sqlitePath(p, dsn string) (Driver, string, error) {
	switch {
	case p == "":
		return "", "", fmt.Errorf("ledger DSN %q: no file path", dsn)
	case strings.ContainsAny(p, "?\x00"):
		return "", "", fmt.Errorf("ledger DSN %q: a SQLite path must not contain ? or NUL", dsn)
	}
	return DriverSQLite, p, nil
}

// isKeyValueDSN reports whether d looks like libpq's "host=... dbname=..."
// form.
func isKeyValueDSN(d string) bool {
	for _, f := range strings.Fields(d) {
		k, _, ok := strings.Cut(f, "=")
		if !ok {
			return false
		}
		switch k {
		case "host", "hostaddr", "dbname", "user", "port", "sslmode", "password":
			return true
		}
	}
	return false
}

// Open opens the ledger cfg.DSN names, applying migrations.
func Open(ctx context.Context, cfg Config) (Store, error) {
	driver, target, err := ParseDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	if driver == DriverPostgres {
		return OpenPostgres(ctx, target, cfg.Options)
	}
	return OpenSQLite(ctx, target, cfg.Options)
}
