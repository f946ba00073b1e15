#!/usr/bin/env bash
# test_sentencizer.sh -- the Sentencizer executor (plugins/sentencizer) through
# `docflow-host call`: where sentences end (each punctuation mark, CJK, closers,
# numbers and file names, blank lines), locations that point exactly at each
# sentence in the parent's text (Python slicing, with multi-byte characters),
# min/max lengths, chunk fields, tags, flatten, traversal paths, and init errors.
source "$(dirname "$0")/lib.sh"
CFG="$DF_SOURCE_DIR/plugins/sentencizer/config.yml"

# split NAME TEXT [--with k=v ...]: runs one document through the Sentencizer.
split() {
    local name=$1 text=$2
    shift 2
    python3 -c 'import json, sys; print(json.dumps({"id": "p", "text": sys.argv[1]}))' "$text" \
        >"$TMP/in.jsonl"
    run_host call "$CFG" --on /index --input "$TMP/in.jsonl" "$@"
    expect_rc "$name: exit" 0
}

# sentences NAME PYLIST: the chunk texts of the last split equal PYLIST.
sentences() {
    pycheck "$1" "$TMP/out" "
got = [c['text'] for c in lines[0].get('chunks', [])]
want = $2
assert got == want, (got, want)
"
}

# --- the README's example, field by field --------------------------------------
split "readme" "Hello world! How are you? Fine."
pycheck "readme example: ids, offsets, locations, parent, granularity" "$TMP/out" '
cs = lines[0]["chunks"]
assert [c["text"] for c in cs] == ["Hello world!", "How are you?", "Fine."], cs
assert [c["id"] for c in cs] == ["p#0", "p#1", "p#2"], cs
assert [c.get("offset", 0) for c in cs] == [0, 1, 2], cs
assert [c["location"] for c in cs] == [[0, 12], [13, 25], [26, 31]], cs
assert all(c["parent_id"] == "p" and c["granularity"] == 1 for c in cs), cs
assert all(not c.get("tags") for c in cs), cs
'
expect_err "results" '{"__results__":{"sentencizer":{"docs":1,"sentences":3}}}'

# --- each default punctuation mark ---------------------------------------------
split "period" "One. Two"
sentences "period splits" '["One.", "Two"]'
split "exclamation" "One! Two"
sentences "exclamation splits" '["One!", "Two"]'
split "question" "One? Two"
sentences "question splits" '["One?", "Two"]'
split "ideographic full stop" "一。二"
sentences "。 splits without a space" '["一。", "二"]'
split "fullwidth exclamation" "一！二"
sentences "！ splits" '["一！", "二"]'
split "fullwidth question" "一？二"
sentences "？ splits" '["一？", "二"]'
split "runs and closers" 'Really?! He said "stop." Then (quietly.) left...'
sentences "a run of marks and its closers stay with the sentence" \
    '["Really?!", "He said \"stop.\"", "Then (quietly.)", "left..."]'
split "no split inside words" "Pi is 3.14 and the file is executor.h. Next"
sentences "3.14 and executor.h stay whole" '["Pi is 3.14 and the file is executor.h.", "Next"]'
split "text without punctuation" "  no punctuation at all  "
sentences "one stripped sentence" '["no punctuation at all"]'

# --- blank lines ---------------------------------------------------------------
split "paragraphs" $'# Title\n\nFirst line\nsame sentence. Second.\n \t\nThird'
sentences "blank lines end sentences, single line breaks do not" \
    '["# Title", "First line\nsame sentence.", "Second.", "Third"]'
split "paragraph_breaks off" $'# Title\n\nBody. End' --with paragraph_breaks=false
sentences "paragraph_breaks: false" '["# Title\n\nBody.", "End"]'

# --- locations point exactly at the sentence, in code points ----------------------
TEXT=$'  Ünïcödé → ok! 文档检索。🚀 emoji here?  Ελληνικά κείμενο. Last one\n\nx'
split "unicode" "$TEXT"
pycheck "unicode: text == parent[start:end] for every sentence" "$TMP/out" '
d = lines[0]
cs = d["chunks"]
assert [c["text"] for c in cs] == ["Ünïcödé → ok!", "文档检索。", "🚀 emoji here?",
                                   "Ελληνικά κείμενο.", "Last one", "x"], cs
for c in cs:
    s, e = c["location"]
    assert d["text"][int(s):int(e)] == c["text"], (c, d["text"][int(s):int(e)])
'

# --- min and max lengths ------------------------------------------------------------
split "min_sent_len" "A. Bb. Ccc. Dddd." --with min_sent_len=4
sentences "shorter sentences dropped, offsets stay dense" '["Ccc.", "Dddd."]'
pycheck "offsets count kept sentences" "$TMP/out" '
assert [c.get("offset", 0) for c in lines[0]["chunks"]] == [0, 1]'
split "max_sent_len" "the quick brown fox jumps over the lazy dog. supercalifragilistic" \
    --with max_sent_len=12
pycheck "long sentences cut at white space, long words hard, nothing lost" "$TMP/out" '
d = lines[0]
cs = d["chunks"]
got = [c["text"] for c in cs]
assert got == ["the quick", "brown fox", "jumps over", "the lazy", "dog.", "supercalifra", "gilistic"], got
assert all(len(t) <= 12 for t in got)
for c in cs:
    s, e = c["location"]
    assert d["text"][int(s):int(e)] == c["text"], c
'
split "max_sent_len counts characters" "ééééé ééééé" --with max_sent_len=5
sentences "multi-byte characters counted once" '["ééééé", "ééééé"]'

# --- empty and missing text ------------------------------------------------------------
printf '{"id": "none"}\n{"id": "blank", "text": "   \\n\\n  "}\n{"id": "empty", "text": ""}\n' >"$TMP/empty.jsonl"
run_host call "$CFG" --on /index --input "$TMP/empty.jsonl"
expect_rc "empty texts: exit" 0
pycheck "no chunks for empty, blank or missing text" "$TMP/out" '
assert len(lines) == 3 and all(not d.get("chunks") for d in lines), lines'
expect_err "empty texts: results" '"sentences":0'

# --- punctuation configured as a string or a list -----------------------------------------
split "punct_chars string" "a;b. c" --with 'punct_chars=";"'
sentences "only the configured marks split" '["a;b. c"]'
split "punct_chars semicolon spaced" "a; b. c" --with 'punct_chars=";"'
sentences "; then a space splits" '["a;", "b. c"]'
split "punct_chars list" "a; b| c" --with 'punct_chars=[";", "|"]'
sentences "list form" '["a;", "b|", "c"]'
split "newline as punctuation" $'line one\nline two' --with 'punct_chars=["\n", "."]'
sentences "a white-space mark always splits" '["line one", "line two"]'

# --- tags, granularity, flatten, traversal ------------------------------------------------------
cat >"$TMP/tags.jsonl" <<'EOF'
{"id": "d1", "granularity": 2, "text": "One. Two.", "tags": {"file": "a.md", "n": 3}}
{"id": "d2", "text": "Three."}
{"id": "d3"}
EOF
run_host call "$CFG" --on /index --input "$TMP/tags.jsonl" --with keep_tags=true
pycheck "keep_tags copies tags; granularity is the parent's + 1" "$TMP/out" '
cs = lines[0]["chunks"]
assert all(c["tags"] == {"file": "a.md", "n": 3} and c["granularity"] == 3 for c in cs), cs
assert lines[0]["tags"] == {"file": "a.md", "n": 3}
'
run_host call "$CFG" --on /index --input "$TMP/tags.jsonl" --with flatten=true
expect_rc "flatten: exit" 0
pycheck "flatten: the sentences replace the documents, in order" "$TMP/out" '
assert [d["text"] for d in lines] == ["One.", "Two.", "Three."], lines
assert [d["id"] for d in lines] == ["d1#0", "d1#1", "d2#0"], lines
assert [d["parent_id"] for d in lines] == ["d1", "d1", "d2"], lines
assert [d.get("offset", 0) for d in lines] == [0, 1, 0], lines
assert lines[0]["location"] == [0, 4] and lines[1]["location"] == [5, 9], lines
'
run_host call "$CFG" --on /index --input "$TMP/tags.jsonl" --parameters '{"flatten": true}'
pycheck "parameters.flatten overrides with:" "$TMP/out" 'assert len(lines) == 3 and lines[2]["id"] == "d2#0"'

cat >"$TMP/nested.jsonl" <<'EOF'
{"id": "root", "text": "Root one. Root two.", "chunks": [{"id": "c", "granularity": 1, "text": "Chunk a. Chunk b."}]}
EOF
run_host call "$CFG" --on /index --input "$TMP/nested.jsonl" --with traversal_paths=c
pycheck "traversal_paths c splits the chunks, not the roots" "$TMP/out" '
r = lines[0]
assert len(r["chunks"]) == 1, r
cc = r["chunks"][0]["chunks"]
assert [c["text"] for c in cc] == ["Chunk a.", "Chunk b."], cc
assert all(c["granularity"] == 2 and c["parent_id"] == "c" for c in cc), cc
'
run_host call "$CFG" --on /index --input "$TMP/nested.jsonl" --parameters '{"traversal_paths": ["r", "c"]}'
pycheck "traversal_paths [r, c]: new chunks of the roots are not split again" "$TMP/out" '
r = lines[0]
assert [c["text"] for c in r["chunks"]] == ["Chunk a. Chunk b.", "Root one.", "Root two."], r
assert [c["text"] for c in r["chunks"][0]["chunks"]] == ["Chunk a.", "Chunk b."], r
assert all(not c.get("chunks") for c in r["chunks"][1:]), r
'
run_host call "$CFG" --on /index --input "$TMP/nested.jsonl" --parameters '{"traversal_paths": "x"}'
expect_rc "bad parameters.traversal_paths: exit" 1
expect_err "bad parameters.traversal_paths: message" "parameters.traversal_paths: each path must be"

# --- init errors: exit 2 with the reason ------------------------------------------------------------
echo '{"text": "x"}' >"$TMP/x.jsonl"
init_error() {
    local name=$1 message=$2
    shift 2
    run_host call "$CFG" --on /index --input "$TMP/x.jsonl" "$@"
    expect_rc "$name: exit" 2
    expect_err "$name: message" "$message"
}
init_error "min > max" "with.min_sent_len (10) is greater than with.max_sent_len (5)" \
    --with min_sent_len=10 --with max_sent_len=5
init_error "max 0" "with.max_sent_len: must be >= 1, got 0" --with max_sent_len=0
init_error "min negative" "with.min_sent_len: must be >= 0, got -1" --with min_sent_len=-1
init_error "empty punct_chars" "with.punct_chars: empty" --with 'punct_chars=""'
init_error "punct list item of two characters" "each list item must be one character, got \"ab\"" \
    --with 'punct_chars=["ab"]'
init_error "punct_chars a number" "with.punct_chars: expected a string" --with punct_chars=5
init_error "bad traversal_paths" "with.traversal_paths: each path must be" --with traversal_paths=rc
init_error "min_sent_len a string" "with.min_sent_len" --with min_sent_len=long
finish
