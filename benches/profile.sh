#!/usr/bin/env bash
# Profiles: where the instructions and cycles go.
#
#   bash benches/profile.sh            # callgrind + perf (~10 min)
#   bash benches/profile.sh --only callgrind|perf
#
# 1. callgrind (deterministic, immune to the machine's noise): instructions
#    per message for every library on the codec cases, and the top functions
#    of ours (self cost, inlined code counted in its caller, and by source
#    file). Only the measured loop of codec-prof is counted (set-up and
#    warm-up excluded: --toggle-collect).
# 2. perf (cpu-clock sampling, if `perf` works here): our echo server and
#    fastwebsockets' under the 100x20B and 10x16KiB end-to-end workloads:
#    kernel vs user time, and the top user-space symbols.
#
# Output: $CARGO_TARGET_DIR/bench-results/profile-<stamp>/summary.md
set -euo pipefail
cd "$(dirname "$0")"
only="callgrind,perf"
[ "${1:-}" = "--only" ] && only="$2"
has() { [[ ",$only," == *",$1,"* ]]; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
target="$CARGO_TARGET_DIR"
out="$target/bench-results/profile-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
cargo build --release --bins 2>&1 | tail -1
prof="$target/release/codec-prof"
summary="$out/summary.md"
: > "$summary"
(cd .. && echo "Library tree: $(git rev-parse --short HEAD)$(git diff --quiet -- src Cargo.toml || echo ' + uncommitted changes')") >> "$summary"

cg=(valgrind --tool=callgrind --collect-atstart=no "--toggle-collect=*codec_prof*measured*")
ir() { # ir LIB OP KIND SIZE ITERS -> Ir inside the measured loop
    "${cg[@]}" --callgrind-out-file="$out/cg.tmp" "$prof" "$@" >/dev/null 2>"$out/cg.err"
    sed -n 's/^summary: *//p;s/^totals: *//p' "$out/cg.tmp" | head -1 | awk '{print $1}'
}

per_iteration() { # messages per iteration, as in frames::messages_per_iteration
    local size=$1
    local n=$(( 1048576 / size ))
    [ "$n" -lt 1 ] && n=1
    echo "$n"
}

if has callgrind; then
    libs="rfc6455 rfc6455-tokio tokio-tungstenite fastwebsockets tokio-websockets sockudo-ws yawc"
    cases="decode:binary:16 decode:binary:125 decode:binary:1024 decode:binary:65536
           decode:text:125 decode:text:1024 decode:text:65536
           encode_server:binary:16 encode_server:binary:1024 encode_server:binary:65536
           encode_client:binary:16 encode_client:binary:1024"
    {
        echo
        echo "### Instructions per message (callgrind, steady state)"
        echo
        echo "| case | $(echo $libs | sed 's/ / | /g') |"
        echo "|---|$(for _ in $libs; do printf -- '---:|'; done)"
    } >> "$summary"
    for c in $cases; do
        IFS=: read -r op kind size <<< "$c"
        n=$(per_iteration "$size")
        k=2
        [ "$size" -ge 65536 ] && k=4
        row="| $op $kind $size B |"
        for lib in $libs; do
            b=$(ir "$lib" "$op" "$kind" "$size" "$k")
            row="$row $(( b / (n * k) )) |"
        done
        echo "$row" | tee -a "$summary"
    done

    echo >> "$summary"
    echo "### rfc6455: top functions (self Ir, steady state)" >> "$summary"
    for c in decode:binary:16 decode:text:1024 decode:binary:65536 encode_server:binary:16 \
             encode_server:binary:65536 encode_client:binary:16; do
        IFS=: read -r op kind size <<< "$c"
        k=2
        [ "$size" -ge 65536 ] && k=4
        for lib in rfc6455 rfc6455-tokio; do
            [ "$lib" = rfc6455-tokio ] && [ "$size" -ge 65536 ] && continue
            "${cg[@]}" --callgrind-out-file="$out/cg-$lib-$op-$kind-$size.out" \
                "$prof" "$lib" "$op" "$kind" "$size" "$k" >/dev/null 2>&1
            {
                echo
                echo "#### $lib $op $kind $size B"
                echo
                echo '```'
                python3 callgrind_top.py "$out/cg-$lib-$op-$kind-$size.out" --top 12
                echo "-- by source file (inlined code included):"
                python3 callgrind_top.py "$out/cg-$lib-$op-$kind-$size.out" --top 8 --files
                echo '```'
            } >> "$summary"
        done
    done
fi

if has perf && perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    "$target/release/bench-e2e" --rounds 1 --secs 3 --warmup 0.5 --no-idle \
        --workloads 100x20B,10x16KiB --libs rfc6455,fastwebsockets \
        --attach "perf record -e cpu-clock -F 2999 -g -o $out/perf-{lib}-{workload}.data -p {pid}" \
        > "$out/perf-e2e.log" 2>&1
    {
        echo
        echo "### perf, end to end (server process, cpu-clock samples)"
    } >> "$summary"
    set +o pipefail # `head` closes the pipes early
    for f in "$out"/perf-*.data; do
        name=$(basename "$f" .data)
        {
            echo
            echo "#### $name"
            echo
            echo '```'
            perf report -i "$f" --no-children --sort dso --stdio -g none 2>/dev/null \
                | grep -v '^#' | grep -v '^$' | head -4
            echo "-- top user-space symbols (% of all samples):"
            perf report -i "$f" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
                | grep -v '^#' | grep -v '^$' | grep -v kernel.kallsyms | head -15 \
                | sed 's/ \+- \+- *$//' | cut -c1-140
            echo '```'
        } >> "$summary"
    done
fi
echo "profile summary: $summary"
cat "$summary"
