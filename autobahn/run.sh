#!/usr/bin/env bash
# Run the Autobahn|Testsuite against rfc6455 (loopback only, no docker).
#
# Usage: autobahn/run.sh COMBINATION...
#   COMBINATION: server-std | server-tokio | server-axum | server-hyper |
#                client-std | client-tokio | all | ci
#                or any of these with ":core" appended (e.g. server-std:core):
#                sections 1-11 only, the compression sections 12-13 skipped
#
#   server-*  our `echo_server` example is the testee; wstest -m fuzzingclient
#             connects to it on ws://127.0.0.1:$AUTOBAHN_SERVER_PORT.
#   server-axum, server-hyper
#             the same with the `axum_echo` example (`--features axum`) or the
#             `hyper_echo` example (`--features http`) as the testee: the
#             upgrade goes through axum or hyper and rfc6455::http.
#   client-*  wstest -m fuzzingserver listens on ws://127.0.0.1:$AUTOBAHN_CLIENT_PORT
#             and our `autobahn_client` example is the testee.
#   all       the six combinations, every case.
#   ci        the CI plan: server-axum and client-std with every case (1-13),
#             server-tokio:core, server-std:core and client-tokio:core
#             (sections 1-11).
#
# Both examples are built with `--features deflate` and run with `--deflate`
# (permessage-deflate accepted by the server, offered by the client), and
# every case of sections 12-13 must be OK.
#
# Environment:
#   AUTOBAHN_CASES         comma-separated case patterns to run (default "*"), e.g. "1.*,2.*"
#   AUTOBAHN_EXCLUDE       comma-separated case patterns to skip (default none), e.g. "9.*"
#   AUTOBAHN_DEFLATE=0     build and run the examples without permessage-deflate;
#                          sections 12-13 are then skipped (they need it)
#   AUTOBAHN_JOBS=2        run the server-* combinations and the client-* ones
#                          as two lanes in parallel (default 1: one at a time);
#                          wstest is single-threaded, so on 2 cores this about
#                          halves the wall time. Each lane's output goes to
#                          autobahn/reports/logs/lane-{server,client}.log and
#                          is printed when both are done.
#   AUTOBAHN_SERVER_FLAGS  more flags for echo_server in the server-* combinations,
#                          e.g. "--manual-pong" or "--stream"; the results are
#                          checked against the same expected results
#   AUTOBAHN_SERVER_PORT   port of our echo server (default 9002)
#   AUTOBAHN_CLIENT_PORT   port of wstest's fuzzing server (default 9001)
#   AUTOBAHN_TIMEOUT       seconds allowed for one combination's test run (default 1800)
#   AUTOBAHN_BUILD_TIMEOUT seconds allowed for building one example (default 1800)
#   AUTOBAHN_PREFIX        wstest install prefix (see install.sh)
#   AUTOBAHN_TESTEE=wstest self-test of this harness: use wstest's own testee
#                          (Autobahn|Python) instead of our examples; reports
#                          then go to autobahn/reports/<combination> as usual
#
# Reports: autobahn/reports/<combination>/index.html (and index.json);
# logs:    autobahn/reports/logs/<combination>-{wstest,server,client}.log.
# Results are checked with summarize.py against autobahn/expected-results.json
# and the pass/fail policy; the exit status is non-zero if any combination failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REPORTS="$HERE/reports"
LOGS="$REPORTS/logs"
WSTEST="$HERE/wstest"

CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE:-}"
SERVER_PORT="${AUTOBAHN_SERVER_PORT:-9002}"
CLIENT_PORT="${AUTOBAHN_CLIENT_PORT:-9001}"
RUN_TIMEOUT="${AUTOBAHN_TIMEOUT:-1800}"
BUILD_TIMEOUT="${AUTOBAHN_BUILD_TIMEOUT:-1800}"
TESTEE="${AUTOBAHN_TESTEE:-rfc6455}"
DEFLATE="${AUTOBAHN_DEFLATE:-1}"
JOBS="${AUTOBAHN_JOBS:-1}"
read -r -a SERVER_FLAGS <<< "${AUTOBAHN_SERVER_FLAGS:-}"
HOST=127.0.0.1   # loopback only, always
COMPRESSION_CASES="12.*,13.*"   # the sections that need permessage-deflate

case "$DEFLATE" in
    1) BUILD_FEATURES=(--features deflate); DEFLATE_FLAG=(--deflate) ;;
    0) BUILD_FEATURES=(); DEFLATE_FLAG=() ;;
    *) printf '[autobahn] ERROR: AUTOBAHN_DEFLATE must be 0 or 1\n' >&2; exit 2 ;;
esac

log() { printf '[autobahn] %s\n' "$*"; }
die() { printf '[autobahn] ERROR: %s\n' "$*" >&2; exit 2; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 2
}

# --- background process bookkeeping ------------------------------------------
# PIDs of processes this script started; they are stopped (by PID only) when
# a combination ends and, as a safety net, when the script exits.
BG_PIDS=()
TMP_DIR="$(mktemp -d)"

# forget_pid PID: drop PID from BG_PIDS (once reaped, the number may be reused
# by an unrelated process, which we must never signal).
forget_pid() {
    local p keep=()
    for p in "${BG_PIDS[@]}"; do
        [[ "$p" == "$1" ]] || keep+=("$p")
    done
    BG_PIDS=("${keep[@]}")
}

stop_pid() {  # stop_pid PID NAME: TERM, wait up to 5 s, then KILL
    local pid="$1" name="$2" i
    forget_pid "$pid"
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        return 0
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        stop_pid "$pid" "background process"
    done
    rm -rf "$TMP_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_open PORT: does 127.0.0.1:PORT accept TCP connections?
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# wait_port PORT PID NAME [SECONDS]: wait until PORT accepts connections,
# failing early if PID dies. Bounded by SECONDS (default 60).
wait_port() {
    local port="$1" pid="$2" name="$3" secs="${4:-60}" deadline
    deadline=$((SECONDS + secs))
    until port_open "$port"; do
        kill -0 "$pid" 2>/dev/null || { log "$name (pid $pid) exited before listening"; return 1; }
        ((SECONDS < deadline)) || { log "$name not listening on $HOST:$port after ${secs}s"; return 1; }
        sleep 0.2
    done
}

# run_waited LOGFILE CMD...: run CMD (normally `timeout N ...`) to completion
# with output in LOGFILE. It runs as a recorded background job that we `wait`
# for, so a SIGINT/SIGTERM to this script is handled at once (the EXIT trap
# then stops it by PID) instead of after CMD ends; GNU timeout puts itself in
# its own process group, so a terminal's Ctrl-C would not reach it otherwise.
run_waited() {
    local logfile="$1" pid rc=0
    shift
    "$@" < /dev/null > "$logfile" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
}

# build_example NAME [FEATURE]: cargo build --release --example NAME (with
# FEATURE enabled too), print the binary path.
# The binary is then run directly, so the PID we record is the testee's own
# (not cargo's) and stopping it by PID is reliable.
build_example() {
    local name="$1" out extra=()
    [[ -n "${2:-}" ]] && extra=(--features "$2")
    log "building example $name (release)" >&2
    out="$TMP_DIR/build-$name.json"
    timeout "$BUILD_TIMEOUT" cargo build --release ${BUILD_FEATURES[@]+"${BUILD_FEATURES[@]}"} \
        ${extra[@]+"${extra[@]}"} \
        --example "$name" --message-format=json-render-diagnostics > "$out" || {
        log "cargo build of example $name failed" >&2
        return 1
    }
    python3 - "$out" "$name" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
exe = None
for line in open(path):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
            and msg["target"]["name"] == name and "example" in msg["target"]["kind"]):
        exe = msg["executable"]
if not exe:
    sys.exit("no executable for example %s in cargo output" % name)
print(exe)
PY
}

# write_spec TEMPLATE OUT KEY=JSON...: copy a wstest spec, overriding fields
# (and cases / exclude-cases from AUTOBAHN_CASES / AUTOBAHN_EXCLUDE).
write_spec() {
    local template="$1" out="$2"
    shift 2
    python3 - "$template" "$out" "$CASES" "$RUN_EXCLUDE" "$@" <<'PY'
import json, sys
template, out, cases, exclude = sys.argv[1:5]
spec = json.load(open(template))
split = lambda s: [p.strip() for p in s.split(",") if p.strip()]
spec["cases"] = split(cases) or ["*"]
spec["exclude-cases"] = split(exclude)
for kv in sys.argv[5:]:
    key, value = kv.split("=", 1)
    obj, path = spec, key.split(".")
    for p in path[:-1]:
        obj = obj[int(p)] if isinstance(obj, list) else obj[p]
    last = path[-1]
    if isinstance(obj, list):
        obj[int(last)] = json.loads(value)
    else:
        obj[last] = json.loads(value)
json.dump(spec, open(out, "w"), indent=3)
PY
}

summarize() {  # summarize COMBINATION: tables + policy + expected results
    local args=(--check "$HERE/expected-results.json" --cases "$CASES" --exclude "$RUN_EXCLUDE")
    python3 "$HERE/summarize.py" "${args[@]}" "$1"
}

# --- one combination ------------------------------------------------------------
# server_example ADAPTER: the example (and extra feature) serving ADAPTER.
server_example() {
    case "$1" in
        axum) echo "axum_echo axum" ;;
        hyper) echo "hyper_echo http" ;;
        *) echo "echo_server" ;;
    esac
}

run_server() {  # run_server ADAPTER: wstest fuzzingclient -> our echo server
    local adapter="$1" combo="server-$1" agent="rfc6455-server-$1" exe pid spec rc=0
    local outdir="$REPORTS/$combo" cmd example
    if [[ "$TESTEE" == wstest ]]; then
        cmd=("$WSTEST" -m testeeserver -w "ws://$HOST:$SERVER_PORT")
    else
        read -r -a example <<< "$(server_example "$adapter")"
        exe="$(build_example "${example[@]}")" || return 1
        cmd=("$exe" --addr "$HOST:$SERVER_PORT")
        # echo_server serves both adapters; the axum and hyper examples one.
        [[ "${example[0]}" == echo_server ]] && cmd+=(--adapter "$adapter")
        cmd+=(${DEFLATE_FLAG[@]+"${DEFLATE_FLAG[@]}"} ${SERVER_FLAGS[@]+"${SERVER_FLAGS[@]}"})
    fi
    port_open "$SERVER_PORT" && { log "port $HOST:$SERVER_PORT already in use"; return 1; }

    log "starting echo server: ${cmd[*]}"
    "${cmd[@]}" < /dev/null > "$LOGS/$combo-server.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait_port "$SERVER_PORT" "$pid" "echo server" 60 || {
        tail -n 20 "$LOGS/$combo-server.log" >&2
        stop_pid "$pid" "echo server"
        return 1
    }

    spec="$TMP_DIR/$combo-fuzzingclient.json"
    write_spec "$HERE/fuzzingclient.json" "$spec" \
        "outdir=\"$outdir\"" \
        "servers.0.url=\"ws://$HOST:$SERVER_PORT\"" \
        "servers.0.agent=\"$agent\"" || return 1
    log "running wstest -m fuzzingclient (cases '$CASES', exclude '$RUN_EXCLUDE', timeout ${RUN_TIMEOUT}s)"
    log "wstest log: $LOGS/$combo-wstest.log"
    run_waited "$LOGS/$combo-wstest.log" \
        timeout "$RUN_TIMEOUT" "$WSTEST" -m fuzzingclient -s "$spec" || rc=$?
    if ! kill -0 "$pid" 2>/dev/null; then
        log "echo server (pid $pid) died during the run; see $LOGS/$combo-server.log"
        rc=1
    fi
    stop_pid "$pid" "echo server"
    if ((rc != 0)); then
        log "wstest fuzzingclient failed (exit $rc$( ((rc == 124)) && echo ', timed out'))"
        tail -n 20 "$LOGS/$combo-wstest.log" >&2
        return 1
    fi
}

run_client() {  # run_client ADAPTER: our autobahn_client -> wstest fuzzingserver
    local adapter="$1" combo="client-$1" agent="rfc6455-client-$1" exe pid spec rc=0 i
    local outdir="$REPORTS/$combo" cmd
    if [[ "$TESTEE" == wstest ]]; then
        cmd=("$WSTEST" -m testeeclient -w "ws://$HOST:$CLIENT_PORT" -i "$agent")
    else
        exe="$(build_example autobahn_client)" || return 1
        cmd=("$exe" --url "ws://$HOST:$CLIENT_PORT" --agent "$agent" --adapter "$adapter"
             ${DEFLATE_FLAG[@]+"${DEFLATE_FLAG[@]}"})
    fi
    port_open "$CLIENT_PORT" && { log "port $HOST:$CLIENT_PORT already in use"; return 1; }

    spec="$TMP_DIR/$combo-fuzzingserver.json"
    write_spec "$HERE/fuzzingserver.json" "$spec" \
        "outdir=\"$outdir\"" \
        "url=\"ws://$HOST:$CLIENT_PORT\"" || return 1
    log "starting wstest -m fuzzingserver on $HOST:$CLIENT_PORT (cases '$CASES', exclude '$RUN_EXCLUDE')"
    log "wstest log: $LOGS/$combo-wstest.log"
    "$WSTEST" -m fuzzingserver -s "$spec" < /dev/null > "$LOGS/$combo-wstest.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    wait_port "$CLIENT_PORT" "$pid" "wstest fuzzingserver" 60 || {
        tail -n 20 "$LOGS/$combo-wstest.log" >&2
        stop_pid "$pid" "wstest fuzzingserver"
        return 1
    }

    log "running client (timeout ${RUN_TIMEOUT}s): ${cmd[*]}"
    run_waited "$LOGS/$combo-client.log" timeout "$RUN_TIMEOUT" "${cmd[@]}" || rc=$?
    # updateReports is answered after the report is written; still, give the
    # fuzzing server a (bounded) moment before stopping it.
    for ((i = 0; i < 50; i++)); do
        [[ -f "$outdir/index.json" ]] && break
        sleep 0.2
    done
    stop_pid "$pid" "wstest fuzzingserver"
    if ((rc != 0)); then
        log "client failed (exit $rc$( ((rc == 124)) && echo ', timed out')); see $LOGS/$combo-client.log"
        tail -n 20 "$LOGS/$combo-client.log" >&2
        return 1
    fi
}

# children_cpu: sets CPU_NOW to the CPU seconds (user + sys) used so far by
# this script's finished children (wstest, the testee, cargo). It must run
# in this shell, not in a $(...) subshell, for `times` to see them.
children_cpu() {
    times > "$TMP_DIR/times"
    CPU_NOW=$(awk 'NR == 2 {
        n = split($0, t, " "); s = 0
        for (i = 1; i <= n; i++) { split(t[i], ms, "m"); s += ms[1] * 60 + ms[2] }
        printf "%d", s }' "$TMP_DIR/times")
}

# join_patterns A B: comma-join two pattern lists, either possibly empty.
join_patterns() {
    if [[ -n "$1" && -n "$2" ]]; then echo "$1,$2"; else echo "$1$2"; fi
}

run_combination() {  # run_combination COMBINATION[:core]: run, then summarize/check
    local combo="${1%:core}" start status=0 label="$1" cpu
    RUN_EXCLUDE="$EXCLUDE"   # read by write_spec and summarize
    if [[ "$1" == *:core || "$DEFLATE" == 0 ]]; then
        RUN_EXCLUDE="$(join_patterns "$EXCLUDE" "$COMPRESSION_CASES")"
    fi
    start=$SECONDS
    children_cpu
    cpu=$CPU_NOW
    log "=== $label (deflate $( ((DEFLATE)) && echo on || echo off), exclude '$RUN_EXCLUDE') ==="
    rm -rf "${REPORTS:?}/$combo"
    case "$combo" in
        server-std | server-tokio | server-axum | server-hyper) run_server "${combo#server-}" || status=1 ;;
        client-std | client-tokio) run_client "${combo#client-}" || status=1 ;;
    esac
    # Summarize whatever report exists, even after a failed run (e.g. a testee
    # that crashed midway), so the failing cases are listed.
    if [[ -f "$REPORTS/$combo/index.json" ]]; then
        summarize "$combo" || status=1
    else
        log "no report written to $REPORTS/$combo/index.json"
        status=1
    fi
    children_cpu
    cpu=$((CPU_NOW - cpu))
    TIMES+=("$label: $((SECONDS - start))s (CPU ${cpu}s) $( ((status == 0)) && echo PASS || echo FAIL)")
    log "=== $label: $( ((status == 0)) && echo PASS || echo FAIL) in $((SECONDS - start))s, CPU ${cpu}s ==="
    return "$status"
}

# --- main -------------------------------------------------------------------------
(($# > 0)) || usage
COMBOS=()
for arg in "$@"; do
    case "$arg" in
        all) COMBOS+=(server-std server-tokio server-axum server-hyper client-std client-tokio) ;;
        ci) COMBOS+=(server-axum client-std server-tokio:core server-std:core client-tokio:core) ;;
        server-std | server-tokio | server-axum | server-hyper | client-std | client-tokio) COMBOS+=("$arg") ;;
        server-std:core | server-tokio:core | server-axum:core | server-hyper:core) COMBOS+=("$arg") ;;
        client-std:core | client-tokio:core) COMBOS+=("$arg") ;;
        -h | --help) usage ;;
        *) die "unknown combination '$arg' (expected server-std, server-tokio, server-axum, server-hyper, client-std, client-tokio, all or ci, optionally with :core)" ;;
    esac
done

cd "$ROOT"   # cargo and the testees run from the repository root
"$HERE/install.sh"
mkdir -p "$LOGS"

TIMES=()
FAILED=()
RUN_EXCLUDE=""
started=$SECONDS

# run_lanes: AUTOBAHN_JOBS=2 with both server and client combinations: run
# this script twice in parallel, once per kind, and wait for both.
run_lanes() {
    local servers=() clients=() c lane pid rc=0 pids=()
    for c in "${COMBOS[@]}"; do
        if [[ "$c" == server-* ]]; then servers+=("$c"); else clients+=("$c"); fi
    done
    if [[ "$TESTEE" != wstest ]]; then  # build once, before the lanes start
        local example
        for c in "${servers[@]}"; do
            c="${c%:core}"
            read -r -a example <<< "$(server_example "${c#server-}")"
            build_example "${example[@]}" > /dev/null || return 1
        done
        build_example autobahn_client > /dev/null || return 1
    fi
    log "two lanes in parallel: [${servers[*]}] and [${clients[*]}]"
    for lane in server client; do
        if [[ "$lane" == server ]]; then set -- "${servers[@]}"; else set -- "${clients[@]}"; fi
        log "lane $lane: output in $LOGS/lane-$lane.log"
        AUTOBAHN_JOBS=1 "${BASH_SOURCE[0]}" "$@" < /dev/null > "$LOGS/lane-$lane.log" 2>&1 &
        pid=$!
        BG_PIDS+=("$pid")
        pids+=("$pid")
    done
    for pid in "${pids[@]}"; do  # each lane bounds its own waits
        wait "$pid" || rc=1
        forget_pid "$pid"
    done
    for lane in server client; do
        printf '\n'
        log "----- lane $lane -----"
        cat "$LOGS/lane-$lane.log"
    done
    printf '\n'
    log "both lanes took $((SECONDS - started))s in all"
    return "$rc"
}

if [[ "$JOBS" == 2 ]] && [[ " ${COMBOS[*]}" == *" server-"* ]] && [[ " ${COMBOS[*]}" == *" client-"* ]]; then
    if run_lanes; then
        log "all passed: ${COMBOS[*]}"
        exit 0
    fi
    log "FAILED: see the lanes above"
    exit 1
elif [[ "$JOBS" != 1 && "$JOBS" != 2 ]]; then
    die "AUTOBAHN_JOBS must be 1 or 2"
fi

for combo in "${COMBOS[@]}"; do
    run_combination "$combo" || FAILED+=("$combo")
done

log "time per combination:"
for t in "${TIMES[@]}"; do log "  $t"; done
log "  total: $((SECONDS - started))s"
if ((${#FAILED[@]} > 0)); then
    log "FAILED: ${FAILED[*]}"
    exit 1
fi
log "all passed: ${COMBOS[*]}"
