#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster and exports its DSN as
# RICHIAMO_TEST_POSTGRES_DSN. The cluster lives in a temporary directory and
# is removed on exit, whatever the command's result.
#
#   scripts/with-postgres.sh go test ./...
set -euo pipefail

find_bin() {
	local b
	for b in /usr/lib/postgresql/*/bin; do
		if [[ -x "$b/initdb" ]]; then echo "$b"; return 0; fi
	done
	if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
	return 1
}

if ! PGBIN=$(find_bin); then
	echo "with-postgres: PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql" >&2
	exit 1
fi

DIR=$(mktemp -d /tmp/richiamo-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 55432)
chmod 755 "$DIR"

# initdb refuses to run as root: use the postgres account when we are root.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		chown -R postgres: "$DIR"
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PGBIN/initdb" -D "$DIR/data" -U richiamo --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
	as_pg "$PGBIN/initdb" -D "$DIR/data" -U richiamo --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
	cat "$DIR/initdb.log" >&2
	exit 1
}
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
	-o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null || {
	cat "$DIR/server.log" >&2
	exit 1
}
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U richiamo richiamo_test

export RICHIAMO_TEST_POSTGRES_DSN="postgres://richiamo@127.0.0.1:$PORT/richiamo_test?sslmode=disable"
"$@"
