#!/usr/bin/env bash
# Measures the survey's sampling: `richiamo survey sample` over a year of
# the CUP's inbound call log (750,000 calls, one file a day). Targets: at
# most 5 s and 300 MB on 2 cores. The last line is:
#   survey calls=… seconds=… rss_mb=… sampled=…
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/richiamo ./cmd/richiamo
go run ./scripts/benchsurvey -bin bin/richiamo "$@"
