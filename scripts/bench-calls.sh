#!/usr/bin/env bash
# Measures the voice engine: holds N concurrent calls (default 1,000) with
# G.711 both ways against the simulated patients, run in a child process so
# that only the caller's CPU and memory are counted. Targets on 2 cores:
# 1,000 calls held with under 1% of frames sent late, and at least 100
# call set-ups per second. Then SIPp places the same calls to the same
# patients and the CPU per call of both is printed with the ratio (target:
# ours at most 1.5 times SIPp's), with the frames the patients heard late
# or missing, and the jitter, from either caller. Flags go to the program
# (-calls, -rate, -hold, -sipp, …). The last line is:
#   calls target=… held=… late_frames_pct=… cpu_ms_per_call=… rss_mb=… setup_rate=… heard_late_pct=… heard_jitter_ms=…
#   sipp_held=… sipp_cpu_ms_per_call=… cpu_ratio=… sipp_heard_late_pct=… sipp_heard_jitter_ms=…
#   sipp_unread_cpu_ms_per_call=… cpu_ratio_unread=… sipp_unread_heard_late_pct=… sipp_unread_heard_jitter_ms=… (one line)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
go build -o bin/benchcalls ./scripts/benchcalls
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec bin/benchcalls "$@"
