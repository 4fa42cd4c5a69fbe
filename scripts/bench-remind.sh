#!/usr/bin/env bash
# Measures the reminder job on SQLite and PostgreSQL next to each
# database's bulk tool on the same rows, in the same run:
# - a dry-run plan of a generated 1,000,000-row extract (targets: at most
#   20 s and 500 MB on 2 cores);
# - the real (stored) import of the same extract, next to the sqlite3
#   shell's .import and PostgreSQL's COPY of the same rows (target: at
#   most 3 times each), with the console's and the webhooks' worst answer
#   while the SQLite import runs; then the same extract imported again on
#   each database, as the next day's run when nothing changed at the CUP;
# - the plan and the import at 100,000, 1,000,000 and 4,000,000 rows, time
#   and peak RSS (target: memory does not grow with the rows);
# - 20,000 sends to an imitation of Twilio with the limit at 500/s
#   (target: the provider sees at least 95% of the limit).
# PostgreSQL is the server at RICHIAMO_TEST_POSTGRES_DSN, or a throwaway
# one (scripts/with-postgres.sh). Flags go to the program (-rows, -growth,
# -send, …). The growth table comes before the last line:
#   plan rows=… seconds=… rss_mb=… send_rate=… limit=… ratio=… import_s=… sqlite3_s=… import_ratio=… pg_import_s=… copy_s=… pg_ratio=… console_worst_ms=… webhook_worst_ms=…
#   … sqlite3_indexed_s=… indexed_ratio=… copy_indexed_s=… pg_indexed_ratio=… reimport_s=… pg_reimport_s=…
#   … alone_import_s=… alone_ratio=… alone_indexed_ratio=… (the SQLite import again, nobody else on the store)
#   … scheduled_import_s=… scheduled_ratio=… scheduled_indexed_ratio=… scheduled_console_worst_ms=…
#   scheduled_webhook_worst_ms=… serve_rss_mb=… (and again by serve's own schedule, probed)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/richiamo ./cmd/richiamo
go build -o bin/benchremind ./scripts/benchremind
if [[ -n "${RICHIAMO_TEST_POSTGRES_DSN:-}" ]]; then
	exec bin/benchremind -bin bin/richiamo "$@"
fi
exec scripts/with-postgres.sh bin/benchremind -bin bin/richiamo "$@"
