#!/usr/bin/env bash
# Runs the whole benchmark package and prints the tables of BENCHMARKS.md.
#
#   bash benches/run.sh            # full: 3 rounds of everything (~40 min on 2 cores)
#   bash benches/run.sh --quick    # smoke run: 1 short round (~5 min)
#   bash benches/run.sh --rounds 5 --only codec,e2e,idle
#   bash benches/run.sh --only fanout   # chat fan-out (not in the default set; ~10 min)
#
# Environment: CARGO_TARGET_DIR (default benches/target), BENCH_LIBS
# (comma list, limits the codec benchmarks to some libraries).
# Loopback only; every loop is bounded; servers are killed by PID.
set -euo pipefail
cd "$(dirname "$0")"

quick=0
rounds=3
only="codec,e2e,idle"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; rounds=1 ;;
        --rounds) rounds="$2"; shift ;;
        --only) only="$2"; shift ;;
        *) echo "usage: run.sh [--quick] [--rounds N] [--only codec,e2e,idle,fanout]" >&2; exit 2 ;;
    esac
    shift
done
has() { [[ ",$only," == *",$1,"* ]]; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
target="$CARGO_TARGET_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$target/bench-results/$stamp"
mkdir -p "$out"
ln -sfn "$out" "$target/bench-results/latest"

# 5,000 idle connections need ~10,000 descriptors (client + server).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== build (release, codegen-units=1, thin LTO)"
cargo build --release --bins 2>&1 | tail -1
# The codec benchmark executable, run directly below: no rebuild between
# rounds, even if the sources change meanwhile.
codec_exe="$(cargo bench --bench codec --no-run --message-format=json 2>/dev/null \
    | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
[ -x "$codec_exe" ] || { echo "codec benchmark executable not found" >&2; exit 1; }

{
    echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores available)"
    echo "- ISA: $(grep -o -w -E 'avx2|avx512f|avx512bw|neon' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    echo "- kernel: $(uname -sr); $(rustc --version)"
    echo "- rfc6455 tree: $(cd .. && git rev-parse --short HEAD)$(cd .. && git diff --quiet HEAD -- src Cargo.toml || echo ' + uncommitted changes in src/ or Cargo.toml')"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- run: \`bash benches/run.sh $([ $quick = 1 ] && echo --quick) \` ($rounds round(s)), $stamp"
} > "$out/machine.md"

baselines=""
if has codec; then
    if [ $quick = 1 ]; then
        crit=(--warm-up-time 0.1 --measurement-time 0.3 --sample-size 10 --nresamples 2000)
    else
        crit=(--warm-up-time 0.2 --measurement-time 1.0 --sample-size 15 --nresamples 5000)
    fi
    for r in $(seq 1 "$rounds"); do
        echo "== codec round $r/$rounds (log: $out/codec-r$r.log)"
        "$codec_exe" --bench --noplot --save-baseline "$stamp-r$r" "${crit[@]}" \
            > "$out/codec-r$r.log" 2>&1
        baselines="${baselines:+$baselines,}$stamp-r$r"
    done
fi

if has e2e || has idle; then
    e2e_args=(--rounds "$rounds" --out "$out/e2e.jsonl")
    [ $quick = 1 ] && e2e_args=(--quick --out "$out/e2e.jsonl")
    has e2e || e2e_args+=(--no-e2e)
    has idle || e2e_args+=(--no-idle)
    echo "== end to end and idle memory"
    "$target/release/bench-e2e" "${e2e_args[@]}" | tee "$out/e2e.log"
fi

if has fanout; then
    echo "== fan-out (log: $out/fanout.log)"
    # The chat example, built by the library's package into the same target dir.
    (cd .. && cargo build --release --example chat 2>&1 | tail -1)
    fanout_args=(--chat "$target/release/examples/chat")
    [ $quick = 1 ] && fanout_args+=(--rounds 5 --sizes 1000)
    "$target/release/bench-fanout" "${fanout_args[@]}" | tee "$out/fanout.log"
fi

echo "== report ($out/report.md)"
report_args=()
[ -n "$baselines" ] && report_args+=(--criterion "$target/criterion" --rounds "$baselines" --all)
[ -f "$out/e2e.jsonl" ] && report_args+=(--e2e "$out/e2e.jsonl")
{
    echo "### Machine"
    echo
    cat "$out/machine.md"
    "$target/release/bench-report" "${report_args[@]}"
} > "$out/report.md"
cat "$out/report.md"
