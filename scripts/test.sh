#!/usr/bin/env bash
# Runs every test in the module: `make test` calls this, and so does CI.
#
# PostgreSQL: when a server binary is installed (Debian's postgresql package;
# .ci/run installs it), a throwaway cluster is started in a temporary folder,
# listening only on a Unix socket there, and FIREBREAK_TEST_POSTGRES is set to
# its DSN so the PostgreSQL suites run. It is stopped and removed on exit.
# Set FIREBREAK_TEST_POSTGRES yourself to use a server you already run.
#
# FIREBREAK_CI=1 turns "tool not installed, skipping" into a test failure, so
# that CI cannot pass by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

pgdir=""
cleanup() {
	if [ -n "$pgdir" ]; then
		as_pg "$bindir/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$pgdir"
	fi
}
trap cleanup EXIT

# as_pg runs a PostgreSQL server command; initdb and postgres refuse to run
# as root, so under root they run as the postgres user.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

if [ -z "${FIREBREAK_TEST_POSTGRES:-}" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$bindir" ] && [ -x "$bindir/initdb" ]; then
		pgdir=$(mktemp -d /tmp/firebreak-pg.XXXXXX)
		chmod 755 "$pgdir"
		[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
		as_pg "$bindir/initdb" -D "$pgdir/data" -A trust -U firebreak --no-sync >"$pgdir/initdb.log" 2>&1 ||
			{ cat "$pgdir/initdb.log"; exit 1; }
		as_pg "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
			-o "-k $pgdir -c listen_addresses= -c fsync=off -c max_connections=200" start >/dev/null ||
			{ cat "$pgdir/server.log"; exit 1; }
		export FIREBREAK_TEST_POSTGRES="host=$pgdir user=firebreak dbname=postgres sslmode=disable"
		echo "scripts/test.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $pgdir"
	else
		echo "scripts/test.sh: no PostgreSQL server installed; its suites will skip (apt-get install postgresql)"
	fi
fi

go vet ./...
go test -race -count=1 -timeout 45m "$@" ./...
# Allocation counts mean nothing under -race (sync.Pool drops items at
# random there), so the zero-allocation tests run once more without it.
go test -count=1 -run 'DoesNotAllocate' ./internal/pattern/...
