// Package ledger is Firebreak's memory: every incident, playbook run,
// step, approval, guardrail decision, budget use and piece of evidence,
// and an append-only, hash-chained audit log of every change.
//
// One Store interface has two implementations sharing their queries:
// SQLite (one file, the default) and PostgreSQL (to scale out). Both live
// in the same database as River's tables, so a runner can insert an
// incident and its first River job in one transaction: SQLite.UpdateSQL
// and Postgres.UpdatePgx hand over the driver transaction River's
// InsertTx takes, and DB and Pool the handles River's drivers are built
// on. Options.MigrateRiver applies River's migrations with the ledger's.
//
// Writes go through Store.Update; each Tx method records its change and
// appends an audit entry in the same transaction. An entry's hash is the
// SHA-256 of the previous entry's hash and the entry's canonical content,
// and Store.Verify walks the chain to find the first broken link.
//
// Incidents are deduplicated on a key: a repeat of a finding whose
// incident is not resolved counts on that incident. Subjects (access keys,
// users, roles, instances, buckets, IPs) are indexed so that SeenBefore
// finds earlier incidents that involved the same things.
//
// Secrets never enter the ledger: step parameters, outputs, events and
// inline evidence pass through a redaction hook (RedactJSON by default),
// and free text through RedactText.
//
// Migrations are numbered .sql files under migrations/<dialect>/,
// embedded, applied at Open and recorded in ledger_migrations.
package ledger
