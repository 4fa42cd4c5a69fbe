#!/usr/bin/env bash
# Measures the reminder job: a dry-run plan of a generated 1,000,000-row
# extract on SQLite (targets: at most 20 s and 500 MB on 2 cores), and
# 20,000 sends to an imitation of Twilio with the limit at 500/s (target:
# the provider sees at least 95% of the limit). The last line is:
#   plan rows=… seconds=… rss_mb=… send_rate=… limit=… ratio=…
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/richiamo ./cmd/richiamo
go run ./scripts/benchremind -bin bin/richiamo "$@"
