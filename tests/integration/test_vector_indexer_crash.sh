#!/usr/bin/env bash
# test_vector_indexer_crash.sh -- SIGKILL durability of the VectorIndexer.
#
# A `docflow-host run` server indexes documents sent by 4 concurrent HTTP
# clients; each client records a request's ids as acknowledged only after
# the gateway answered it successfully. The server is killed with SIGKILL
# in the middle of that (small log segments make background compactions
# run all the time, so kills also land inside them, and with direct I/O
# new segments are mostly written into the files of compacted ones, whose
# old records stay behind the new; whether a given kill lands in one
# depends on timing, so tests/unit/test_vector_indexer.c covers that case
# deterministically). Then the flow is
# opened again: every acknowledged document must be there, intact (its
# own nearest neighbour at distance 0, text and tags as sent), nothing may
# be corrupt (the reopen succeeds; /status counts between acknowledged and
# sent), and the workspace must take new writes. Three rounds: two killed
# servers (the second recovering from the first crash), then a killed
# `docflow-host post --flow`.
source "$(dirname "$0")/lib.sh"
export DOCFLOW_PLUGIN_PATH="${DF_PLUGIN_DIR:-}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
DIM=16

cat >"$TMP/flow.yml" <<YML
jtype: Flow
executors:
  - name: idx
    uses: VectorIndexer
    uses_with: {compact_bytes: 65536}
    workspace: $TMP/ws
YML

start_server() {
    local log="$TMP/server-$1.log" port=""
    "$HOST" run "$TMP/flow.yml" --port 0 >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        port=$(sed -n 's|.*ready on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        fail "server did not get ready: $(cat "$log")"
        finish
        exit 1
    fi
    URL="http://127.0.0.1:$port"
}

# The clients: 4 threads, requests of 25 documents with ids r<round>-t<thread>-<n>.
# Every document is written to sent.jsonl before it is sent, and its id to
# acked.txt (flushed, fsynced) once the answer says success. They stop at
# the first failure (the server is gone).
cat >"$TMP/client.py" <<'PY'
import json, os, random, sys, threading, urllib.request
url, tmp, rnd, dim = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = threading.Lock()
sent = open(f"{tmp}/sent.jsonl", "a")
acked = open(f"{tmp}/acked.txt", "a")

def client(t):
    rng = random.Random(f"{rnd}-{t}")
    for n in range(0, 10 ** 9, 25):
        docs = [{"id": f"r{rnd}-t{t}-{n + j}", "text": f"text of r{rnd}-t{t}-{n + j}",
                 "tags": {"round": rnd, "n": n + j},
                 "embedding": [rng.gauss(0, 1) for _ in range(dim)]} for j in range(25)]
        with lock:
            sent.writelines(json.dumps(d) + "\n" for d in docs)
            sent.flush()
        body = json.dumps({"data": docs, "execEndpoint": "/index"}).encode()
        req = urllib.request.Request(url + "/post", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            answer = json.loads(urllib.request.urlopen(req, timeout=30).read())
        except Exception:
            return
        status = answer.get("header", {}).get("status") or {}
        if status.get("code", 0) != 0 or len(answer.get("data") or []) != 25:
            print("refused:", answer, file=sys.stderr)
            return
        with lock:
            acked.writelines(d["id"] + "\n" for d in docs)
            acked.flush()
            os.fsync(acked.fileno())

threads = [threading.Thread(target=client, args=(t,)) for t in range(4)]
for th in threads: th.start()
for th in threads: th.join()
PY

# kill_after_acks ROUND N: runs the clients against a fresh server and
# kills the server with SIGKILL once N more documents are acknowledged.
kill_after_acks() {
    start_server "$1"
    local before
    before=$(cat "$TMP/acked.txt" 2>/dev/null | wc -l)
    python3 "$TMP/client.py" "$URL" "$TMP" "$1" "$DIM" 2>"$TMP/client-$1.err" &
    local client=$!
    for _ in $(seq 1200); do
        [ "$(cat "$TMP/acked.txt" 2>/dev/null | wc -l)" -ge $((before + $2)) ] && break
        kill -0 "$client" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    wait "$client"
    local now
    now=$(wc -l <"$TMP/acked.txt")
    check "round $1: documents were acknowledged before the kill" test "$now" -ge $((before + $2))
    check "round $1: the client saw requests in flight fail" test "$(wc -l <"$TMP/sent.jsonl")" -gt "$now"
}

# verify ROUND [EXTRA]: reopens the flow (a new process) and checks every
# acknowledged document; EXTRA documents not in sent.jsonl may be stored too.
verify() {
    python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
acked = set(open(f"{tmp}/acked.txt").read().split())
with open(f"{tmp}/queries.jsonl", "w") as f:
    for l in open(f"{tmp}/sent.jsonl"):
        d = json.loads(l)
        if d["id"] in acked:
            f.write(json.dumps({"id": d["id"], "embedding": d["embedding"]}) + "\n")
PY
    run_host post --flow "$TMP/flow.yml" --on /search --input "$TMP/queries.jsonl" \
        --parameters '{"limit": 1}' --request-size 500 --output "$TMP/found.jsonl"
    expect_rc "round $1: reopened after SIGKILL" 0
    pycheck "round $1: every acknowledged document is there, intact" "$TMP/found.jsonl" "
sent = {}
for l in open('$TMP/sent.jsonl'):
    d = json.loads(l)
    sent[d['id']] = d
acked = open('$TMP/acked.txt').read().split()
assert len(lines) == len(set(acked)) > 0, (len(lines), len(acked))
for q in lines:
    m = q['matches'][0]
    want = sent[q['id']]
    assert m['id'] == q['id'], (q['id'], m['id'])
    assert m['scores']['cosine']['value'] < 1e-5, m
    assert m['text'] == want['text'] and m['tags'] == want['tags'], (m, want)
"
    echo '{"id": "probe"}' >"$TMP/probe.jsonl"
    run_host post --flow "$TMP/flow.yml" --on /status --input "$TMP/probe.jsonl" \
        --results "$TMP/status.jsonl" --output /dev/null
    expect_rc "round $1: /status" 0
    pycheck "round $1: count between acknowledged and sent" "$TMP/status.jsonl" "
count = lines[0]['__results__']['idx']['count']
acked = len(set(open('$TMP/acked.txt').read().split()))
sent = len({json.loads(l)['id'] for l in open('$TMP/sent.jsonl')})
assert acked <= count <= sent + ${2:-0}, (acked, count, sent)
"
}

# --- rounds 1 and 2: a killed server, then a killed recovered server ------------------
kill_after_acks 1 1500
verify 1
kill_after_acks 2 1500
verify 2
check "background compactions ran (small segments merged away)" \
    test "$(ls "$TMP/ws/idx" | grep -c '^log-')" -lt 60

# --- round 3: SIGKILL of `post --flow` in the middle of its run ------------------------
python3 - "$TMP" "$DIM" <<'PY'
import json, random, sys
tmp, dim = sys.argv[1], int(sys.argv[2])
rng = random.Random(3)
with open(f"{tmp}/bulk.jsonl", "w") as f:
    for i in range(60000):
        f.write(json.dumps({"id": f"bulk-{i}", "text": f"text of bulk-{i}", "tags": {"bulk": i},
                            "embedding": [rng.gauss(0, 1) for _ in range(dim)]}) + "\n")
PY
workspace_bytes() { du -sb "$TMP/ws/idx" | cut -f1; }
START=$(workspace_bytes)
"$HOST" post --flow "$TMP/flow.yml" --on /index --input "$TMP/bulk.jsonl" --request-size 20 \
    --concurrency 4 --output /dev/null 2>"$TMP/post.err" &
POST_PID=$!
for _ in $(seq 1200); do
    [ "$(workspace_bytes)" -gt $((START + 300000)) ] && break
    kill -0 "$POST_PID" 2>/dev/null || break
    sleep 0.05
done
kill -9 "$POST_PID"
wait "$POST_PID" 2>/dev/null
POST_RC=$?
check "post --flow was killed in the middle of its run (exit $POST_RC)" test "$POST_RC" -eq 137
verify 3 60000
run_host post --flow "$TMP/flow.yml" --on /search --input <(head -n 2000 "$TMP/bulk.jsonl") \
    --parameters '{"limit": 1}' --request-size 500 --output "$TMP/bulk-found.jsonl"
expect_rc "search for the killed post's documents" 0
pycheck "each bulk document is found whole or not at all" "$TMP/bulk-found.jsonl" '
kept = 0
for q in lines:
    m = q["matches"][0]
    if m["id"] == q["id"]:
        kept += 1
        assert m["text"] == "text of " + q["id"] and m["tags"]["bulk"] == int(q["id"][5:]), m
        assert m["scores"]["cosine"]["value"] < 1e-5, m
    else:
        assert m["scores"]["cosine"]["value"] > 1e-3, m  # not there: only other documents
assert kept > 0, "the kill came before any bulk request was written"
'
finish
