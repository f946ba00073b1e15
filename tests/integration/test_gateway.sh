#!/usr/bin/env bash
# test_gateway.sh -- the HTTP gateway (`docflow-host run`) end to end on
# loopback: real servers (tests/data/gateway/*.yml, port 0) started and
# stopped here, every check through a real socket.
#
# The socket-level checks live in gateway_check.py (standard library only;
# python3-protobuf for the protobuf round trip); it prints one PASS/FAIL
# line per check and this script counts them. Here: starting and stopping,
# signals, exit codes, logs, and which flow each group of checks runs on.
#
#   main.yml     Jina's API (every endpoint, JSON shapes), /metrics, protobuf,
#                no-CORS, keep-alive / pipelining / 50 connections / chunked /
#                100,000 one-byte chunks / 1,000 idle connections, strict
#                parsing (400/413/431/501/505), bad input, executor failures;
#                the port-in-use refusal
#   cors.yml     CORS preflight and headers
#   busy.yml     prefetch 1: 503 + Retry-After      wait.yml  prefetch_wait: 200s
#   timeout.yml  timeout_send: 504, then served     dryfail.yml  /dry_run failing
#   slow.yml     SIGTERM with 100 slow requests in flight; a second SIGINT
#   drainlimit.yml  drain_timeout shorter than a request
#   initfail.yml an executor whose init fails       port.yml  with: {host, port}
#
# Under the sanitizer build every server's log is also checked for
# AddressSanitizer / LeakSanitizer reports (a leak also makes its exit code
# non-zero).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CHECK="$DF_SOURCE_DIR/tests/integration/gateway_check.py"
FLOWS="$DF_SOURCE_DIR/tests/data/gateway"
PROTO_DIR="$DF_SOURCE_DIR/plugin-api/proto"
export DOCFLOW_PLUGIN_PATH="$DF_BINARY_DIR/tests/plugins:${DF_PLUGIN_DIR:-}"
# Loopback only: nothing may go through a proxy named in the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

SERVER_PIDS=()
cleanup() {
    for p in "${SERVER_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_server NAME FLOW [ARGS...]: `docflow-host run FLOW ARGS` in the
# background (ARGS default: --port 0); sets PID and PORT from its
# "ready on http://127.0.0.1:PORT" line. A server that never gets ready
# fails the test and ends it.
start_server() {
    local name=$1 flow=$2 log="$TMP/$1.log" port=""
    shift 2
    [ $# -eq 0 ] && set -- --port 0
    "$HOST" run "$flow" "$@" >"$log" 2>&1 &
    PID=$!
    SERVER_PIDS+=("$PID")
    for _ in $(seq 600); do
        port=$(sed -n 's|.*ready on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        fail "server $name did not get ready: $(cat "$log")"
        finish
        exit 1
    fi
    PORT=$port
}

# wait_exit PID SECONDS: waits (bounded) for the server to exit; sets RC
# (124 and a SIGKILL when it did not exit in time) and WAITED (seconds).
wait_exit() {
    local pid=$1 limit=$2 start
    start=$(date +%s.%N)
    for _ in $(seq $((limit * 50))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        RC=124
    else
        wait "$pid"
        RC=$?
    fi
    # Reaped: the EXIT trap must not signal its (reusable) pid.
    local kept=() p
    for p in "${SERVER_PIDS[@]}"; do [ "$p" != "$pid" ] && kept+=("$p"); done
    SERVER_PIDS=("${kept[@]}")
    WAITED=$(echo "$(date +%s.%N) - $start" | bc)
}

# sanitizer_clean NAME: the server's log holds no sanitizer report.
sanitizer_clean() {
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$TMP/$1.log"; then
        fail "server $1: sanitizer report: $(grep -A 30 -E 'ERROR: |runtime error:' "$TMP/$1.log" | head -n 60)"
    else
        pass
    fi
}

# stop_server NAME PID [SIGNAL]: signal (default TERM), then the server must
# exit 0 within 20 s, log "stopped" and no sanitizer report.
stop_server() {
    kill -"${3:-TERM}" "$2"
    wait_exit "$2" 20
    if [ "$RC" -eq 0 ]; then pass; else fail "server $1 exit $RC after SIG${3:-TERM}: $(tail -n 30 "$TMP/$1.log")"; fi
    check "server $1 logs 'stopped'" grep -qE 'gateway: stopped|"msg":"stopped"' "$TMP/$1.log"
    sanitizer_clean "$1"
}

# pyrun NAME SUBCOMMAND PORT [ARGS...]: gateway_check.py; each PASS/FAIL
# line it prints is one check here. A crash without FAIL lines is a failure.
pyrun() {
    local name=$1 out="$TMP/py-$1.out"
    shift
    timeout -s KILL 300 "$PY" "$CHECK" "$@" >"$out" 2>"$TMP/py-$name.err"
    local rc=$? p f
    p=$(grep -c '^PASS ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    grep '^FAIL ' "$out" | sed "s/^/[$name] /" >&2
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        fail "$name: gateway_check.py $1 exited $rc: $(tail -n 20 "$TMP/py-$name.err")"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then fail "$name: no checks ran"; fi
}

# run_bounded SECONDS ARGS...: run_host, killed after SECONDS (RC 137 then).
run_bounded() {
    local secs=$1
    shift
    timeout -s KILL "$secs" "$HOST" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---- the main flow: Jina's API, protocol details, bad input ----------------------------
start_server main "$FLOWS/main.yml"
MAIN_PID=$PID MAIN_PORT=$PORT
check "port 0: the ready line names a real port" test "$MAIN_PORT" -gt 0

pyrun api api "$MAIN_PORT"
pyrun metrics metrics "$MAIN_PORT"
pyrun protobuf protobuf "$MAIN_PORT" "$PROTO_DIR"
pyrun no-cors cors "$MAIN_PORT" off
pyrun conn conn "$MAIN_PORT"
pyrun strict strict "$MAIN_PORT"
pyrun badinput badinput "$MAIN_PORT"

# curl, a client as users run it: the README's command.
OUT=$(curl -s --max-time 10 "http://127.0.0.1:$MAIN_PORT/post" -H 'content-type: application/json' \
    -d '{"execEndpoint":"/index","data":[{"text":"hello"}],"parameters":{}}')
if "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["data"][0]["text"]=="hello" and j["header"]["status"] is None' "$OUT"; then
    pass
else
    fail "curl the README's request: $OUT"
fi

# --- the port is taken: exit 1 with a clear message, no ready line, quickly ---
run_bounded 5 run "$FLOWS/main.yml" --port "$MAIN_PORT"
expect_rc "port in use: exit 1" 1
expect_err "port in use: says it cannot listen on that port" \
    "cannot listen on 127.0.0.1:$MAIN_PORT: Address already in use"
check "port in use: no ready line" eval "! grep -q 'ready on' '$TMP/err'"
# A bind address that is not IPv4: the same refusal path.
run_bounded 5 run "$FLOWS/main.yml" --host ::1 --port 0
expect_rc "--host ::1 (not IPv4): exit 1" 1
expect_err "--host ::1: says why" "not an IPv4 address"
check "--host ::1: no ready line" eval "! grep -q 'ready on' '$TMP/err'"

pyrun main-after alive "$MAIN_PORT"
stop_server main "$MAIN_PID"

# ---- CORS on; stopped with SIGINT ------------------------------------------------------
start_server cors "$FLOWS/cors.yml"
pyrun cors cors "$PORT" on
stop_server cors "$PID" INT

# ---- back-pressure ------------------------------------------------------------------------
start_server busy "$FLOWS/busy.yml"
pyrun busy busy "$PORT"
stop_server busy "$PID"

start_server wait "$FLOWS/wait.yml"
pyrun wait wait "$PORT"
stop_server wait "$PID"

start_server timeout "$FLOWS/timeout.yml"
pyrun timeout timeout "$PORT"
stop_server timeout "$PID"

start_server dryfail "$FLOWS/dryfail.yml"
pyrun dryfail dryfail "$PORT"
stop_server dryfail "$PID"

# ---- graceful shutdown: 100 slow requests in flight, SIGTERM ----------------------------------
CLOSE_LOG="$TMP/close.log"
start_server drain "$FLOWS/slow.yml" --port 0 --context "CLOSE_LOG=$CLOSE_LOG"
DRAIN_PID=$PID
pyrun drain drain "$PORT" "$DRAIN_PID" 100
wait_exit "$DRAIN_PID" 30
expect_rc "SIGTERM with requests in flight: exit 0 after they finished" 0
check "drain: logged the drain" grep -q "draining: .* request(s) in flight" "$TMP/drain.log"
check "drain: logged 'stopped'" grep -q "gateway: stopped" "$TMP/drain.log"
check "drain: every executor's close ran (4 replicas)" test "$(grep -c '^slow$' "$CLOSE_LOG" 2>/dev/null)" -eq 4
sanitizer_clean drain

# ---- drain_timeout: a request slower than it does not hold the gateway -----------------------
start_server drainlimit "$FLOWS/drainlimit.yml" --port 0 --context "CLOSE_LOG=$TMP/close3.log"
DL_PID=$PID
curl -s --max-time 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/post" \
    -d '{"data":[{"text":"x"}],"parameters":{"sleep_ms":1500}}' >"$TMP/drainlimit.code" 2>/dev/null &
CURL_PID=$!
for _ in $(seq 100); do
    curl -s --max-time 2 "http://127.0.0.1:$PORT/status" | grep -q '"in_flight":1' && break
    sleep 0.02
done
kill -TERM "$DL_PID"
wait_exit "$DL_PID" 20
expect_rc "drain_timeout over: still exit 0" 0
check "drain_timeout over: logged" grep -q "drain time over: 1 request(s) still running" "$TMP/drainlimit.log"
check "drain_timeout over: the executor's close ran" grep -qx slow "$TMP/close3.log"
sanitizer_clean drainlimit
wait "$CURL_PID" 2>/dev/null

# ---- a second SIGINT exits at once -----------------------------------------------------------
start_server twice "$FLOWS/slow.yml" --port 0 --context "CLOSE_LOG=$TMP/close2.log"
TWICE_PID=$PID
curl -s --max-time 20 -o "$TMP/twice.body" -w '%{http_code}' "http://127.0.0.1:$PORT/post" \
    -d '{"data":[{"text":"x"}],"parameters":{"sleep_ms":8000}}' >"$TMP/twice.code" 2>/dev/null &
CURL_PID=$!
for _ in $(seq 100); do  # until the request is in the flow
    curl -s --max-time 2 "http://127.0.0.1:$PORT/status" | grep -q '"in_flight":1' && break
    sleep 0.02
done
kill -INT "$TWICE_PID"
sleep 0.5
check "first SIGINT: still draining the 8 s request" kill -0 "$TWICE_PID"
kill -INT "$TWICE_PID"
wait_exit "$TWICE_PID" 10
if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; then pass; else fail "second SIGINT: exit $RC, expected non-zero"; fi
if [ "$(echo "$WAITED < 2.0" | bc)" -eq 1 ]; then pass; else fail "second SIGINT: took ${WAITED}s to exit"; fi
check "second SIGINT: logged" grep -q "second signal: exiting at once" "$TMP/twice.log"
wait "$CURL_PID" 2>/dev/null
check "second SIGINT: the in-flight request got no answer" test "$(cat "$TMP/twice.code")" = "000"

# ---- an executor whose init fails ---------------------------------------------------------
run_bounded 30 run "$FLOWS/initfail.yml" --port 0
expect_rc "init fails: exit 1" 1
check "init fails: names the executor and its error" \
    grep -q "broken.*init failed: model file model.bin is missing" "$TMP/err"
check "init fails: no ready line" eval "! grep -q 'ready on' '$TMP/err' '$TMP/out'"
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)" "$TMP/err"; then
    fail "init fails: sanitizer report: $(head -n 40 "$TMP/err")"
else
    pass
fi

# The same failure with --log-format json: the fatal error is a log event too.
run_bounded 30 run "$FLOWS/initfail.yml" --port 0 --log-format json
expect_rc "init fails, --log-format json: exit 1" 1
if "$PY" - "$TMP/err" <<'PY'; then pass; else fail "init fails, --log-format json: every stderr line is JSON: $(cat "$TMP/err")"; fi
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines
for l in lines:
    j = json.loads(l)
    assert j["level"] in ("INFO", "WARN", "ERROR") and j["time"], j
assert any("model file model.bin is missing" in json.loads(l)["msg"] for l in lines), lines
PY

# ---- logs: --log-format json, --quiet ------------------------------------------------------
start_server json "$FLOWS/main.yml" --port 0 --log-format json
JSON_PORT=$PORT
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$JSON_PORT/status"
stop_server json "$PID"
if "$PY" - "$TMP/json.log" "$JSON_PORT" <<'PY'; then pass; else fail "--log-format json: $(cat "$TMP/json.log")"; fi
import json, re, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) >= 3, lines
for l in lines:
    j = json.loads(l)  # every line is one JSON object
    assert j["level"] in ("DEBUG", "INFO", "WARN", "ERROR"), j
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", j["time"]), j
    assert isinstance(j["msg"], str), j
msgs = [json.loads(l)["msg"] for l in lines]
assert f"ready on http://127.0.0.1:{sys.argv[2]}" in msgs, msgs
assert "stopped" in msgs and any(m.startswith("SIGTERM received") for m in msgs), msgs
PY

QUIET_PORT=$(free_port)
"$HOST" run "$FLOWS/main.yml" --port "$QUIET_PORT" --quiet >"$TMP/quiet.log" 2>&1 &
QUIET_PID=$!
SERVER_PIDS+=("$QUIET_PID")
QUIET_UP=1
for _ in $(seq 200); do
    curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$QUIET_PORT/status" && { QUIET_UP=0; break; }
    sleep 0.05
done
check "--quiet --port N: serves on N" test "$QUIET_UP" -eq 0
kill -TERM "$QUIET_PID"
wait_exit "$QUIET_PID" 20
expect_rc "--quiet: exit 0" 0
check "--quiet: no INFO lines (nor anything else on a clean run)" test ! -s "$TMP/quiet.log"

# ---- with: {host, port} from the flow file --------------------------------------------------
export DF_GW_TEST_PORT
DF_GW_TEST_PORT=$(free_port)
start_server withport "$FLOWS/port.yml" --log-format text
check "with.port: serves on the flow's port" test "$PORT" -eq "$DF_GW_TEST_PORT"
OUT=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/dry_run")
check "with.port: answers" test "$OUT" = '{"code":0,"description":"","exception":null}'
stop_server withport "$PID"

# ---- usage errors: exit 2, nothing served ---------------------------------------------------
run_host run "$FLOWS/main.yml" --port 70000
expect_rc "--port 70000: exit 2" 2
expect_err "--port 70000: says why" "--port: expected 0..65535"
run_host run "$FLOWS/main.yml" --log-format xml
expect_rc "--log-format xml: exit 2" 2
run_host run
expect_rc "no flow: exit 2" 2
run_host run "$DF_SOURCE_DIR/tests/data/flows/bad_cycle.yml" --port 0
expect_rc "invalid flow: exit 2" 2
run_host run --help
expect_rc "run --help: exit 0" 0
check "run --help documents --port" grep -q -- "--port N" "$TMP/out"

SERVER_PIDS=()
finish
