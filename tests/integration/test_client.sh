#!/usr/bin/env bash
# test_client.sh -- the client side of the gateway, end to end on loopback:
# `docflow-host post --host` and `docflow-host ping` against real
# `docflow-host run` servers started (port 0) and stopped (SIGTERM, exit 0)
# here. Output equals the echo executor's /index, in input order under
# concurrency, in JSON and protobuf; --results, --parameters,
# --target-executor, failures (exit 1, the others written), 503 retries,
# --timeout, and usage errors.
source "$(dirname "$0")/lib.sh"
PROBE_SO="$DF_BINARY_DIR/tests/plugins/flow_probe.so"
export DOCFLOW_PLUGIN_PATH="${DF_PLUGIN_DIR:-}"
# Loopback only: libcurl would send through a proxy named in the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SERVER_PIDS=()
trap 'for p in "${SERVER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start_server NAME FLOW: `docflow-host run FLOW --port 0` in the background;
# sets PID and URL from its "ready on http://127.0.0.1:PORT" line (or fails
# the test when it never comes).
start_server() {
    local log="$TMP/$1.log" port=""
    "$HOST" run "$2" --port 0 >"$log" 2>&1 &
    PID=$!
    SERVER_PIDS+=("$PID")
    for _ in $(seq 600); do
        port=$(sed -n 's|.*ready on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        fail "server $1 did not get ready: $(cat "$log")"
        finish
        exit 1
    fi
    URL="http://127.0.0.1:$port"
}

# stop_server NAME PID: SIGTERM, then the server must exit 0.
stop_server() {
    kill -TERM "$2"
    wait "$2"
    local rc=$?
    if [ "$rc" -eq 0 ]; then pass; else fail "server $1 exit $rc after SIGTERM: $(tail -n 20 "$TMP/$1.log")"; fi
}

# jitter: 3 replicas sleeping 0..7 ms, so requests complete out of order;
# it refuses requests holding a document tagged `bad`. echo: the bundled
# executor (prefix "", dim 8).
cat >"$TMP/flow.yml" <<YML
jtype: Flow
executors:
  - name: jitter
    uses: {jtype: Probe, metas: {library: $PROBE_SO}, with: {jitter_ms: 8, fail_on: bad}}
    replicas: 3
  - name: echo
    uses: $DF_SOURCE_DIR/plugins/echo/config.yml
YML
# busy: one request at a time (prefetch 1), each 150 ms: concurrent ones get 503.
cat >"$TMP/busy.yml" <<YML
jtype: Flow
with: {prefetch: 1}
executors:
  - name: slow
    uses: {jtype: Probe, metas: {library: $PROBE_SO}, with: {sleep_ms: 150}}
YML

python3 - "$TMP/docs.jsonl" "$TMP/bad.jsonl" <<'PY'
import json, sys
docs = [{"id": f"d{i}", "text": f"doc number {i}", "tags": {"i": i}} for i in range(50)]
with open(sys.argv[1], "w") as f:
    f.writelines(json.dumps(d) + "\n" for d in docs)
docs[22]["tags"]["bad"] = True
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(d) + "\n" for d in docs)
PY

# The reference: the echo executor's /index, run directly.
run_host call "$DF_SOURCE_DIR/plugins/echo/config.yml" --on /index --input "$TMP/docs.jsonl" \
    --output "$TMP/ref.jsonl" --results "$TMP/ref_results.jsonl"
expect_rc "reference: call echo /index" 0

start_server main "$TMP/flow.yml"
MAIN_PID=$PID MAIN_URL=$URL

# same_docs NAME FILE: FILE holds the reference documents, line by line.
same_docs() {
    if python3 - "$TMP/ref.jsonl" "$2" <<'PY'; then pass; else fail "$1"; fi
import json, sys
ref = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert len(got) == len(ref) == 50, (len(got), len(ref))
for r, g in zip(ref, got):
    assert r == g, (r, g)
PY
}

# --- ping -------------------------------------------------------------------------
run_host ping "$MAIN_URL"
expect_rc "ping a running server" 0
check "ping says up and names the executors" grep -q "up, docflow .*2 executors: jitter, echo" "$TMP/out"
run_host ping "127.0.0.1:${MAIN_URL##*:}/" --timeout 2
expect_rc "ping without scheme, trailing slash" 0

# --- JSON: the echo executor's /index, in input order --------------------------------
run_host post --host "$MAIN_URL" --on /index --target-executor echo --input "$TMP/docs.jsonl" \
    --output "$TMP/json.jsonl" --request-size 3 --concurrency 8
expect_rc "post --host json exit" 0
same_docs "json: documents equal echo's /index, in order" "$TMP/json.jsonl"
expect_err "summary line" "posted 50 documents in 17 requests to /index at $MAIN_URL: 0 failed, 0 retried"

# --- protobuf on the wire: the same documents ----------------------------------------
run_host post --host "$MAIN_URL" --on /index --target-executor echo --input "$TMP/docs.jsonl" \
    --output "$TMP/pb.jsonl" --request-size 3 --concurrency 8 --protocol protobuf
expect_rc "post --host protobuf exit" 0
same_docs "protobuf: documents equal echo's /index, in order" "$TMP/pb.jsonl"

# --- order under out-of-order completion (3 jittering replicas) ----------------------
run_host post --host "$MAIN_URL" --on /index --input "$TMP/docs.jsonl" \
    --output "$TMP/order.jsonl" --request-size 3 --concurrency 8 --results "$TMP/results.jsonl"
expect_rc "post through jitter exit" 0
pycheck "input order kept through jitter then echo" "$TMP/order.jsonl" '
assert [d["id"] for d in lines] == [f"d{i}" for i in range(50)], [d["id"] for d in lines]
for i, d in enumerate(lines):
    assert d["text"] == f"doc number {i}" and d["tags"]["echoed"] is True, d
    assert d["tags"]["path"] == ["jitter"] and d["tags"]["batch"] == (2 if i >= 48 else 3), d
replicas = {d["tags"]["replica"] for d in lines}
assert len(replicas) > 1, replicas
'
pycheck "--results: one line per request, in order" "$TMP/results.jsonl" '
assert len(lines) == 17, len(lines)
for i, l in enumerate(lines):
    r = l["__results__"]
    assert r["echo"]["indexed"] == (2 if i == 16 else 3), l
    jitter = [v for k, v in r.items() if k.startswith("jitter")]
    assert len(jitter) == 1 and jitter[0]["docs"] == (2 if i == 16 else 3), l
'

# --- one request at a time, the default request size (100) ---------------------------
run_host post --host "$MAIN_URL" --on /index --target-executor echo --input "$TMP/docs.jsonl" \
    --output "$TMP/stdout-check.jsonl" --concurrency 1
expect_rc "concurrency 1, default request size" 0
same_docs "default request size: same documents" "$TMP/stdout-check.jsonl"

# --- stdin in, stdout out, parameters -----------------------------------------------
"$HOST" post --host "$MAIN_URL" --on /search --target-executor echo \
    --parameters '{"limit": 2}' <"$TMP/docs.jsonl" >"$TMP/search.jsonl" 2>"$TMP/err"
RC=$?
expect_rc "search from stdin" 0
pycheck "parameters reach the executor (limit 2 matches)" "$TMP/search.jsonl" '
assert len(lines) == 50 and all(len(d["matches"]) == 2 for d in lines), lines[0]
'

# --- a failing request: exit 1, the others written -----------------------------------
run_host post --host "$MAIN_URL" --on /index --input "$TMP/bad.jsonl" --output "$TMP/bad_out.jsonl" \
    --request-size 5 --concurrency 4
expect_rc "one request fails: exit 1" 1
expect_err "names the request, documents, executor, message" \
    "request 4 (documents 20..24) failed in jitter"
expect_err "executor's message" "refuses document 2 (tag bad)"
expect_err "summary counts it" "posted 50 documents in 10 requests to /index at $MAIN_URL: 1 failed"
pycheck "the other 45 documents written, in order" "$TMP/bad_out.jsonl" '
assert [d["id"] for d in lines] == [f"d{i}" for i in range(50) if not 20 <= i < 25], [d["id"] for d in lines]
'

# --- echo /fail: header.status errors, every request ---------------------------------
run_host post --host "$MAIN_URL" --on /fail --target-executor echo --input "$TMP/docs.jsonl" \
    --output "$TMP/fail.jsonl" --request-size 25 --parameters '{"reason": "no thanks"}' \
    --protocol protobuf
expect_rc "/fail exit 1" 1
expect_err "/fail: executor and message" "request 1 (documents 25..49) failed in echo: no thanks"
check "/fail: nothing written" test ! -s "$TMP/fail.jsonl"

# --- --timeout: a request slower than it fails ----------------------------------------
run_host post --host "$MAIN_URL" --on /index --input "$TMP/docs.jsonl" --output "$TMP/slow.jsonl" \
    --parameters '{"jitter": {"sleep_ms": 1500}}' --timeout 0.3 --request-size 50
expect_rc "timeout exit 1" 1
expect_err "timeout reported" "timed out"

# --- 503 from a busy flow: retried, or failed with --retries 0 ------------------------
start_server busy "$TMP/busy.yml"
BUSY_PID=$PID BUSY_URL=$URL
head -n 6 "$TMP/docs.jsonl" >"$TMP/six.jsonl"
run_host post --host "$BUSY_URL" --on /index --input "$TMP/six.jsonl" --output "$TMP/busy.jsonl" \
    --request-size 1 --concurrency 3 --retries 0
expect_rc "503 without retries: exit 1" 1
expect_err "503 reported with the gateway's message" "HTTP 503: the flow is busy"
run_host post --host "$BUSY_URL" --on /index --input "$TMP/six.jsonl" --output "$TMP/busy.jsonl" \
    --request-size 1 --concurrency 3 --retries 10
expect_rc "503 with retries: exit 0" 0
pycheck "retried requests all written, in order" "$TMP/busy.jsonl" '
assert [d["id"] for d in lines] == [f"d{i}" for i in range(6)], lines
'
if grep -qE "0 failed, [1-9][0-9]* retried" "$TMP/err"; then pass; else fail "summary counts retries: $(cat "$TMP/err")"; fi
stop_server busy "$BUSY_PID"

# --- usage errors (exit 2, nothing sent) ----------------------------------------------
run_host post --on /index --input "$TMP/docs.jsonl"
expect_rc "neither --flow nor --host" 2
expect_err "says which" "missing --flow FLOW.yml or --host URL"
run_host post --flow "$TMP/flow.yml" --host "$MAIN_URL" --on /index --input "$TMP/docs.jsonl"
expect_rc "both --flow and --host" 2
expect_err "says so" "--flow and --host exclude each other"
run_host post --host "$MAIN_URL" --on /index --protocol xml --input "$TMP/docs.jsonl"
expect_rc "bad --protocol" 2
run_host post --flow "$TMP/flow.yml" --on /index --protocol json --input "$TMP/docs.jsonl"
expect_rc "--protocol with --flow" 2
run_host post --host "$MAIN_URL" --on /index --context A=b --input "$TMP/docs.jsonl"
expect_rc "--context with --host" 2
run_host post --host "$MAIN_URL" --on /index --retries -1 --input "$TMP/docs.jsonl"
expect_rc "negative --retries" 2
run_host post --host "$MAIN_URL" --on /index --timeout 0 --input "$TMP/docs.jsonl"
expect_rc "zero --timeout" 2
printf '{"text": "ok"}\nnot json\n' >"$TMP/broken.jsonl"
run_host post --host "$MAIN_URL" --on /index --input "$TMP/broken.jsonl"
expect_rc "bad input line" 2
expect_err "names the line" "broken.jsonl:2"

# --- help -------------------------------------------------------------------------------
run_host post --help
expect_rc "post --help" 0
check "post --help shows --host" grep -q -- "--host URL" "$TMP/out"
check "post --help shows --protocol" grep -q -- "--protocol json|protobuf" "$TMP/out"
run_host ping --help
expect_rc "ping --help" 0
check "ping --help usage" grep -q "usage: docflow-host ping URL" "$TMP/out"
run_host ping
expect_rc "ping without URL" 2

# --- shutdown, then nobody answers ---------------------------------------------------------
stop_server main "$MAIN_PID"
SERVER_PIDS=()
run_host ping "$MAIN_URL" --timeout 2
expect_rc "ping a closed port: exit 1" 1
expect_err "ping says why" "no answer"
run_host post --host "$MAIN_URL" --on /index --input "$TMP/docs.jsonl" --output "$TMP/none.jsonl" \
    --request-size 10
expect_rc "post to a closed port: exit 1" 1
expect_err "post says why" "no answer from $MAIN_URL/post"
expect_err "every request failed" "5 failed"

finish
