#!/usr/bin/env bash
# test_docs_examples.sh -- docs/writing-an-executor.md cannot rot.
#
# 1. Every block marked <!-- file: PATH --> equals PATH in the source tree
#    (the doc shows examples/my-executor/ verbatim).
# 2. Every C snippet compiles with -std=c11 -Wall -Wextra -Werror against the
#    ABI header alone; a snippet with DF_PLUGIN(...) is also linked as a
#    plugin (-fvisibility=hidden -Wl,--no-undefined -Wl,-z,now) that exports
#    exactly docflow_plugin_v1, and is loaded and run by the docflow-host of
#    this build, checking what the doc says about it.
# 3. Every identifier of executor.h (types, macros, enum constants, df_host
#    entries, inline helpers) is explained somewhere in the doc, so a new
#    ABI entry fails this test until it is documented.
# Shell snippets are only syntax-checked here; test_install.sh runs them
# against an installed tree.
#
# Run by ctest with DF_SOURCE_DIR and DF_BINARY_DIR set.
set -euo pipefail

: "${DF_SOURCE_DIR:?set DF_SOURCE_DIR to the docflow source tree}"
: "${DF_BINARY_DIR:?set DF_BINARY_DIR to the docflow build tree}"
doc=$DF_SOURCE_DIR/docs/writing-an-executor.md
header=$DF_SOURCE_DIR/plugin-api/include/docflow/executor.h
include=$DF_SOURCE_DIR/plugin-api/include
host=$DF_BINARY_DIR/host/docflow-host
CC=${CC:-cc}
unset DOCFLOW_PLUGIN_PATH

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DOCFLOW_HOME=$tmp/home # workspaces of the runs below land here

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# check_json FILE WHAT EXPR: EXPR (Python) must be true, with `docs` the list
# of JSON lines of FILE.
check_json() {
    local file=$1 what=$2 expr=$3
    if ! python3 - "$file" "$expr" <<'EOF'; then
import json, sys
path, expr = sys.argv[1], sys.argv[2]
with open(path) as f:
    docs = [json.loads(line) for line in f if line.strip()]
ok = False
try:
    ok = eval(expr, {"docs": docs})
except Exception as e:  # a missing key is a failed check, not a crash
    print(f"  {type(e).__name__}: {e}", file=sys.stderr)
if not ok:
    print(f"  expected: {expr}", file=sys.stderr)
    for d in docs:
        print(f"  got: {json.dumps(d)}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
        fail "$what"
    fi
}

# run_call NAME ARGS...: runs docflow-host call, keeping stdout in
# $tmp/NAME.out, stderr in $tmp/NAME.err and the exit status in $tmp/NAME.rc.
run_call() {
    local name=$1
    shift
    local rc=0
    "$host" call "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    echo "$rc" >"$tmp/$name.rc"
}

expect_rc() {
    local name=$1 want=$2 got
    got=$(cat "$tmp/$name.rc")
    if [[ $got != "$want" ]]; then
        fail "$name: exit status $got, expected $want"
        sed 's/^/  stderr: /' "$tmp/$name.err" >&2
        return 1
    fi
}

# ---- 1. extract -------------------------------------------------------------
snip=$tmp/snippets
if ! bash "$DF_SOURCE_DIR/tools/extract-doc-snippets.sh" "$doc" "$snip"; then
    echo "FAIL: cannot extract the snippets of $doc" >&2
    exit 1
fi

# ---- 2. verbatim files --------------------------------------------------------
n_files=0
while read -r kind name _; do
    [[ $kind == file ]] || continue
    n_files=$((n_files + 1))
    if [[ ! -f $DF_SOURCE_DIR/$name ]]; then
        fail "the doc includes $name, which does not exist"
    elif ! diff -u "$DF_SOURCE_DIR/$name" "$snip/files/$name" >"$tmp/diff" 2>&1; then
        fail "the doc's copy of $name differs from the file (update one of them):"
        sed 's/^/  /' "$tmp/diff" >&2
    fi
done <"$snip/INDEX"
for f in my_executor.c CMakeLists.txt config.yml sample.jsonl; do
    [[ -f $snip/files/examples/my-executor/$f ]] ||
        fail "the doc no longer includes examples/my-executor/$f verbatim"
done

# ---- 3. C snippets ---------------------------------------------------------------
cflags=(-std=c11 -Wall -Wextra -Werror -I"$include")
# shellcheck disable=SC2054 # the commas belong to the linker flags
plugin_flags=(-O2 -fPIC -shared -fvisibility=hidden -Wl,--no-undefined -Wl,-z,now)
mkdir -p "$tmp/build"
n_c=0
for src in "$snip"/*.c; do
    [[ -e $src ]] || continue
    n_c=$((n_c + 1))
    name=$(basename "$src" .c)
    extra=()
    if grep -q '<cblas.h>' "$src"; then
        read -r -a extra <<<"$(pkg-config --cflags --libs openblas)"
    fi
    if ! "$CC" "${cflags[@]}" -fsyntax-only "$src" "${extra[@]}" 2>"$tmp/cc.err"; then
        fail "$name.c does not compile:"
        sed 's/^/  /' "$tmp/cc.err" >&2
        continue
    fi
    grep -q '^DF_PLUGIN(' "$src" || continue
    so=$tmp/build/$name.so
    if ! "$CC" "${cflags[@]}" "${plugin_flags[@]}" -o "$so" "$src" "${extra[@]}" -lm 2>"$tmp/cc.err"; then
        fail "$name.c does not link as a plugin:"
        sed 's/^/  /' "$tmp/cc.err" >&2
        continue
    fi
    exported=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort | tr '\n' ' ')
    [[ $exported == "docflow_plugin_v1 " ]] ||
        fail "$name.so exports '$exported', expected only docflow_plugin_v1"
done
((n_c >= 3)) || fail "expected at least 3 C snippets (hello.c, tour.c, cosine_ranker.c), found $n_c"
for f in "$snip"/*.sh; do
    [[ -e $f ]] || continue
    bash -n "$f" 2>"$tmp/sh.err" || { fail "$(basename "$f") is not valid shell:"; cat "$tmp/sh.err" >&2; }
done

# ---- 4. the plugins do what the doc says ------------------------------------------
if [[ ! -x $host ]]; then
    fail "$host is missing: build docflow first"
else
    b=$tmp/build

    # hello.c: the default handler tags every document, on any endpoint.
    printf '{"id": "a"}\n{"id": "b", "text": "x"}\n' >"$tmp/two.jsonl"
    run_call hello "$b/hello.so" --jtype Hello --on /anything --input "$tmp/two.jsonl"
    expect_rc hello 0 &&
        check_json "$tmp/hello.out" "hello.c tags every document hello: true" \
            'len(docs) == 2 and all(d["tags"]["hello"] is True for d in docs)'

    # tour.yml: ${{ ENV.TOUR_MODEL }}, requests: rebinding /embed and /default.
    tour_yml=$tmp/tour.yml # metas.library: build/tour.so, relative to the YAML
    cp "$snip/tour.yml" "$tour_yml"
    TOUR_MODEL=bytes run_call tour-embed "$tour_yml" --on /embed --input "$tmp/two.jsonl"
    expect_rc tour-embed 0 &&
        check_json "$tmp/tour-embed.out" "tour.yml: /embed is rebound to encode" \
            'docs[1]["tags"]["embedding_dim"] == 16 and len(docs[1]["embedding"]) == 16 and "embedding" not in docs[0]'
    TOUR_MODEL=bytes run_call tour-default "$tour_yml" --on /other --parameters '{"top_k": 3, "q": "x"}' \
        --input "$tmp/two.jsonl" --results "$tmp/tour-default.results"
    expect_rc tour-default 0 &&
        check_json "$tmp/tour-default.results" "tour.yml: /default is rebound to describe_parameters" \
            'docs == [{"__results__": {"tour": {"types": {"top_k": "number", "q": "string"}, "values": [3, "x"], "count": 2, "has_top_k": True, "debug": None}}}]'
    (unset TOUR_MODEL && run_call tour-noenv "$tour_yml" --on /embed --input "$tmp/two.jsonl")
    expect_rc tour-noenv 2 && { grep -q TOUR_MODEL "$tmp/tour-noenv.err" ||
        fail "an unset \${{ ENV.TOUR_MODEL }} should be reported by name"; }

    # Batch policies: /single calls once per document; TourLite's /batch
    # takes 4 at a time unless metas.batch_size says otherwise; an unbound
    # endpoint of TourLite (no default) passes the documents through.
    for i in 1 2 3 4 5; do echo "{\"id\": \"d$i\", \"text\": \"t$i\"}"; done >"$tmp/five.jsonl"
    run_call tour-single "$b/tour.so" --jtype Tour --on /single --input "$tmp/five.jsonl"
    expect_rc tour-single 0 &&
        check_json "$tmp/tour-single.out" "DF_REQUEST_SINGLE calls once per document" \
            '[d["tags"]["batch_len"] for d in docs] == [1, 1, 1, 1, 1]'
    run_call tour-batch "$b/tour.so" --jtype TourLite --on /batch --input "$tmp/five.jsonl"
    expect_rc tour-batch 0 &&
        check_json "$tmp/tour-batch.out" "DF_REQUEST_BATCH(..., 4) gives batches of 4 and a rest" \
            '[d["tags"]["batch_len"] for d in docs] == [4, 4, 4, 4, 1]'
    printf 'jtype: TourLite\nmetas: {library: build/tour.so, batch_size: 2}\n' >"$tmp/lite.yml"
    run_call tour-batch2 "$tmp/lite.yml" --on /batch --input "$tmp/five.jsonl"
    expect_rc tour-batch2 0 &&
        check_json "$tmp/tour-batch2.out" "metas.batch_size overrides the batch size" \
            '[d["tags"]["batch_len"] for d in docs] == [2, 2, 2, 2, 1]'
    run_call tour-pass "$tmp/lite.yml" --on /search --input "$tmp/five.jsonl"
    expect_rc tour-pass 0 &&
        check_json "$tmp/tour-pass.out" "no row and no default handler: documents pass through" \
            '[d for d in docs] == [{"id": "d%d" % i, "text": "t%d" % i} for i in range(1, 6)]'

    # Segmenting, failing, the ABI report.
    echo '{"id": "p", "text": "One. Two two. x. Three"}' >"$tmp/para.jsonl"
    run_call tour-segment "$b/tour.so" --jtype Tour --on /segment --input "$tmp/para.jsonl"
    expect_rc tour-segment 0 &&
        check_json "$tmp/tour-segment.out" "/segment makes sentence chunks" \
            '[c["text"] for c in docs[0]["chunks"]] == ["One", "Two two", "Three"] and all(c["parent_id"] == "p" and c["granularity"] == 1 for c in docs[0]["chunks"])'
    run_call tour-fail "$b/tour.so" --jtype Tour --on /fail --parameters '{"reason": "no thanks"}' \
        --input "$tmp/para.jsonl"
    expect_rc tour-fail 1 && { grep -q 'Tour: no thanks' "$tmp/tour-fail.err" ||
        fail "a handler's fail message should reach the user, prefixed by the executor name"; }
    [[ ! -s $tmp/tour-fail.out ]] || fail "a failed call should write no documents"
    run_call tour-abi "$b/tour.so" --jtype Tour --on /abi --input "$tmp/para.jsonl" \
        --results "$tmp/tour-abi.results"
    expect_rc tour-abi 0 &&
        check_json "$tmp/tour-abi.results" "/abi reports the host's ABI and DF_HOST_HAS" \
            'docs[0]["__results__"]["Tour"]["host_abi_major"] == 1 and docs[0]["__results__"]["Tour"]["has_req_groundtruths"] is True'

    # /save writes into <workspace base>/<name>/.
    run_call tour-save "$b/tour.so" --jtype Tour --name saver --workspace "$tmp/ws" --on /save \
        --input "$tmp/five.jsonl"
    expect_rc tour-save 0 && { [[ $(cat "$tmp/ws/saver/ids-0.txt" 2>/dev/null) == "$(printf 'd%s\n' 1 2 3 4 5)" ]] ||
        fail "/save should write the ids to <workspace>/saver/ids-0.txt"; }

    # The OpenBLAS ranker sorts matches by cosine and keeps top_k.
    echo '{"id": "q", "embedding": [1, 0], "matches": [{"id": "m1", "embedding": [0, 1]}, {"id": "m2", "embedding": [2, 0]}, {"id": "m3", "embedding": [1, 1]}]}' >"$tmp/query.jsonl"
    run_call ranker "$b/cosine_ranker.so" --jtype CosineRanker --with top_k=2 --on /search \
        --input "$tmp/query.jsonl"
    expect_rc ranker 0 &&
        check_json "$tmp/ranker.out" "CosineRanker keeps the top_k matches by cosine" \
            '[m["id"] for m in docs[0]["matches"]] == ["m2", "m3"] and abs(docs[0]["matches"][1]["scores"]["cosine"]["value"] - 0.7071) < 1e-3'

    # The rebinding example of the doc, with the tagger: /search filters now,
    # /filter falls to the default handler (counts only).
    ex=$tmp/my-executor
    cp -r "$DF_SOURCE_DIR/examples/my-executor" "$ex"
    rm -rf "$ex/build"
    mkdir -p "$ex/build"
    "$CC" "${cflags[@]}" "${plugin_flags[@]}" -o "$ex/build/my_executor.so" "$ex/my_executor.c"
    cp "$snip/tagger-rebind.yml" "$ex/rebind.yml"
    run_call rebind-search "$ex/rebind.yml" --on /search --input "$ex/sample.jsonl"
    expect_rc rebind-search 0 &&
        check_json "$tmp/rebind-search.out" "requests: {/search: keep_matching} makes /search filter" \
            '[d["id"] for d in docs] == ["d1", "d2", "d4"]'
    run_call rebind-filter "$ex/rebind.yml" --on /filter --input "$ex/sample.jsonl" \
        --results "$tmp/rebind-filter.results"
    expect_rc rebind-filter 0 &&
        check_json "$tmp/rebind-filter.out" "a rebound method loses its compiled endpoint" \
            'len(docs) == 4' &&
        check_json "$tmp/rebind-filter.results" "/filter now reaches the default handler" \
            'docs[0]["__results__"]["tagger"]["tagged"] == 3'
fi

# ---- 5. every identifier of the ABI is documented -------------------------------------
{
    grep -oE '\b(df|DF)_[A-Za-z0-9_]*[A-Za-z0-9]\b' "$header"
    echo DF_PLUGIN_ENTRY_NAME
} | sort -u | while read -r id; do
    grep -qw -- "$id" "$doc" || echo "$id"
done >"$tmp/undocumented"
# df_host entries: named in code form (`entry`, host->entry, entry(...)).
sed -n '/^struct df_host {/,/^};/p' "$header" | grep -oE '\(\*[a-z0-9_]+\)' | tr -d '(*)' |
    while read -r entry; do
        grep -qE "[\`>]${entry}[\`(]" "$doc" || echo "df_host.$entry"
    done >>"$tmp/undocumented"
if [[ -s $tmp/undocumented ]]; then
    fail "executor.h names that docs/writing-an-executor.md does not explain: $(tr '\n' ' ' <"$tmp/undocumented")"
fi

# ---- 6. every #anchor link of the doc names a heading (GitHub's slugs) -------------------
if ! python3 - "$doc" >"$tmp/anchors" 2>&1 <<'EOF'; then
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
         for h in re.findall(r"^#+ (.*)$", prose, flags=re.M)}
bad = sorted(set(re.findall(r"\]\(#([^)]+)\)", text)) - slugs)
print(" ".join("#" + b for b in bad))
sys.exit(1 if bad else 0)
EOF
    fail "links to headings that do not exist: $(cat "$tmp/anchors")"
fi

if ((failures)); then
    echo "test_docs_examples: $failures failure(s)" >&2
    exit 1
fi
echo "test_docs_examples: ok ($n_files verbatim files, $n_c C snippets)"
