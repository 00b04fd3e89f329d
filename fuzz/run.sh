#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS seconds (default 30), one after
# the other, and fails if any of them finds a crash. This is the CI step.
#
#   bash fuzz/run.sh                       # all targets, 30 s each
#   FUZZ_SECONDS=600 bash fuzz/run.sh utf8 # chosen targets, 10 min each
#
# The committed seeds (fuzz/seeds/TARGET) are only read: each run writes
# its new inputs to a temporary corpus, so a run never dirties the work
# tree. Crash inputs go to fuzz/artifacts/TARGET/ (ignored by git), and
# libFuzzer prints them in base64 in the log tail shown on failure.
#
# cargo-fuzz needs nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP=1 lets
# the stable toolchain accept them.
set -euo pipefail

cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
export RUSTC_BOOTSTRAP=1

ALL_TARGETS=(
    frame_header
    utf8
    server_connection
    client_connection
    roundtrip
    handshake_request
    handshake_response
    deflate_connection
)
if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=("${ALL_TARGETS[@]}")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# A value from libFuzzer's -print_final_stats=1 lines in log $1.
final_stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fuzz: building the targets"
cargo fuzz build
failed=()
summary=()
for target in "${TARGETS[@]}"; do
    corpus="$work/corpus/$target"
    log="$work/$target.log"
    mkdir -p "$corpus"
    extra=()
    case "$target" in
        handshake_*) extra+=("-dict=fuzz/dicts/http.dict") ;;
    esac
    # Single process, single thread: libFuzzer's default. (-jobs/-workers
    # would fork and write fuzz-N.log files into the work tree.)
    if cargo fuzz run "$target" "$corpus" "fuzz/seeds/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=512 -timeout=10 \
        -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
        echo "---- $target: last lines of the log ----"
        tail -n 60 "$log"
        echo "----"
    fi
    line=$(printf 'fuzz: %-19s %-6s %10s execs %8s exec/s %5s new units %5s MB peak' \
        "$target" "$status" "$(final_stat "$log" number_of_executed_units)" \
        "$(final_stat "$log" average_exec_per_sec)" \
        "$(final_stat "$log" new_units_added)" \
        "$(final_stat "$log" peak_rss_mb)")
    echo "$line"
    summary+=("$line")
done

echo
echo "fuzz summary (${FUZZ_SECONDS} s per target):"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failing targets: ${failed[*]}"
fi
echo "fuzz: $((${#TARGETS[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
