#!/usr/bin/env bash
# Probes the web server as an unfriendly client would: starts `richiamo
# serve` on loopback with a throwaway SQLite store and sends it oversized
# and multipart bodies (webhooks and sign-in), a flood of failed sign-ins
# with long names, 300 connections that trickle a byte every 5 s, and
# sign-ins that ask to be sent to another site. Bounded: under two minutes.
# Targets: rss_mb_peak under 150, store_growth_mb under 1, no slow
# connection held past the read timeout, no redirect off the console.
# Flags go to the program (-oversized, -flood, -slow, -trickle). The last
# line is:
#   probe rss_mb_peak=… store_growth_mb=… held_slow_conns=… redirect_offsite=…
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/richiamo ./cmd/richiamo
go build -o bin/probeweb ./scripts/probeweb
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec bin/probeweb -richiamo bin/richiamo -campaign campaigns/reminder.yaml "$@"
