#!/usr/bin/env bash
# Runs the whole benchmark suite and writes one markdown report:
# the criterion micro benches (with their target ratios), the instruction
# counts (callgrind, exact: `callgrind.sh`), the allocation report, and the
# loopback comparison.
#
#   bash benches/run.sh [--quick] [--measurement-time S] [--rounds N] [--duration S]
#                       [--skip-criterion] [--skip-callgrind] [--skip-allocs]
#                       [--skip-loopback] [--label TEXT] [--out FILE]
#
#   --quick               short everything: criterion 0.5 s warm-up, 1 s
#                         measurement, 10 samples; allocs over 2,000 requests
#                         and 200 connections; loopback 1 round × 2 s
#   --measurement-time S  criterion's measurement time per bench (default:
#                         criterion's own, 5 s with a 3 s warm-up)
#   --rounds N, --duration S
#                         loopback rounds and seconds per run (default 5 × 10)
#   --label TEXT          a line at the top of the report, e.g. "smoke, machine loaded"
#   --out FILE            the report (default: TARGET_DIR/bench-report/report.md)
#
# criterion writes to TARGET_DIR/bench-report/criterion (emptied first, so
# the report only has this run's results).
set -euo pipefail

COMMAND="bash benches/run.sh $*"
QUICK=0
MEASUREMENT=""
ROUNDS=5
DURATION=10
WARMUP=1
SKIP_CRITERION=0
SKIP_CALLGRIND=0
SKIP_ALLOCS=0
SKIP_LOOPBACK=0
LABEL=""
OUT=""
ALLOC_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --measurement-time) MEASUREMENT="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --skip-criterion) SKIP_CRITERION=1; shift ;;
        --skip-callgrind) SKIP_CALLGRIND=1; shift ;;
        --skip-allocs) SKIP_ALLOCS=1; shift ;;
        --skip-loopback) SKIP_LOOPBACK=1; shift ;;
        --label) LABEL="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
REPORT_DIR="$TARGET_DIR/bench-report"
OUT=${OUT:-$REPORT_DIR/report.md}
mkdir -p "$REPORT_DIR" "$(dirname "$OUT")"

CRITERION_ARGS=()
if [ "$QUICK" = 1 ]; then
    CRITERION_ARGS=(--warm-up-time 0.5 --measurement-time "${MEASUREMENT:-1}" --sample-size 10)
    ALLOC_ARGS=(--requests 2000 --conns 200)
    ROUNDS=1
    DURATION=2
    WARMUP=0
elif [ -n "$MEASUREMENT" ]; then
    CRITERION_ARGS=(--measurement-time "$MEASUREMENT")
fi

{
    echo "# h1 benchmark report"
    echo
    [ -n "$LABEL" ] && echo "**$LABEL**" && echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- $(rustc --version)"
    echo "- command: $COMMAND"
    echo
} >"$OUT"

if [ "$SKIP_CRITERION" = 0 ]; then
    echo "run.sh: criterion benches" >&2
    rm -rf "$REPORT_DIR/criterion"
    CRITERION_HOME="$REPORT_DIR/criterion" \
        cargo bench -p h1-benches --benches -- "${CRITERION_ARGS[@]}" >&2
    {
        echo "## Micro benches (criterion)"
        echo
        cargo run --release -q -p h1-benches --example criterion_report -- "$REPORT_DIR/criterion"
        echo
    } >>"$OUT"
fi

if [ "$SKIP_CALLGRIND" = 0 ]; then
    echo "run.sh: instruction counts (callgrind)" >&2
    {
        echo "## Instruction counts (callgrind)"
        echo
        bash benches/callgrind.sh
        echo
    } >>"$OUT"
fi

if [ "$SKIP_ALLOCS" = 0 ]; then
    echo "run.sh: allocation report" >&2
    {
        echo "## Allocations and memory"
        echo
        cargo run --release -q -p h1-benches --example allocs -- "${ALLOC_ARGS[@]}" | sed 's/^## /### /'
        echo
    } >>"$OUT"
fi

if [ "$SKIP_LOOPBACK" = 0 ]; then
    echo "run.sh: loopback" >&2
    {
        echo "## Loopback"
        echo
        bash benches/loopback.sh --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP"
        echo
    } >>"$OUT"
fi

echo "run.sh: report written to $OUT" >&2
