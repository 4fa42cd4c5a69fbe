#!/usr/bin/env bash
# Runs every test. The store suite runs against SQLite and a real PostgreSQL:
# this script installs the PostgreSQL server when it is missing (Debian, as
# root) and starts a throwaway cluster for the run; the console's browser
# tests need Debian's chromium, the voice tests SIPp and the report tests
# poppler's pdftotext, installed the same way. Under CI=true a
# missing dependency fails the run instead of skipping tests.
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

# The console's browser tests drive Debian's headless chromium, in Italian
# (chromium-l10n holds its Italian, which date fields follow). Under
# CI=true they fail without it; elsewhere they skip with a message.
if ! command -v chromium >/dev/null 2>&1 || [[ -d /usr/lib/chromium/locales && ! -e /usr/lib/chromium/locales/it.pak ]]; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing chromium for the browser tests…" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-l10n >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-l10n >/dev/null; } ||
			echo "test: chromium could not be installed" >&2
	fi
	command -v chromium >/dev/null 2>&1 || echo "test: chromium not found; the browser tests will $([[ ${CI:-} == true ]] && echo fail || echo be skipped)" >&2
fi

# The voice tests call SIPp (Debian's sip-tester) as the remote party.
if ! command -v sipp >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing sip-tester (SIPp)…" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester >/dev/null; } ||
			echo "test: sip-tester could not be installed" >&2
	fi
fi

# The service-level report tests read their PDFs back with poppler's
# pdftotext, as a reader would.
if ! command -v pdftotext >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing poppler-utils (pdftotext)…" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q poppler-utils >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q poppler-utils >/dev/null; } ||
			echo "test: poppler-utils could not be installed" >&2
	fi
fi

unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "test: not gofmt'ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
scripts/with-postgres.sh go test -race -count=1 -timeout 15m ./... "$@"
