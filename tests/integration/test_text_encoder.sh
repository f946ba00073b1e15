#!/usr/bin/env bash
# test_text_encoder.sh -- the TextEncoder executor (plugins/text-encoder)
# through `docflow-host call`: unit-length embeddings of `dim`, the same bits in
# two processes (and pinned values, so a change of the hashing scheme cannot go
# unnoticed), similar texts closer than unrelated ones (words, word pieces,
# CJK), documents without text skipped, /fit's IDF changing the weights and
# persisting across restarts in the workspace (accumulate, reset, a failed save
# changing nothing, a corrupt file refused), traversal paths, and init errors.
source "$(dirname "$0")/lib.sh"
CFG="$DF_SOURCE_DIR/plugins/text-encoder/config.yml"
WS="$TMP/ws"

# encode NAME INPUT OUTPUT [call options...]: /index through the encoder.
encode() {
    local name=$1 input=$2 output=$3
    shift 3
    run_host call "$CFG" --on /index --input "$input" --output "$output" --workspace "$WS" "$@"
    expect_rc "$name: exit" 0
}

# Python helpers for the checks: vectors by id, cosine.
PY_HELPERS='
import math
vec = {d["id"]: d.get("embedding") for d in lines}
def cos(a, b):
    return sum(x * y for x, y in zip(vec[a], vec[b]))
def norm(v):
    return math.sqrt(sum(x * x for x in v))
'

cat >"$TMP/texts.jsonl" <<'EOF'
{"id": "gw1", "text": "The gateway serves HTTP requests on io_uring."}
{"id": "gw2", "text": "An io_uring based HTTP gateway"}
{"id": "pizza", "text": "Pizza with mozzarella, basil and tomatoes"}
{"id": "idx1", "text": "indexing documents into the vector index"}
{"id": "idx2", "text": "the indexer indexes a document"}
{"id": "weather", "text": "sunny weather at seaside towns"}
{"id": "zh1", "text": "文档检索系统很快"}
{"id": "zh2", "text": "文档检索"}
{"id": "zh3", "text": "今天天气很好"}
{"id": "case1", "text": "Hello World ÜBER Ελλάδα"}
{"id": "case2", "text": "hello world über ελλάδα"}
{"id": "bang", "text": "!!!"}
{"id": "bang2", "text": "!!!"}
{"id": "notext", "embedding": [1, 2, 3]}
{"id": "blob", "blob": "aGVsbG8="}
EOF

# --- shape, norm, skipping, results --------------------------------------------------
encode "default" "$TMP/texts.jsonl" "$TMP/a.jsonl"
pycheck "every text gets a unit-length float embedding of dim 256" "$TMP/a.jsonl" "$PY_HELPERS
for d in lines:
    if d['id'] in ('notext', 'blob'):
        continue
    assert len(d['embedding']) == 256, d['id']
    assert abs(norm(d['embedding']) - 1) < 1e-5, (d['id'], norm(d['embedding']))
"
pycheck "documents without text are skipped and keep their embedding" "$TMP/a.jsonl" "$PY_HELPERS
assert vec['notext'] == [1, 2, 3], vec['notext']
assert vec['blob'] is None
"
expect_err "results count encoded and skipped" '{"__results__":{"encoder":{"encoded":13,"skipped":2}}}'
pycheck "a text without word characters: unit length, equal only to itself" "$TMP/a.jsonl" "$PY_HELPERS
assert abs(cos('bang', 'bang2') - 1) < 1e-6
assert abs(cos('bang', 'gw1')) < 0.2
"

# --- determinism: a second process gives the same bits; pinned values -----------------
encode "second process" "$TMP/texts.jsonl" "$TMP/b.jsonl"
check "two processes give identical embeddings" cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl"
encode "pinned" "$TMP/texts.jsonl" "$TMP/pinned.jsonl" --with dim=8 --with 'ngram_range=[3,5]' \
    --with word_weight=1 --with bigram_weight=0.5 --with char_weight=0.5
pycheck "pinned values: the hashing scheme has not changed" "$TMP/pinned.jsonl" "
got = lines[0]['embedding']
want = [-0.62319, 0.37978, -0.03571, -0.258, -0.086, 0.03571, 0.05029, -0.62319]
assert len(got) == 8 and all(abs(g - w) < 2e-5 for g, w in zip(got, want)), got
"

# --- similar texts are closer than unrelated ones --------------------------------------
pycheck "cosine: related > unrelated (words, word pieces, CJK)" "$TMP/a.jsonl" "$PY_HELPERS
assert cos('gw1', 'gw2') > cos('gw1', 'pizza') + 0.2, (cos('gw1', 'gw2'), cos('gw1', 'pizza'))
assert cos('gw1', 'gw2') > cos('gw1', 'weather') + 0.2
assert cos('idx1', 'idx2') > cos('idx1', 'pizza') + 0.1, (cos('idx1', 'idx2'), cos('idx1', 'pizza'))
assert cos('idx1', 'idx2') > cos('idx1', 'weather') + 0.1
assert cos('zh1', 'zh2') > cos('zh1', 'zh3') + 0.2, (cos('zh1', 'zh2'), cos('zh1', 'zh3'))
"
pycheck "lowercase folds ASCII, Latin-1 and Greek" "$TMP/a.jsonl" "$PY_HELPERS
assert abs(cos('case1', 'case2') - 1) < 1e-6, cos('case1', 'case2')
"
encode "lowercase off" "$TMP/texts.jsonl" "$TMP/cased.jsonl" --with lowercase=false
pycheck "lowercase: false keeps case apart" "$TMP/cased.jsonl" "$PY_HELPERS
assert cos('case1', 'case2') < 0.5, cos('case1', 'case2')
"
encode "dim 64" "$TMP/texts.jsonl" "$TMP/d64.jsonl" --with dim=64
pycheck "with.dim sets the size" "$TMP/d64.jsonl" "$PY_HELPERS
assert len(vec['gw1']) == 64 and abs(norm(vec['gw1']) - 1) < 1e-5
"

# --- the default handler encodes on every endpoint but /fit -------------------------------
run_host call "$CFG" --on /search --input "$TMP/texts.jsonl" --workspace "$WS"
pycheck "/search encodes, with the same vectors as /index" "$TMP/out" "
ref = {d['id']: d.get('embedding') for d in map(json.loads, open('$TMP/a.jsonl'))}
assert all(d.get('embedding') == ref[d['id']] for d in lines)
"

# --- traversal paths ------------------------------------------------------------------------
cat >"$TMP/nested.jsonl" <<'EOF'
{"id": "root", "text": "root text", "chunks": [{"id": "c1", "text": "chunk one"}, {"id": "c2", "text": "chunk two"}]}
EOF
encode "traversal c" "$TMP/nested.jsonl" "$TMP/c.jsonl" --with traversal_paths=c
pycheck "traversal_paths c encodes the chunks only" "$TMP/c.jsonl" '
r = lines[0]
assert "embedding" not in r, r.keys()
assert all(len(c["embedding"]) == 256 for c in r["chunks"])
'
encode "traversal r,c" "$TMP/nested.jsonl" "$TMP/rc.jsonl" --parameters '{"traversal_paths": "r,c"}'
pycheck "parameters.traversal_paths r,c encodes both" "$TMP/rc.jsonl" '
r = lines[0]
assert len(r["embedding"]) == 256 and all(len(c["embedding"]) == 256 for c in r["chunks"])
'

# --- IDF: /fit changes the weights, persists, accumulates, resets -----------------------------
python3 - "$TMP/corpus.jsonl" <<'PY'
import json, sys
topics = ["gateway", "indexer", "encoder", "registry", "flow", "shard", "replica", "sentence"]
with open(sys.argv[1], "w") as f:
    for i in range(40):
        t = topics[i % len(topics)]
        f.write(json.dumps({"id": f"c{i}", "text": f"the {t} is the part of the system number {i}"}) + "\n")
PY
cat >"$TMP/q.jsonl" <<'EOF'
{"id": "q", "text": "the the the gateway"}
{"id": "t", "text": "gateway"}
{"id": "s", "text": "the system"}
EOF
encode "before fit" "$TMP/q.jsonl" "$TMP/q0.jsonl"
run_host call "$CFG" --on /fit --input "$TMP/corpus.jsonl" --workspace "$WS" --request-size 15
expect_rc "fit: exit" 0
check "fit wrote idf.bin in the workspace" test -s "$WS/encoder/idf.bin"
pycheck "/fit does not encode" "$TMP/out" 'assert all("embedding" not in d for d in lines)'
check "fit results report the documents seen, accumulated over requests" \
    grep -q '"fitted":10,"docs_seen":40' "$TMP/err"
encode "after fit (a new process: loaded from the workspace)" "$TMP/q.jsonl" "$TMP/q1.jsonl"
expect_err "the loaded IDF is logged" "IDF of 40 documents loaded"
python3 - "$TMP/q0.jsonl" "$TMP/q1.jsonl" >"$TMP/idf_check.txt" <<'PY'
import json, sys
def load(p):
    return {d["id"]: d["embedding"] for d in map(json.loads, open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
cos = lambda v, w: sum(x * y for x, y in zip(v, w))
print(cos(a["q"], a["t"]), cos(b["q"], b["t"]), a["q"] == b["q"])
PY
read -r BEFORE AFTER SAME <"$TMP/idf_check.txt"
check "IDF changes the vector" test "$SAME" = False
check "IDF weighs down 'the' (in every fitted doc): 'the the the gateway' nearer 'gateway' ($BEFORE -> $AFTER)" \
    python3 -c "import sys; sys.exit(not float('$AFTER') > float('$BEFORE') + 0.1)"
encode "after fit, again" "$TMP/q.jsonl" "$TMP/q2.jsonl"
check "with IDF, still deterministic across processes" cmp -s "$TMP/q1.jsonl" "$TMP/q2.jsonl"
encode "use_idf false" "$TMP/q.jsonl" "$TMP/q3.jsonl" --with use_idf=false
check "use_idf: false ignores the fitted IDF" cmp -s "$TMP/q0.jsonl" "$TMP/q3.jsonl"

run_host call "$CFG" --on /fit --input "$TMP/corpus.jsonl" --workspace "$WS" --request-size 0
check "a second /fit accumulates" grep -q '"fitted":40,"docs_seen":80' "$TMP/err"
run_host call "$CFG" --on /fit --input "$TMP/corpus.jsonl" --workspace "$WS" --request-size 0 \
    --parameters '{"reset": true}'
check "reset forgets earlier fits" grep -q '"fitted":40,"docs_seen":40' "$TMP/err"
encode "after reset" "$TMP/q.jsonl" "$TMP/q4.jsonl"
check "the same corpus fitted once gives the same vectors" cmp -s "$TMP/q1.jsonl" "$TMP/q4.jsonl"

# A save that fails (the temporary file's name is taken by a folder) fails the
# call and leaves the table as it was, in memory and on disk.
cp "$WS/encoder/idf.bin" "$TMP/idf.before"
mkdir "$WS/encoder/idf.bin.tmp"
run_host call "$CFG" --on /fit --input "$TMP/corpus.jsonl" --workspace "$WS" --request-size 0
expect_rc "fit with a failing save: exit" 1
expect_err "fit with a failing save: message" "cannot write $WS/encoder/idf.bin"
check "the file is unchanged" cmp -s "$TMP/idf.before" "$WS/encoder/idf.bin"
rmdir "$WS/encoder/idf.bin.tmp"

# A corrupt file is refused at init, naming it.
printf 'garbage' >"$WS/encoder/idf.bin"
run_host call "$CFG" --on /index --input "$TMP/q.jsonl" --workspace "$WS"
expect_rc "corrupt idf.bin: exit" 1
expect_err "corrupt idf.bin: message" "$WS/encoder/idf.bin: not a TextEncoder IDF file"
cp "$TMP/idf.before" "$WS/encoder/idf.bin"
printf 'X' | dd of="$WS/encoder/idf.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
run_host call "$CFG" --on /index --input "$TMP/q.jsonl" --workspace "$WS"
expect_err "a flipped byte is caught by the checksum" "truncated or corrupt (checksum mismatch)"

# --- init errors: exit 2 with the value ---------------------------------------------------------
init_error() {
    local name=$1 message=$2
    shift 2
    run_host call "$CFG" --on /index --input "$TMP/q.jsonl" --workspace "$WS.err" "$@"
    expect_rc "$name: exit" 2
    expect_err "$name: message" "$message"
}
init_error "dim 0" "with.dim: expected an integer between 1 and 65536, got 0" --with dim=0
init_error "dim negative" "got -3" --with dim=-3
init_error "dim too big" "got 65537" --with dim=65537
init_error "dim not an integer" "with.dim" --with dim=1.5
init_error "ngram_range reversed" "with.ngram_range: expected [min, max] character n-gram lengths with 1 <= min <= max <= 16, e.g. [3, 5]; got [5, 3]" \
    --with 'ngram_range=[5,3]'
init_error "ngram_range zero" "got [0, 2]" --with 'ngram_range=[0,2]'
init_error "ngram_range too long" "got [3, 17]" --with 'ngram_range=[3,17]'
init_error "ngram_range one item" "got [3]" --with 'ngram_range=[3]'
init_error "ngram_range a string" 'got "3-5"' --with 'ngram_range=3-5'
init_error "negative weight" "with.char_weight: expected a number >= 0" --with char_weight=-1
init_error "all weights 0" "are all 0" --with word_weight=0 --with bigram_weight=0 --with char_weight=0
init_error "bad traversal_paths" "with.traversal_paths: each path must be" --with traversal_paths=x
finish
