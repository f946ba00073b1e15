#!/usr/bin/env bash
# test_match_merger.sh -- the MatchMerger built-in on the real binary: alone
# through `docflow-host call` (sorting, duplicates, limit, directions,
# errors), then as the uses_after of a sharded index in a whole search flow
# run by `docflow-host post --flow`: ImageEncoder (PCA fitted on /fit) ->
# 2 shards polled ALL (tests/plugins/scored_shard.c) + MatchMerger ->
# Evaluator by label, served by `docflow-host run` (the shards keep their
# index in memory) and fed by `docflow-host post --host`. The merged
# matches must equal a brute-force search over every indexed embedding,
# and the search must be good. Last, the default reducer: 2 VectorIndexer
# shards with no uses_after answer what the unsharded index answers, and
# `uses_after: null` keeps Jina's merge by id.
source "$(dirname "$0")/lib.sh"
CFG="$DF_SOURCE_DIR/plugins/match-merger/config.yml"
SHARD_SO="$DF_BINARY_DIR/tests/plugins/scored_shard.so"
# Loopback only: libcurl would send through a proxy named in the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# --- alone: the request's own matches, deduplicated, sorted, cut -------------------
cat >"$TMP/matches.jsonl" <<'EOF'
{"id": "q1", "matches": [{"id": "a", "scores": {"cosine": {"value": 0.9}}}, {"id": "b", "scores": {"cosine": {"value": 0.3}}}, {"id": "a", "scores": {"cosine": {"value": 0.2}}}, {"id": "c", "scores": {"cosine": {"value": 0.5}}}, {"id": "d", "scores": {"cosine": {"value": 0.7}}}]}
{"id": "q2", "matches": [{"id": "x", "scores": {"cosine": {"value": 0.4}}}]}
EOF
run_host call "$CFG" --on /search --input "$TMP/matches.jsonl" --parameters '{"limit": 3}'
expect_rc "alone exit" 0
pycheck "cosine is a distance: ascending, best copy of a kept" "$TMP/out" '
got = [[(m["id"], round(m["scores"]["cosine"]["value"], 3)) for m in d["matches"]] for d in lines]
assert got == [[("a", 0.2), ("b", 0.3), ("c", 0.5)], [("x", 0.4)]], got
'
sed 's/cosine/dot/g' "$TMP/matches.jsonl" >"$TMP/dot.jsonl"
run_host call "$CFG" --on /search --input "$TMP/dot.jsonl" --with limit=2
expect_rc "dot exit" 0
pycheck "dot is a similarity: descending" "$TMP/out" '
assert [m["id"] for m in lines[0]["matches"]] == ["a", "d"], lines[0]["matches"]
assert lines[0]["matches"][0]["scores"]["dot"]["value"] > 0.89
'
sed 's/cosine/relevance_model_v2/g' "$TMP/matches.jsonl" >"$TMP/custom.jsonl"
run_host call "$CFG" --on /search --input "$TMP/custom.jsonl" --with higher_is_better=false
expect_rc "custom score with a direction exit" 0
pycheck "custom score sorted as asked" "$TMP/out" '
assert [m["id"] for m in lines[0]["matches"]] == ["a", "b", "c", "d"], lines[0]["matches"]
'

# --- what it cannot rank it leaves alone --------------------------------------------------
run_host call "$CFG" --on /search --input "$TMP/custom.jsonl" --parameters '{"limit": 2}'
expect_rc "unknown score exit" 0
pycheck "a score of unknown direction: matches left as they came" "$TMP/out" '
assert [m["id"] for m in lines[0]["matches"]] == ["a", "b", "a", "c", "d"], lines[0]["matches"]
'
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
docs = [{"id": "q1", "matches": [{"id": "a", "scores": {"cosine": {"value": 0.9}}},
                                 {"id": "b", "scores": {"euclidean": {"value": 0.1}}},
                                 {"id": "c"}]},
        {"id": "q2", "matches": [{"id": "x"}, {"id": "y"}]},
        {"id": "q3", "text": "no matches"},
        {"id": "q4", "matches": [{"id": "s", "scores": {"dot": {"value": 0.1}}},
                                 {"id": "t", "scores": {"dot": {"value": 0.8}}}]}]
with open(f"{tmp}/mixed.jsonl", "w") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
PY
run_host call "$CFG" --on /search --input "$TMP/mixed.jsonl"
expect_rc "mixed scores exit" 0
pycheck "differing or missing scores left alone, the rankable query ranked" "$TMP/out" '
ids = [[m["id"] for m in d.get("matches", [])] for d in lines]
assert ids == [["a", "b", "c"], ["x", "y"], [], ["t", "s"]], ids
assert lines[2]["text"] == "no matches", lines[2]
'

# --- errors -------------------------------------------------------------------------------
run_host call "$CFG" --on /search --input "$TMP/custom.jsonl" --parameters '{"metric": "relevance_model_v2"}'
expect_rc "unknown parameters.metric exit" 1
expect_err "unknown parameters.metric says what to set" "parameters.metric 'relevance_model_v2': cannot tell whether a higher score is better"
run_host call "$CFG" --on /search --input "$TMP/matches.jsonl" --with metric=relevance_model_v2
expect_rc "unknown with.metric exit" 2
expect_err "unknown with.metric message" "set with.higher_is_better"
run_host call "$CFG" --on /search --input "$TMP/matches.jsonl" --parameters '{"limit": -1}'
expect_rc "negative limit exit" 1
expect_err "negative limit message" "parameters.limit must be >= 0"

# --- in a sharded search flow ---------------------------------------------------------------
# Three classes of 8 x 8 images (a bar, a column, a diagonal) with noise.
python3 - "$TMP" <<'PY'
import base64, json, random, sys
tmp = sys.argv[1]
rng = random.Random(5)
def image(label):
    px = [rng.randint(0, 40) for _ in range(64)]
    shift = rng.randint(0, 4)
    for k in range(8):
        r, c = [(2 + shift, k), (k, 2 + shift), (k, (k + shift) % 8)][label]
        px[r * 8 + c] = rng.randint(180, 255)
    return px
def write(name, n):
    with open(f"{tmp}/{name}.jsonl", "w") as f:
        for i in range(n):
            label = i % 3
            doc = {"id": f"{name}{i}", "blob": base64.b64encode(bytes(image(label))).decode(),
                   "tags": {"label": label}}
            f.write(json.dumps(doc) + "\n")
write("index", 240)
write("query", 30)
PY
cat >"$TMP/flow.yml" <<YML
jtype: Flow
executors:
  - name: encoder
    uses: $DF_SOURCE_DIR/plugins/image-encoder/config.yml
    workspace: $TMP/ws
  - name: index
    uses: {jtype: ScoredShard, metas: {library: $SHARD_SO}, with: {metric: dot}}
    shards: 2
    polling: ALL
    uses_after: MatchMerger
  - name: evaluate
    uses: $DF_SOURCE_DIR/plugins/evaluator/config.yml
    uses_with: {label_tag: label, metrics: [precision@1, precision@5]}
YML
# the server: `docflow-host run FLOW --port 0`, its port from the ready line
"$HOST" run "$TMP/flow.yml" --port 0 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 600); do
    PORT=$(sed -n 's|.*ready on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$TMP/server.log" | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$PORT" ]; then
    fail "the search flow did not get ready: $(cat "$TMP/server.log")"
    finish
    exit 1
fi
flow() { run_host post --host "http://127.0.0.1:$PORT" "$@"; }
flow --on /fit --input "$TMP/index.jsonl" --results "$TMP/fit.jsonl" --output /dev/null
expect_rc "flow /fit exit" 0
pycheck "the encoder fitted on every request" "$TMP/fit.jsonl" '
assert max(l["__results__"]["encoder"]["samples"] for l in lines) == 240, lines
'
flow --on /index --input "$TMP/index.jsonl" --output "$TMP/indexed.jsonl"
expect_rc "flow /index exit" 0
flow --on /search --input "$TMP/query.jsonl" --parameters '{"limit": 5}' \
    --output "$TMP/found.jsonl" --results "$TMP/search.jsonl"
expect_rc "flow /search exit" 0
pycheck "sharded and merged equals brute force over every document" "$TMP/found.jsonl" "
index = [json.loads(l) for l in open('$TMP/indexed.jsonl')]
parts = set()
for q in lines:
    scored = sorted(((-sum(a * b for a, b in zip(q['embedding'], d['embedding'])), d['id'])
                     for d in index))
    want = [i for _, i in scored[:5]]
    got = [m['id'] for m in q['matches']]
    assert got == want, (q['id'], got, want)
    values = [m['scores']['dot']['value'] for m in q['matches']]
    assert values == sorted(values, reverse=True), values
    parts |= {m['tags']['part'] for m in q['matches']}
assert parts == {0, 1}, parts
"
pycheck "the search is good, and the Evaluator says so" "$TMP/search.jsonl" "
found = [json.loads(l) for l in open('$TMP/found.jsonl')]
p1 = sum(q['matches'][0]['tags']['label'] == q['tags']['label'] for q in found) / len(found)
r = lines[0]['__results__']['evaluate']
assert abs(r['precision@1'] - p1) < 1e-6, (r, p1)
assert r['precision@1'] >= 0.9, r
assert r['docs'] == 30, r
assert all(q['evaluations']['precision@5']['op_name'] == 'precision@5' for q in found)
"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
check "the flow stops cleanly" test $? -eq 0
SERVER_PID=""

# --- the default reducer: 2 VectorIndexer shards and no uses_after -------------------------
python3 - "$TMP" <<'PY'
import json, random, sys
tmp = sys.argv[1]
rng = random.Random(11)
def vec():
    return [round(rng.uniform(-1, 1), 4) for _ in range(16)]
with open(f"{tmp}/vi-docs.jsonl", "w") as f:
    for i in range(400):
        f.write(json.dumps({"id": f"v{i}", "embedding": vec(), "tags": {"n": i}}) + "\n")
with open(f"{tmp}/vi-queries.jsonl", "w") as f:
    for i in range(20):
        f.write(json.dumps({"id": f"q{i}", "embedding": vec()}) + "\n")
PY
cat >"$TMP/vi-flat.yml" <<YML
jtype: Flow
executors:
  - name: idx
    uses: VectorIndexer
    workspace: $TMP/vi-flat
YML
cat >"$TMP/vi-sharded.yml" <<YML
jtype: Flow
executors:
  - name: idx
    uses: VectorIndexer
    shards: 2
    polling: {/search: ALL, '*': ANY}
    workspace: $TMP/vi-sharded
YML
sed 's|^    workspace:|    uses_after: null\n    workspace:|' "$TMP/vi-sharded.yml" >"$TMP/vi-plain.yml"
run_host validate "$TMP/vi-sharded.yml"
expect_rc "validate the sharded flow" 0
check "validate shows the default reducer" grep -qF -- \
    "after     MatchMerger (default reducer of the shards' answers on /search; uses_after: null turns it off)" \
    "$TMP/out"
run_host validate "$TMP/vi-plain.yml"
expect_rc "validate uses_after: null" 0
check "uses_after: null shows no reducer" sh -c "! grep -q '^    after' '$TMP/out'"
# A docflow-host with no plugin folder beside it (a copy elsewhere; the build
# tree's RUNPATH still finds libdocflow): no MatchMerger, a warning, the merge
# by id. Skipped when an installed docflow provides the plugin.
mkdir -p "$TMP/bin"
cp "$HOST" "$TMP/bin/docflow-host"
DOCFLOW_PLUGIN_PATH= "$TMP/bin/docflow-host" validate "$TMP/vi-sharded.yml" >"$TMP/out" 2>"$TMP/err"
check "validate without the plugin still passes" test $? -eq 0
if grep -q '^    after' "$TMP/out"; then
    echo "note: an installed docflow provides match_merger.so; missing-plugin warning not checked"
else
    expect_err "a missing default reducer warns" \
        "vi-sharded.yml:5:5: shards polled ALL (/search) have no uses_after and the default reducer, MatchMerger (match_merger.so), is not in the plugin folders"
    expect_err "and says what that means" "the shards' answers are only merged by id"
fi
for flow in flat sharded; do
    run_host post --flow "$TMP/vi-$flow.yml" --on /index --input "$TMP/vi-docs.jsonl" \
        --request-size 50 --output "$TMP/vi-$flow-indexed.jsonl"
    expect_rc "$flow: /index" 0
done
check "both shards hold documents" \
    test -s "$TMP/vi-sharded/idx/0/index.dfv" -a -s "$TMP/vi-sharded/idx/1/index.dfv"
for limit in "" '{"limit": 5}' '{"limit": 37}'; do
    params=${limit:-"{}"}
    for flow in flat sharded plain; do
        run_host post --flow "$TMP/vi-$flow.yml" --on /search --input "$TMP/vi-queries.jsonl" \
            --parameters "$params" --output "$TMP/vi-$flow-search.jsonl"
        expect_rc "$flow: /search $params" 0
    done
    check "2 shards without uses_after: the unsharded top-k ($params)" \
        cmp -s "$TMP/vi-sharded-search.jsonl" "$TMP/vi-flat-search.jsonl"
    pycheck "uses_after: null: both shards' top-k, merged by id ($params)" \
        "$TMP/vi-plain-search.jsonl" "
k = json.loads('$params').get('limit', 10)
flat = [json.loads(l) for l in open('$TMP/vi-flat-search.jsonl')]
for q, f in zip(lines, flat):
    assert len(q['matches']) == 2 * k, (q['id'], len(q['matches']))
    assert {m['id'] for m in f['matches']} <= {m['id'] for m in q['matches']}, q['id']
"
done

finish
