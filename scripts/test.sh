#!/usr/bin/env bash
# Runs every test. The store suite runs against SQLite and a real PostgreSQL:
# this script installs the PostgreSQL server when it is missing (Debian, as
# root) and starts a throwaway cluster for the run. Under CI=true a missing
# dependency fails the run instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }
if ! have_pg; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing the PostgreSQL server…" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
	fi
	have_pg || { echo "test: the PostgreSQL server (initdb, pg_ctl) is required; install postgresql" >&2; exit 1; }
fi

unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "test: not gofmt'ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
scripts/with-postgres.sh go test -race -count=1 -timeout 15m ./... "$@"
