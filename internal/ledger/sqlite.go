package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// SQLite is the ledger in one SQLite file (modernc.org/sqlite): WAL
// journal, foreign keys on, a busy timeout, write transactions that take
// the write lock when they begin, and a single connection, as River's
// riversqlite driver recommends for the same database.
type SQLite struct {
	*store
	db   *sql.DB
	path string
}

var _ Store = (*SQLite)(nil)

// sqliteParams are appended to the file name to configure every
// connection.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// OpenSQLite opens (creating unless o.MustExist) the ledger at path and
// applies its migrations, and River's when o.MigrateRiver is set.
func OpenSQLite(ctx context.Context, path string, o Options) (*SQLite, error) {
	if path == "" {
		return nil, fmt.Errorf("ledger: sqlite: empty path")
	}
	if strings.ContainsAny(path, "?\x00") {
		return nil, fmt.Errorf("ledger: sqlite: path %q: must not contain ? or NUL", path)
	}
	if o.MustExist {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("ledger: %s does not exist (give --db the ledger's DSN)", path)
			}
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	db, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("ledger: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &SQLite{store: newStore(sqlQuerier{db}, o), db: db, path: path}
	if err := s.migrate(ctx, o); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger: sqlite %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context, o Options) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := migrate(ctx, sqlQuerier{tx}, "sqlite", micros(s.now()), o.logger()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: commit: %w", err)
	}
	if o.MigrateRiver {
		// River applies each of its versions in its own transaction.
		m, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: o.logger()})
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
	}
	return nil
}

// DB is the database the ledger lives in, for building River's
// riversqlite driver on it. It has a single connection: do not hold one
// open across ledger calls.
func (s *SQLite) DB() *sql.DB { return s.db }

// Path is the database file.
func (s *SQLite) Path() string { return s.path }

// Update implements Store.
func (s *SQLite) Update(ctx context.Context, fn func(Tx) error) error {
	return s.UpdateSQL(ctx, func(t Tx, _ *sql.Tx) error { return fn(t) })
}

// UpdateSQL is Update that also hands fn the underlying transaction, so
// that River's InsertTx can enqueue a job in it: the job and the ledger
// changes commit or roll back together.
func (s *SQLite) UpdateSQL(ctx context.Context, fn func(Tx, *sql.Tx) error) error {
	stx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: begin: %w", err)
	}
	defer func() { _ = stx.Rollback() }()
	if err := fn(&tx{s: s.store, q: sqlQuerier{stx}}, stx); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	return nil
}

// Verify implements Store, reading the chain in one read transaction
// (BEGIN DEFERRED, a WAL snapshot), which does not block writers in other
// processes.
func (s *SQLite) Verify(ctx context.Context) (Verification, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Verification{}, fmt.Errorf("ledger: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return Verification{}, fmt.Errorf("ledger: begin: %w", err)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) }()
	return verify(ctx, sqlQuerier{conn})
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Options configure a ledger.
type Options struct {
	// MigrateRiver also applies River's migrations at Open, after the
	// ledger's.
	MigrateRiver bool
	// MustExist refuses to create a new SQLite file.
	MustExist bool
	// Schema is the PostgreSQL schema to use, created if missing; the
	// connection's search_path otherwise.
	Schema string
	// MaxConns bounds the PostgreSQL pool; pgxpool's default when 0.
	MaxConns int32
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Redact scrubs secrets from JSON before it is stored; RedactJSON
	// when nil.
	Redact func([]byte) ([]byte, error)
	// Logger receives migration progress; discarded when nil.
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}
