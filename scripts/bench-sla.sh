#!/usr/bin/env bash
# Times `richiamo sla` over a generated 1,000,000-attempt log (target: under
# 10 s on 2 cores). The last line is: sla attempts=… seconds=…
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/richiamo ./cmd/richiamo
go run ./scripts/benchsla -bin bin/richiamo "$@"
