// Package ledgertest is the behavioural suite every ledger.Store
// implementation must pass (Run), with openers for fresh SQLite and
// PostgreSQL ledgers and raw-SQL helpers for tests that go around the
// Store, as an attacker with database access would.
package ledgertest
