#!/usr/bin/env bash
# Builds the h1 fuzz targets and runs each for SECONDS (default 60), one
# after the other. Exits non-zero if a build fails or any target finds a
# crash (its input is left in tests/fuzz/artifacts/<target>/).
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (installed from crates.io when missing). Works on the
# stable toolchain: RUSTC_BOOTSTRAP=1 unlocks the sanitizer flags.
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(server_bytes client_bytes structured encoder)
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz not found: installing it" >&2
    cargo install cargo-fuzz --locked
fi

cargo fuzz build
mkdir -p logs

failed=()
for target in "${targets[@]}"; do
    # The byte-level targets start from seed messages and an HTTP
    # dictionary; new inputs go to corpus/<target>.
    corpus=()
    args=(-max_total_time="$seconds" -print_final_stats=1)
    case "$target" in
        server_bytes | client_bytes)
            mkdir -p "corpus/$target"
            corpus=("corpus/$target" "seeds/$target")
            args+=(-dict="$here/http.dict")
            ;;
    esac
    log="logs/$target.log"
    echo "== $target: ${seconds}s (log: tests/fuzz/$log)"
    if cargo fuzz run "$target" "${corpus[@]}" -- "${args[@]}" >"$log" 2>&1; then
        runs="$(grep -E '^stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')"
        echo "   ok: ${runs:-?} executions"
    else
        echo "   FAILED:" >&2
        grep -E "panicked at|assertion|SUMMARY|Test unit written" -A2 "$log" | head -40 >&2 || tail -40 "$log" >&2
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashes in: ${failed[*]} (inputs in tests/fuzz/artifacts/)" >&2
    exit 1
fi
echo "all targets ran ${seconds}s without a crash"
