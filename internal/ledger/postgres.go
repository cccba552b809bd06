package ledger

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Postgres is the ledger in a PostgreSQL database (pgx v5). Every write
// transaction locks the audit chain's head row when it begins, so audit
// entries are appended in commit order and writers cannot deadlock on it.
type Postgres struct {
	*store
	pool   *pgxpool.Pool
	schema string
}

var _ Store = (*Postgres)(nil)

var pgIdentifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)

// OpenPostgres connects to the database at dsn (a postgres:// URL or
// key=value string) and applies the ledger's migrations, and River's when
// o.MigrateRiver is set. Errors never repeat the DSN, which may hold a
// password.
func OpenPostgres(ctx context.Context, dsn string, o Options) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("ledger: postgres: the DSN does not parse (it is not repeated here as it may hold a password)")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.Schema != "" {
		if !pgIdentifier.MatchString(o.Schema) {
			return nil, fmt.Errorf("ledger: postgres: schema %q: want letters, digits and _, not starting with a digit, at most 63", o.Schema)
		}
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			return nil, fmt.Errorf("ledger: postgres: connect: %w", err)
		}
		err = createSchema(ctx, conn, o.Schema)
		_ = conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("ledger: postgres: schema %s: %w", o.Schema, err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ledger: postgres: %w", err)
	}
	p := &Postgres{store: newStore(pgxQuerier{pool}, o), pool: pool, schema: o.Schema}
	if err := p.migrate(ctx, o); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ledger: postgres: %w", err)
	}
	return p, nil
}

// createSchema creates the schema unless it exists; looking first means
// a role without CREATE on the database can open an existing ledger.
func createSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
	return err
}

func (p *Postgres) migrate(ctx context.Context, o Options) error {
	// One migrator per schema at a time, across every replica: a session
	// lock, as River's migrations commit version by version (PostgreSQL
	// cannot use an enum value in the transaction that added it).
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const lockKey = `hashtext('firebreak ledger migrations ' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`) }()

	ptx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ptx.Rollback(ctx) }()
	if err := migrate(ctx, pgxQuerier{ptx}, "postgres", micros(p.now()), o.logger()); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("migrations: commit: %w", err)
	}
	if o.MigrateRiver {
		m, err := rivermigrate.New(riverpgxv5.New(p.pool), &rivermigrate.Config{Logger: o.logger(), Schema: p.schema})
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
	}
	return nil
}

// Pool is the connection pool, for building River's riverpgxv5 driver on
// the same database.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// Schema is the schema the ledger (and River, when migrated here) lives
// in; empty for the connection's search_path. Give it to River's Config.
func (p *Postgres) Schema() string { return p.schema }

// Update implements Store.
func (p *Postgres) Update(ctx context.Context, fn func(Tx) error) error {
	return p.UpdatePgx(ctx, func(t Tx, _ pgx.Tx) error { return fn(t) })
}

// UpdatePgx is Update that also hands fn the underlying transaction, so
// that River's InsertTx can enqueue a job in it: the job and the ledger
// changes commit or roll back together.
func (p *Postgres) UpdatePgx(ctx context.Context, fn func(Tx, pgx.Tx) error) error {
	ptx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("ledger: begin: %w", err)
	}
	defer func() { _ = ptx.Rollback(ctx) }()
	if _, err := ptx.Exec(ctx, `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
		return fmt.Errorf("ledger: lock audit head: %w", err)
	}
	if err := fn(&tx{s: p.store, q: pgxQuerier{ptx}}, ptx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	return nil
}

// Verify implements Store, reading the chain from one snapshot.
func (p *Postgres) Verify(ctx context.Context) (Verification, error) {
	ptx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Verification{}, fmt.Errorf("ledger: begin: %w", err)
	}
	defer func() { _ = ptx.Rollback(ctx) }()
	return verify(ctx, pgxQuerier{ptx})
}

// Close closes the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}
