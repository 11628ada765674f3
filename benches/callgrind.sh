#!/usr/bin/env bash
# Instruction counts under callgrind (deterministic, so valid on a loaded
# machine), printed as a markdown section: each contender's own cost per
# unit (its run less the baseline run of the same example) and the ratios
# the performance targets name.
#
#   bash benches/callgrind.sh
#
# Needs valgrind. Builds the examples in release mode first.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
cargo build --release -q -p h1-benches --examples
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
EX="$TARGET_DIR/release/examples"

# The instructions one run executes.
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$EX/$1" "${@:2}" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# own COUNT BASE UNITS: (COUNT - BASE) / UNITS, in thousands, one decimal place.
own() { awk -v c="$1" -v b="$2" -v u="$3" 'BEGIN { printf "%.2f", (c - b) / u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "### End to end in memory (\`e2e_count\`, 2,000 keep-alive requests)"
echo
echo "Thousands of instructions per request, less the canned \`raw\` server's run."
echo
echo "| request | h1 (wire path) | h1-http | hyper | h1 / hyper | h1-http / hyper |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for req in browser small; do
    extra=()
    label="browser-like GET"
    [ "$req" = small ] && extra=(small) && label="small GET"
    raw=$(count e2e_count raw "${extra[@]}")
    h1=$(own "$(count e2e_count h1 "${extra[@]}")" "$raw" 2000)
    h1http=$(own "$(count e2e_count h1-http "${extra[@]}")" "$raw" 2000)
    hyper=$(own "$(count e2e_count hyper "${extra[@]}")" "$raw" 2000)
    echo "| $label | $h1 K | $h1http K | $hyper K | $(ratio "$h1" "$hyper") | $(ratio "$h1http" "$hyper") |"
done
echo

echo "### Request head (\`head_parse\`, browser-like GET ×1,000)"
echo
echo "Thousands of instructions per head, less the \`none\` run."
echo
none=$(count head_parse none)
echo "| mode | per head | / httparse |"
echo "| --- | ---: | ---: |"
httparse=$(own "$(count head_parse httparse)" "$none" 1000)
for m in httparse h1-head h1-wire h1 hyper; do
    if [ "$m" = httparse ]; then v=$httparse; else v=$(own "$(count head_parse "$m")" "$none" 1000); fi
    echo "| \`$m\` | $v K | $(ratio "$v" "$httparse") |"
done
echo

echo "### 16 KiB head and chunked body"
echo
none=$(count head_feed none)
whole=$(own "$(count head_feed whole)" "$none" 1)
bytes=$(own "$(count head_feed bytes)" "$none" 1)
echo "- \`head_feed\`: whole $whole K, byte by byte $bytes K: $(ratio "$bytes" "$whole")× whole"
none=$(count body_feed none 16384)
chunked=$(own "$(count body_feed chunked 16384)" "$none" 1)
echo "- \`body_feed\` (1 MiB chunked body in 16 KiB chunks, less building the input): $chunked K"
