package ledger_test

import (
	"testing"

	"github.com/firebreak-sec/firebreak/internal/ledger/ledgertest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	ledgertest.Run(t, ledgertest.SQLite())
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	ledgertest.Run(t, ledgertest.Postgres(t))
}
