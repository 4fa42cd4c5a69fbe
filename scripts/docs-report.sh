#!/usr/bin/env bash
# Renders the demo's monthly service-level report for the README: the demo
# runs, writes November 2026's report as PDF, and poppler's pdftoppm turns
# its first two pages into docs/sla-report-1.png and docs/sla-report-2.png.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdftoppm >/dev/null || { echo "docs-report: pdftoppm is missing (apt-get install poppler-utils)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./cmd/richiamo demo --pdf "$tmp/report.pdf" --html docs/sla-report.html >/dev/null
cp "$tmp/report.pdf" docs/sla-report.pdf
pdftoppm -png -r 80 -f 1 -l 2 docs/sla-report.pdf docs/sla-report
ls -l docs/sla-report*
