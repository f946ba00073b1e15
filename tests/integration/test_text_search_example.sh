#!/usr/bin/env bash
# test_text_search_example.sh -- examples/text-search end to end, as its README
# shows it: `docflow-host run` serves the flow (Sentencizer -> TextEncoder ->
# VectorIndexer) on port 0, index.sh fits and indexes the project's own
# README.md and docs/*.md through curl, and queries through curl and search.sh
# find the sentences that answer them, each pointing at the right place of the
# right file. Then the index survives a restart, indexing again replaces
# sentences instead of adding copies, and fitting again does not count twice.
#
# The docs change with the project, so the checks ask what any correct search
# must give (a sentence naming io_uring for "io_uring gateway"), not a fixed
# ranking.
source "$(dirname "$0")/lib.sh"
EXAMPLE="$DF_SOURCE_DIR/examples/text-search"
export DOCFLOW_PLUGIN_PATH="${DF_PLUGIN_DIR:-}"
# Loopback only: curl would send through a proxy named in the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

if [ ! -f "$DF_SOURCE_DIR/plugins/vector-indexer/CMakeLists.txt" ]; then
    echo "SKIP: plugins/vector-indexer does not exist yet; the example needs it"
    exit 0
fi

# start_server NAME: `docflow-host run` of the example on port 0 (the
# workspaces land in $DOCFLOW_HOME, a fresh folder of this test); sets URL.
start_server() {
    local log="$TMP/$1.log" port=""
    "$HOST" run "$EXAMPLE/flow.yml" --port 0 >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        port=$(sed -n 's|.*ready on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$log" | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        fail "server $1 did not get ready: $(cat "$log")"
        finish
        exit 1
    fi
    URL="http://127.0.0.1:$port"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    local rc=$?
    SERVER_PID=""
    if [ "$rc" -eq 0 ]; then pass; else fail "server $1 exit $rc after SIGTERM: $(tail -n 20 "$TMP/$1.log")"; fi
}

# search QUERY LIMIT OUT: the README's curl command; the answer into OUT.
search() {
    python3 -c 'import json, sys; print(json.dumps({"data": [{"text": sys.argv[1]}],
                                "parameters": {"limit": int(sys.argv[2])}}))' "$1" "$2" |
        curl -sS --fail-with-body -H 'Content-Type: application/json' --data-binary @- \
            "$URL/search" >"$3"
}

# check_answer NAME FILE PYTHON: runs PYTHON with `matches` (the first query's),
# after checking what every answer must hold: distances ascending, each match
# a sentence of the file in tags.file at its location.
check_answer() {
    if python3 - "$2" "$DF_SOURCE_DIR" "$3" <<'PY'; then pass; else fail "$1"; fi
import json, os, sys
answer = json.load(open(sys.argv[1]))
matches = answer["data"][0]["matches"]
assert matches, answer
scores = [m["scores"]["cosine"]["value"] for m in matches]
assert scores == sorted(scores), scores
for m in matches:
    f = m["tags"]["file"]
    text = open(os.path.join(sys.argv[2], f), encoding="utf-8").read()
    s, e = (int(x) for x in m["location"])
    assert text[s:e] == m["text"], (m["id"], text[s:e], m["text"])
    assert m["parent_id"] == f and m["id"].startswith(f + "#"), m
texts = [m["text"] for m in matches]
files = [m["tags"]["file"] for m in matches]
exec(sys.argv[3])
PY
}

N_FILES=$(ls "$DF_SOURCE_DIR"/docs/*.md | wc -l)
N_FILES=$((N_FILES + 1))

# --- index: /fit, then /index, through index.sh -------------------------------------
start_server first
"$EXAMPLE/index.sh" "$URL" >"$TMP/index.out" 2>"$TMP/index.err"
rc=$?
check "index.sh exit 0 ($(cat "$TMP/index.err"))" test "$rc" -eq 0
python3 - "$TMP/index.out" "$N_FILES" >"$TMP/sentences" <<'PY'
import json, sys
lines = dict(l.split(": ", 1) for l in open(sys.argv[1]).read().splitlines())
fit, index = json.loads(lines["/fit"]), json.loads(lines["/index"])
n_files = int(sys.argv[2])
assert fit["text-sentencizer"]["docs"] == n_files, fit
n = fit["text-sentencizer"]["sentences"]
assert n > 300, fit
assert fit["text-encoder"]["docs_seen"] == n, fit
assert index["text-encoder"]["encoded"] == n and index["text-indexer"]["count"] == n, index
print(n)
PY
rc=$?
check "fit and index report every sentence of every file" test "$rc" -eq 0
SENTENCES=$(cat "$TMP/sentences")

# --- search through curl --------------------------------------------------------------
search "io_uring gateway" 3 "$TMP/uring.json"
check_answer "io_uring gateway: a sentence naming io_uring in the top 3" "$TMP/uring.json" '
assert len(matches) == 3, len(matches)
assert any("io_uring" in t for t in texts), texts
assert all("io_uring" in t or "gateway" in t.lower() for t in texts), texts
'
search "push an executor package to an OCI registry" 3 "$TMP/oci.json"
check_answer "OCI registry: the hub docs answer" "$TMP/oci.json" '
assert files[0] in ("docs/hub.md", "docs/hub-registry.md", "README.md"), files
assert "registry" in texts[0].lower(), texts
'
search "reproducible tarballs" 1 "$TMP/tar.json"
check_answer "reproducible tarballs: the heading of that section, in docs/hub.md" "$TMP/tar.json" '
assert len(matches) == 1 and files == ["docs/hub.md"], files
assert "Reproducible tarballs" in texts[0], texts
'
search "io_uring gateway" 10 "$TMP/ten.json"
check_answer "parameters.limit 10 gives 10 matches" "$TMP/ten.json" 'assert len(matches) == 10'

# --- search.sh prints the same, best first --------------------------------------------------
"$EXAMPLE/search.sh" "$URL" "reproducible tarballs" 2 >"$TMP/search.out"
rc=$?
check "search.sh exit 0" test "$rc" -eq 0
check "search.sh prints distance, file and sentence" \
    grep -qE '^0\.[0-9]{3}  docs/hub\.md +### Reproducible tarballs' "$TMP/search.out"
check "search.sh prints one line per match" test "$(wc -l <"$TMP/search.out")" -eq 2
stop_server first

# --- a restart keeps the index (and the IDF); indexing again replaces -----------------------
start_server second
search "reproducible tarballs" 1 "$TMP/tar2.json"
check_answer "after a restart: the same answer" "$TMP/tar2.json" '
assert files == ["docs/hub.md"] and "Reproducible tarballs" in texts[0], (files, texts)
'
check "after a restart: the same distance" python3 -c "
import json, sys
a, b = (json.load(open(p))['data'][0]['matches'][0]['scores']['cosine']['value'] for p in sys.argv[1:])
assert abs(a - b) < 1e-6, (a, b)
" "$TMP/tar.json" "$TMP/tar2.json"
curl -sS -H 'Content-Type: application/json' -d '{"data": [{"text": "the"}], "parameters": {"limit": 100000}}' \
    "$URL/search" >"$TMP/all.json"
check "after a restart: every sentence is there" python3 -c "
import json, sys
n = len(json.load(open(sys.argv[1]))['data'][0]['matches'])
assert n == int(sys.argv[2]), (n, sys.argv[2])
" "$TMP/all.json" "$SENTENCES"
"$EXAMPLE/index.sh" "$URL" >"$TMP/again.out" 2>&1
rc=$?
check "index.sh again: exit 0 ($(cat "$TMP/again.out"))" test "$rc" -eq 0
check "index.sh again: the IDF is refitted, not doubled; sentences replaced, not copied" \
    python3 -c "
import json, sys
lines = dict(l.split(': ', 1) for l in open(sys.argv[1]).read().splitlines())
fit, index = json.loads(lines['/fit']), json.loads(lines['/index'])
n = int(sys.argv[2])
assert fit['text-encoder']['docs_seen'] == n, fit
r = index['text-indexer']
assert r['count'] == n and r['replaced'] == r['indexed'] == n, r
" "$TMP/again.out" "$SENTENCES"
"$EXAMPLE/index.sh" --no-fit "$URL" "$DF_SOURCE_DIR/docs/hub.md" >"$TMP/one.out" 2>&1
rc=$?
check "index.sh --no-fit of one file: exit 0 ($(cat "$TMP/one.out"))" test "$rc" -eq 0
check "index.sh --no-fit: /index only, its sentences replaced" python3 -c "
import json, sys
lines = dict(l.split(': ', 1) for l in open(sys.argv[1]).read().splitlines())
assert list(lines) == ['/index'], lines
r = json.loads(lines['/index'])['text-indexer']
assert r['count'] == int(sys.argv[2]) and r['replaced'] == r['indexed'] > 0, r
" "$TMP/one.out" "$SENTENCES"
stop_server second
finish
