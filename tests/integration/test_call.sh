#!/usr/bin/env bash
# test_call.sh -- `docflow-host call` end to end on the real binary and the
# built-in plugins: outputs, results, binding rules, batch policies, formats,
# and every user error with its exit code and message.
source "$(dirname "$0")/lib.sh"
ECHO_CFG="$DF_SOURCE_DIR/plugins/echo/config.yml"
ECHO_SO="$DF_BINARY_DIR/lib/docflow/plugins/echo.so"
[ -f "$ECHO_SO" ] || ECHO_SO=$(ls "$DF_BINARY_DIR"/lib*/docflow/plugins/echo.so | head -n1)
INPUT="$DF_SOURCE_DIR/examples/hello/docs.jsonl"

# --- the happy path: /index with a --with override -------------------------
run_host call "$ECHO_CFG" --on /index --input "$INPUT" --with 'prefix=>> '
expect_rc "index exit" 0
pycheck "index output" "$TMP/out" '
assert len(lines) == 4, lines
for d in lines:
    assert d["text"].startswith(">> "), d
    assert d["tags"]["echoed"] is True and d["tags"]["endpoint"] == "/index", d
    assert len(d["embedding"]) == 8, d
assert lines[2]["id"] == "doc-with-tags" and lines[2]["tags"]["lang"] == "en"
assert lines[2]["tags"]["rank"] == 3
assert "文档" in lines[3]["text"] and "🚀" in lines[3]["text"]
'
expect_err "results on stderr" '{"__results__":{"echo":{"indexed":4}}}'

# --- results to a file, one line per request --------------------------------
run_host call "$ECHO_CFG" --on /index --input "$INPUT" --request-size 3 --results "$TMP/results.jsonl"
expect_rc "results file exit" 0
pycheck "results per request" "$TMP/results.jsonl" '
assert [l["__results__"]["echo"]["indexed"] for l in lines] == [3, 1], lines
'

# --- parameters and matches/chunks -----------------------------------------
run_host call "$ECHO_CFG" --on /search --input "$INPUT" --parameters '{"limit": 2}'
expect_rc "search exit" 0
pycheck "search matches and chunks" "$TMP/out" '
for d in lines:
    assert len(d["matches"]) == 2, d
    assert d["matches"][0]["scores"]["echo"]["value"] == 1.0
    assert d["matches"][1]["scores"]["echo"]["value"] == 0.5
    assert d["matches"][0]["parent_id"] == d["id"]
    assert len(d["chunks"]) == 1 and d["chunks"][0]["granularity"] == 1
assert lines[0]["chunks"][0]["text"] == "Jina"
'
# parameters.<executor name> is merged over the top level, as in Jina
run_host call "$ECHO_CFG" --on /search --input "$INPUT" --parameters '{"limit": 1, "echo": {"limit": 3}}'
pycheck "executor-specific parameters win" "$TMP/out" 'assert all(len(d["matches"]) == 3 for d in lines)'

# --- binding rules: default handler, pass-through ----------------------------
run_host call "$ECHO_CFG" --on /blah --input "$INPUT"
expect_rc "default handler exit" 0
pycheck "default handler tags" "$TMP/out" 'assert all(d["tags"]["handled_by"] == "default" for d in lines)'
run_host call "$ECHO_SO" --jtype EchoPairs --on /other --input "$INPUT"
expect_rc "pass-through exit" 0
pycheck "pass-through leaves documents alone" "$TMP/out" "
src = [json.loads(l) for l in open('$INPUT', encoding='utf-8')]
assert [d['text'] for d in lines] == [d['text'] for d in src], lines
assert all('batch_len' not in d.get('tags', {}) for d in lines)
"
expect_err "pass-through is logged" "passed through unchanged"

# --- batch policies: @single and batches of 2 (and metas.batch_size) -----------
run_host call "$ECHO_CFG" --on /single --input "$INPUT"
pycheck "single sees one document per call" "$TMP/out" 'assert [d["tags"]["batch_len"] for d in lines] == [1, 1, 1, 1]'
run_host call "$ECHO_SO" --jtype EchoPairs --on /pairs --input "$INPUT"
pycheck "batches of two" "$TMP/out" 'assert [d["tags"]["batch_len"] for d in lines] == [2, 2, 2, 2]'
printf '{"text":"x"}\n%.0s' 1 2 3 4 5 >"$TMP/five.jsonl"
run_host call "$ECHO_SO" --jtype EchoPairs --on /pairs --input "$TMP/five.jsonl"
pycheck "last batch is smaller" "$TMP/out" 'assert [d["tags"]["batch_len"] for d in lines] == [2, 2, 2, 2, 1]'
cat >"$TMP/pairs3.yml" <<YML
jtype: EchoPairs
metas: {library: $ECHO_SO, batch_size: 3}
YML
run_host call "$TMP/pairs3.yml" --on /pairs --input "$TMP/five.jsonl"
pycheck "metas.batch_size overrides N" "$TMP/out" 'assert [d["tags"]["batch_len"] for d in lines] == [3, 3, 3, 2, 2]'

# --- replacement return -----------------------------------------------------
run_host call "$ECHO_CFG" --on /replace --input "$INPUT" --request-size 0
pycheck "replace returns the new documents" "$TMP/out" 'assert len(lines) == 1 and lines[0]["tags"]["count"] == 4'

# --- one .so, several executors: jtype selects -------------------------------
cat >"$TMP/lower.yml" <<YML
jtype: LowerCase
metas: {library: text_case.so}
YML
echo '{"text":"MiXeD Case"}' >"$TMP/one.jsonl"
run_host call "$TMP/lower.yml" --on /any --input "$TMP/one.jsonl"
pycheck "LowerCase picked from text_case.so" "$TMP/out" 'assert lines[0]["text"] == "mixed case", lines'
run_host call "$DF_SOURCE_DIR/plugins/text-case/config.yml" --on /any --input "$TMP/one.jsonl"
pycheck "UpperCase from the same .so" "$TMP/out" 'assert lines[0]["text"] == "MIXED CASE", lines'
# jtype found by searching the plugin folder when metas.library is absent
echo 'jtype: SwapCase' >"$TMP/swap.yml"
run_host call "$TMP/swap.yml" --on /any --input "$TMP/one.jsonl"
pycheck "jtype found without metas.library" "$TMP/out" 'assert lines[0]["text"] == "mIxEd cASE", lines'

# --- formats: protobuf out, protobuf in ----------------------------------------
run_host call "$ECHO_CFG" --on /index --input "$INPUT" --output "$TMP/docs.pb" --output-format protobuf
expect_rc "protobuf output exit" 0
run_host call "$ECHO_SO" --jtype EchoPairs --on /none --format protobuf --output-format jsonl --input "$TMP/docs.pb"
expect_rc "protobuf input exit" 0
pycheck "protobuf round trip keeps every field" "$TMP/out" '
assert len(lines) == 4 and all(len(d["embedding"]) == 8 for d in lines)
assert lines[2]["id"] == "doc-with-tags" and lines[2]["tags"]["rank"] == 3
'

# --- output to a device is written in place, never replaced ------------------
mkfifo "$TMP/fifo"
(cat "$TMP/fifo" >"$TMP/from-fifo") &
run_host call "$ECHO_CFG" --on /index --input "$INPUT" --output "$TMP/fifo" --results /dev/null
wait
expect_rc "output to a FIFO exit" 0
check "the FIFO is still a FIFO" test -p "$TMP/fifo"
check "the FIFO's reader got the documents" test "$(wc -l <"$TMP/from-fifo")" -eq 4
check "/dev/null is still a device" test -c /dev/null

# --- errors: bad input stops before anything is written -----------------------
printf '{"text":"ok"}\n{"text": "fine"}\n{"text": oops}\n' >"$TMP/bad.jsonl"
run_host call "$ECHO_CFG" --on /index --input "$TMP/bad.jsonl" --output "$TMP/never.jsonl"
expect_rc "malformed line exit" 2
expect_err "malformed line number" "bad.jsonl:3"
check "nothing written for malformed input" test ! -e "$TMP/never.jsonl"

echo '{"text": 5}' >"$TMP/wrongtype.jsonl"
run_host call "$ECHO_CFG" --on /index --input "$TMP/wrongtype.jsonl"
expect_rc "wrong field type exit" 2
expect_err "wrong field type names the field" "text"

echo '{"texte": "typo"}' >"$TMP/unknown.jsonl"
run_host call "$ECHO_CFG" --on /index --input "$TMP/unknown.jsonl"
expect_rc "unknown document key exit" 2
expect_err "unknown document key named" "texte"

printf '\x0a\x05\x0a\x03ab' >"$TMP/trunc.pb"
run_host call "$ECHO_CFG" --on /index --format protobuf --input "$TMP/trunc.pb"
expect_rc "truncated protobuf exit" 2

# --- errors: the executor fails; earlier output is kept -----------------------
echo "keep me" >"$TMP/existing.jsonl"
run_host call "$ECHO_CFG" --on /fail --input "$INPUT" --output "$TMP/existing.jsonl" --parameters '{"reason": "disk on fire"}'
expect_rc "handler failure exit" 1
expect_err "handler failure message" "echo: disk on fire"
check "failed run leaves output untouched" grep -qx "keep me" "$TMP/existing.jsonl"

run_host call "$ECHO_CFG" --on /search --input "$INPUT" --parameters '{"limit": "many"}'
expect_rc "bad parameter type exit" 1
expect_err "bad parameter named" 'parameters.limit: expected an integer, got "many"'

# --- errors: configuration and usage ------------------------------------------
run_host call "$ECHO_CFG" --on /index --input "$INPUT" --with dim=abc
expect_rc "bad with value exit" 2
expect_err "bad with value named" "with.dim: expected an integer"

run_host call "$ECHO_CFG" --on /index --input "$INPUT" --with dim=-3
expect_rc "init_fail exit" 2
expect_err "init_fail message with executor name" "echo (Echo"
expect_err "init_fail plugin message" "with.dim must be in 0..65536"

cat >"$TMP/missing.yml" <<YML
jtype: Echo
metas: {library: no-such-plugin.so}
YML
run_host call "$TMP/missing.yml" --on /index --input "$INPUT"
expect_rc "missing library exit" 2
expect_err "missing library lists where it looked" "looked in:"
expect_err "missing library names the YAML line" "missing.yml:2"

cat >"$TMP/nojtype.yml" <<YML
jtype: NoSuchExecutor
metas: {library: echo.so}
YML
run_host call "$TMP/nojtype.yml" --on /index --input "$INPUT"
expect_rc "unknown jtype exit" 2
expect_err "unknown jtype lists the plugin's" "it has: Echo, EchoPairs"

run_host call "$ECHO_SO" --on /index --input "$INPUT"
expect_rc ".so without --jtype exit" 2
expect_err ".so without --jtype says what to do" "--jtype"

run_host call "$ECHO_CFG" --input "$INPUT"
expect_rc "missing --on exit" 2
run_host call "$ECHO_CFG" --on index --input "$INPUT"
expect_rc "endpoint without slash exit" 2
run_host call "$ECHO_CFG" --on /index --parameters '[1, 2]' --input "$INPUT"
expect_rc "parameters not an object exit" 2
expect_err "parameters not an object message" "expected a JSON object"
run_host call "$ECHO_CFG" --on /index --input "$TMP/does-not-exist.jsonl"
expect_rc "missing input exit" 2
run_host call --help
expect_rc "help exit" 0
run_host frobnicate
expect_rc "unknown command exit" 2

finish
