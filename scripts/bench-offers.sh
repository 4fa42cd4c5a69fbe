#!/usr/bin/env bash
# Ranks freed slots' candidates in a store of 1,000,000 bookings (target:
# a median of at most 20 ms), then has 1,000 patients accept 100 slots at
# once (target: moved=100, double=0). SQLite by default; pass
# -postgres DSN for PostgreSQL. The last line is:
#   offers bookings=… candidates_ms=… slots=100 acceptors=1000 moved=… double=…
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./scripts/benchoffers "$@"
