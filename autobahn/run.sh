#!/usr/bin/env bash
# Run the Autobahn|Testsuite against rfc6455 (loopback only, no docker).
#
# Usage: autobahn/run.sh COMBINATION...
#   COMBINATION: server-std | server-tokio | client-std | client-tokio | all
#
#   server-*  our `echo_server` example is the testee; wstest -m fuzzingclient
#             connects to it on ws://127.0.0.1:$AUTOBAHN_SERVER_PORT.
#   client-*  wstest -m fuzzingserver listens on ws://127.0.0.1:$AUTOBAHN_CLIENT_PORT
#             and our `autobahn_client` example is the testee.
#
# Environment:
#   AUTOBAHN_CASES         comma-separated case patterns to run (default "*"), e.g. "1.*,2.*"
#   AUTOBAHN_EXCLUDE       comma-separated case patterns to skip (default none), e.g. "12.*,13.*"
#   AUTOBAHN_REQUIRE_COMPRESSION=1  fail on UNIMPLEMENTED in sections 12-13
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
HOST=127.0.0.1   # loopback only, always

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

# build_example NAME: cargo build --release --example NAME, print the binary path.
# The binary is then run directly, so the PID we record is the testee's own
# (not cargo's) and stopping it by PID is reliable.
build_example() {
    local name="$1" out
    log "building example $name (release)" >&2
    out="$TMP_DIR/build-$name.json"
    timeout "$BUILD_TIMEOUT" cargo build --release --example "$name" \
        --message-format=json-render-diagnostics > "$out" || {
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
    python3 - "$template" "$out" "$CASES" "$EXCLUDE" "$@" <<'PY'
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
    local args=(--check "$HERE/expected-results.json" --cases "$CASES" --exclude "$EXCLUDE")
    [[ "${AUTOBAHN_REQUIRE_COMPRESSION:-0}" == 1 ]] && args+=(--require-compression)
    python3 "$HERE/summarize.py" "${args[@]}" "$1"
}

# --- one combination ------------------------------------------------------------
run_server() {  # run_server ADAPTER: wstest fuzzingclient -> our echo_server
    local adapter="$1" combo="server-$1" agent="rfc6455-server-$1" exe pid spec rc=0
    local outdir="$REPORTS/$combo" cmd
    if [[ "$TESTEE" == wstest ]]; then
        cmd=("$WSTEST" -m testeeserver -w "ws://$HOST:$SERVER_PORT")
    else
        exe="$(build_example echo_server)" || return 1
        cmd=("$exe" --addr "$HOST:$SERVER_PORT" --adapter "$adapter")
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
    log "running wstest -m fuzzingclient (cases '$CASES', exclude '$EXCLUDE', timeout ${RUN_TIMEOUT}s)"
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
        cmd=("$exe" --url "ws://$HOST:$CLIENT_PORT" --agent "$agent" --adapter "$adapter")
    fi
    port_open "$CLIENT_PORT" && { log "port $HOST:$CLIENT_PORT already in use"; return 1; }

    spec="$TMP_DIR/$combo-fuzzingserver.json"
    write_spec "$HERE/fuzzingserver.json" "$spec" \
        "outdir=\"$outdir\"" \
        "url=\"ws://$HOST:$CLIENT_PORT\"" || return 1
    log "starting wstest -m fuzzingserver on $HOST:$CLIENT_PORT (cases '$CASES', exclude '$EXCLUDE')"
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

run_combination() {  # run_combination COMBINATION: run, then summarize/check
    local combo="$1" start status=0
    start=$SECONDS
    log "=== $combo ==="
    rm -rf "${REPORTS:?}/$combo"
    case "$combo" in
        server-std | server-tokio) run_server "${combo#server-}" || status=1 ;;
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
    TIMES+=("$combo: $((SECONDS - start))s $( ((status == 0)) && echo PASS || echo FAIL)")
    log "=== $combo: $( ((status == 0)) && echo PASS || echo FAIL) in $((SECONDS - start))s ==="
    return "$status"
}

# --- main -------------------------------------------------------------------------
(($# > 0)) || usage
COMBOS=()
for arg in "$@"; do
    case "$arg" in
        all) COMBOS+=(server-std server-tokio client-std client-tokio) ;;
        server-std | server-tokio | client-std | client-tokio) COMBOS+=("$arg") ;;
        -h | --help) usage ;;
        *) die "unknown combination '$arg' (expected server-std, server-tokio, client-std, client-tokio or all)" ;;
    esac
done

cd "$ROOT"   # cargo and the testees run from the repository root
"$HERE/install.sh"
mkdir -p "$LOGS"

TIMES=()
FAILED=()
for combo in "${COMBOS[@]}"; do
    run_combination "$combo" || FAILED+=("$combo")
done

log "time per combination:"
for t in "${TIMES[@]}"; do log "  $t"; done
if ((${#FAILED[@]} > 0)); then
    log "FAILED: ${FAILED[*]}"
    exit 1
fi
log "all passed: ${COMBOS[*]}"
