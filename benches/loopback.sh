#!/usr/bin/env bash
# Loopback comparison: the h1-tokio echo server (`GET /plaintext`) against
# hyper 1.x http1 (default settings, and `pipeline_flush(true)`) and a raw
# ceiling server, under wrk, keep-alive and pipelined.
#
#   bash benches/loopback.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS]
#                            [--conns N] [--depth N] [--core CPU] [--out FILE]
#
# Defaults: 5 rounds × 10 s, 1 s warm-up, 64 connections, pipelined 16 deep,
# core 0. Each server runs pinned to the same core as wrk (`taskset -c CORE`
# for both): on a 2-core machine split cores swing by 2× from run to run,
# the same core repeats within a few percent. Each round runs every server
# once per mode, in an order rotated from round to round, each on a fresh
# process. Per run it records wrk's requests/s and the server's CPU time
# per request: the on-CPU nanoseconds of all its threads
# (/proc/PID/task/*/schedstat, first field) over the measured run, divided
# by the requests wrk completed. It prints the medians per server and the
# median over rounds of the pairwise ratios h1 / other as markdown.
#
# Needs: cargo, taskset, wrk (installed with `apt-get install -y wrk` when
# missing), awk. Touches no process it did not start.
set -euo pipefail

ROUNDS=5
DURATION=10
WARMUP=1
CONNS=64
DEPTH=16
CORE=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --conns) CONNS="$2"; shift 2 ;;
        --depth) DEPTH="$2"; shift 2 ;;
        --core) CORE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "loopback.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Builds one example, copies it to $WORK/bin and prints the copy's path.
# Copied at once: every adapter has an `echo` example and they share
# target/release/examples/echo, which another build may overwrite.
build_example() {
    local exe
    exe=$(cargo build --release -q -p "$1" --example "$2" --message-format=json |
        grep -o '"executable":"[^"]*"' | tail -1 | sed 's/"executable":"\(.*\)"/\1/')
    mkdir -p "$WORK/bin"
    cp "$exe" "$WORK/bin/$1-$2"
    echo "$WORK/bin/$1-$2"
}

echo "loopback: building release binaries" >&2
ECHO_BIN=$(build_example h1-tokio echo)
HYPER_BIN=$(build_example h1-benches hyper_plaintext)
RAW_BIN=$(build_example h1-benches raw_plaintext)
for b in "$ECHO_BIN" "$HYPER_BIN" "$RAW_BIN"; do
    [ -x "$b" ] || { echo "loopback: build failed ($b)" >&2; exit 1; }
done

if ! command -v wrk >/dev/null; then
    echo "loopback: installing wrk" >&2
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi
command -v taskset >/dev/null || { echo "loopback: taskset (util-linux) is needed" >&2; exit 2; }

cat >"$WORK/pipeline.lua" <<'LUA'
-- N requests per write (N from the first script argument), as in the
-- TechEmpower plaintext test; wrk counts each response.
init = function(args)
    local depth = tonumber(args[1]) or 16
    local r = {}
    for i = 1, depth do
        r[i] = wrk.format(nil)
    end
    req = table.concat(r)
end

request = function()
    return req
end
LUA

SERVERS=(h1 hyper hyper_pf raw)
server_cmd() {
    case "$1" in
        h1) echo "$ECHO_BIN" ;;
        hyper) echo "$HYPER_BIN" ;;
        hyper_pf) echo "$HYPER_BIN --pipeline-flush" ;;
        raw) echo "$RAW_BIN" ;;
    esac
}

# On-CPU nanoseconds of all threads of process $1.
cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

start_server() {
    # Emptied here, not by the background job's redirection, which may run
    # after the first look at it (and the last server's line is still there).
    : >"$WORK/server.out"
    # shellcheck disable=SC2046 # the command line is split on purpose
    taskset -c "$CORE" $(server_cmd "$1") --addr 127.0.0.1:0 >>"$WORK/server.out" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 100); do
        PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/server.out" | head -1)
        if [ -n "$PORT" ]; then
            return 0
        fi
        sleep 0.05
    done
    echo "loopback: server $1 did not start" >&2
    cat "$WORK/server.out" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# wrk against the current server: $1 mode, $2 seconds. Output to $WORK/wrk.out.
run_wrk() {
    local url="http://127.0.0.1:$PORT/plaintext"
    if [ "$1" = pipelined ]; then
        taskset -c "$CORE" wrk -t1 -c"$CONNS" -d"$2"s --timeout 5s -s "$WORK/pipeline.lua" "$url" -- "$DEPTH" >"$WORK/wrk.out" 2>&1
    else
        taskset -c "$CORE" wrk -t1 -c"$CONNS" -d"$2"s --timeout 5s "$url" >"$WORK/wrk.out" 2>&1
    fi
}

RESULTS="$WORK/results" # round mode server rps cpu_ns_per_request errors
: >"$RESULTS"
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
n=${#SERVERS[@]}
for round in $(seq 1 "$ROUNDS"); do
    for mode in keepalive pipelined; do
        for k in $(seq 0 $((n - 1))); do
            server=${SERVERS[$(((k + round - 1) % n))]}
            start_server "$server"
            if [ "$WARMUP" != 0 ]; then run_wrk "$mode" "$WARMUP" || true; fi
            before=$(cpu_ns "$SERVER_PID")
            status=0
            run_wrk "$mode" "$DURATION" || status=$?
            after=$(cpu_ns "$SERVER_PID")
            if [ "$status" != 0 ]; then
                echo "loopback: wrk exited with $status against $server ($mode):" >&2
                cat "$WORK/wrk.out" >&2
            fi
            stop_server
            requests=$(awk '/requests in/ { print $1; exit }' "$WORK/wrk.out")
            rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$WORK/wrk.out")
            errors=$(awk '/Socket errors|Non-2xx/ { e = e $0 "; " } END { print (e == "" ? "-" : e) }' "$WORK/wrk.out" | tr ' ' '_')
            if [ -z "$requests" ] || [ "$requests" = 0 ] || [ -z "$rps" ]; then
                echo "loopback: round $round $mode $server: no result, left out:" >&2
                cat "$WORK/wrk.out" >&2
                echo "$round $mode $server failed" >>"$WORK/failed"
                continue
            fi
            cpu=$(awk -v a="$before" -v b="$after" -v r="$requests" 'BEGIN { printf "%.1f", (b - a) / r }')
            echo "$round $mode $server $rps $cpu $errors" >>"$RESULTS"
            printf 'loopback: round %s %-9s %-8s %12s req/s %9s ns CPU/req %s\n' \
                "$round" "$mode" "$server" "$rps" "$cpu" "$errors" >&2
        done
    done
done

# The median of the numbers on stdin, with $1 decimals.
median() {
    sort -g | awk -v d="${1:-3}" '{ v[NR] = $1 }
        END { if (NR == 0) print "nan"
              else printf "%.*f\n", d, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report() {
    echo "### Loopback: h1-tokio echo vs hyper vs raw ceiling"
    echo
    echo "$START_DATE; $(nproc) CPUs, everything pinned to CPU $CORE; load average at start $START_LOAD;"
    echo "$ROUNDS rounds × ${DURATION} s (warm-up ${WARMUP} s), wrk -t1 -c$CONNS, pipelined $DEPTH deep."
    echo
    echo "| mode | server | median req/s | median server CPU ns/req |"
    echo "| --- | --- | ---: | ---: |"
    for mode in keepalive pipelined; do
        for s in "${SERVERS[@]}"; do
            rps=$(awk -v m="$mode" -v s="$s" '$2 == m && $3 == s { print $4 }' "$RESULTS" | median 0)
            cpu=$(awk -v m="$mode" -v s="$s" '$2 == m && $3 == s { print $5 }' "$RESULTS" | median 1)
            echo "| $mode | $s | $rps | $cpu |"
        done
    done
    echo
    echo "Median over rounds of the per-round ratio h1 / other (req/s: higher is better for h1; CPU/req: lower is better):"
    echo
    echo "| mode | h1 vs | req/s ratio | CPU/req ratio | target |"
    echo "| --- | --- | ---: | ---: | --- |"
    for mode in keepalive pipelined; do
        for other in hyper hyper_pf raw; do
            ratios() {
                awk -v m="$mode" -v o="$other" -v f="$1" '
                    $2 == m && $3 == "h1" { h[$1] = $f }
                    $2 == m && $3 == o { x[$1] = $f }
                    END { for (r in h) if ((r in x) && x[r] > 0) printf "%.4f\n", h[r] / x[r] }' "$RESULTS" | median
            }
            target="-"
            case "$mode/$other" in
                keepalive/hyper) target="req/s ≥ 1.0, CPU/req ≤ 0.9" ;;
                keepalive/raw) target="req/s ≥ 0.97" ;;
                pipelined/hyper_pf) target="req/s ≥ 1.2" ;;
                pipelined/raw) target="req/s ≥ 0.85" ;;
            esac
            printf '| %s | %s | %s | %s | %s |\n' "$mode" "$other" "$(ratios 4)" "$(ratios 5)" "$target"
        done
    done
    echo
    echo "Runs with wrk errors, or left out:"
    echo
    {
        awk '$6 != "-" { gsub("_", " ", $6); print "- round " $1 " " $2 " " $3 ": " $6 }' "$RESULTS"
        if [ -f "$WORK/failed" ]; then sed 's/^\(.*\) failed$/- round \1: no result/' "$WORK/failed"; fi
    } | awk '{ print; n++ } END { if (!n) print "- none" }'
}

if [ -n "$OUT" ]; then
    report | tee "$OUT"
else
    report
fi
