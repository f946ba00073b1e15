#!/usr/bin/env bash
# test_post_flow.sh -- `docflow-host post --flow` end to end on the real
# binary and the flow test executors (tests/plugins/flow_probe.c): output in
# input order under concurrency, --request-size, --parameters,
# --target-executor, --results, --context, formats, a failing request, and
# every user error with its exit code (bad input: nothing is sent).
source "$(dirname "$0")/lib.sh"
PROBE_SO="$DF_BINARY_DIR/tests/plugins/flow_probe.so"
CALLS="$TMP/calls.log"

# a: 3 replicas with random sleeps, so requests complete out of order;
# b: fails requests carrying tags.bad; `when` with a regex (compiled
# filters are freed on exit: the sanitizer build checks).
cat >"$TMP/flow.yml" <<YML
jtype: Flow
with: {prefetch: 16}
executors:
  - name: a
    uses: {jtype: Probe, metas: {library: $PROBE_SO}, with: {jitter_ms: 6, call_log: $CALLS}}
    uses_with: {label: "\${{ ENV.DF_TEST_POST_LABEL }}"}
    replicas: 3
  - name: b
    uses: {jtype: Probe, metas: {library: $PROBE_SO}, with: {fail_on: bad, label: "\${{ LABEL }}"}}
    when: {text: {\$regex: '^doc'}}
YML

python3 - "$TMP/docs.jsonl" "$TMP/bad_doc.jsonl" <<'PY'
import json, sys
docs = [{"id": f"d{i}", "text": f"doc {i}", "tags": {"i": i}} for i in range(57)]
with open(sys.argv[1], "w") as f:
    f.writelines(json.dumps(d) + "\n" for d in docs)
docs[23]["tags"]["bad"] = True
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(d) + "\n" for d in docs)
PY

export DF_TEST_POST_LABEL=from-env
post() { run_host post --flow "$TMP/flow.yml" --on /index --context LABEL=ctx "$@"; }

# --- order: 12 requests of 5, 8 in flight, completing out of order ------------
post --input "$TMP/docs.jsonl" --output "$TMP/out.jsonl" --request-size 5 --concurrency 8
expect_rc "ordered post exit" 0
pycheck "output in input order, through a then b" "$TMP/out.jsonl" '
assert [d["id"] for d in lines] == [f"d{i}" for i in range(57)], [d["id"] for d in lines]
for i, d in enumerate(lines):
    assert d["text"] == f"doc {i}" and d["tags"]["i"] == i, d
    assert d["tags"]["path"] == ["a", "b"], d
    assert d["tags"]["batch"] == (2 if i >= 55 else 5), d
'
check "a called once per request" test "$(wc -l <"$CALLS")" -eq 12
expect_err "summary line" "posted 57 documents in 12 requests to /index: 0 failed"

# --- default request size (100): one request; stdin in, stdout out -----------------
rm -f "$CALLS"
run_host post --flow "$TMP/flow.yml" --on /index --context LABEL=ctx <"$TMP/docs.jsonl"
expect_rc "stdin post exit" 0
pycheck "stdin to stdout" "$TMP/out" 'assert len(lines) == 57 and lines[0]["tags"]["batch"] == 57'
check "default request size is 100" test "$(cat "$CALLS")" = "a 57"

# --- parameters, per executor ------------------------------------------------------
post --input "$TMP/docs.jsonl" --output "$TMP/p.jsonl" \
    --parameters '{"stamp": "everyone", "b": {"stamp": "only-b"}}'
expect_rc "parameters exit" 0
pycheck "parameters.b wins for b" "$TMP/p.jsonl" '
assert all(d["tags"]["stamp"] == "only-b" for d in lines), lines[0]
'
post --input "$TMP/docs.jsonl" --output "$TMP/p2.jsonl" --parameters '{"stamp": "everyone"}'
pycheck "parameters reach every executor" "$TMP/p2.jsonl" '
assert all(d["tags"]["stamp"] == "everyone" for d in lines)
'

# --- target executor -----------------------------------------------------------------
rm -f "$CALLS"
post --input "$TMP/docs.jsonl" --output "$TMP/t.jsonl" --target-executor b --request-size 10
expect_rc "target exit" 0
pycheck "only b ran" "$TMP/t.jsonl" 'assert all(d["tags"]["path"] == ["b"] for d in lines) and len(lines) == 57'
check "a was skipped" test ! -e "$CALLS"

# --- results, and ${{ VAR }} from --context -------------------------------------------
post --input "$TMP/docs.jsonl" --output "$TMP/r.jsonl" --request-size 20 --results "$TMP/results.jsonl"
expect_rc "results exit" 0
pycheck "one __results__ line per request, in order" "$TMP/results.jsonl" '
assert len(lines) == 3, lines
# a has 3 replicas: its entry is keyed by the replica that served ("a/rep-1")
def a_of(l):
    keys = [k for k in l["__results__"] if k.startswith("a/rep-")]
    assert len(keys) == 1, l
    return l["__results__"][keys[0]]
assert [a_of(l)["docs"] for l in lines] == [20, 20, 17], lines
assert all(a_of(l)["label"] == "from-env" for l in lines), lines
assert all(l["__results__"]["b"]["label"] == "ctx" for l in lines), lines
'

# --- a failing request: exit 1, the others are still written, in order -----------------
post --input "$TMP/bad_doc.jsonl" --output "$TMP/f.jsonl" --request-size 5 --concurrency 8
expect_rc "failing request exit" 1
expect_err "failure names request, documents and executor" "request 4 (documents 20..24) failed in b"
expect_err "failure message" "refuses document 3 (tag bad)"
expect_err "summary counts the failure" "1 failed"
pycheck "the other 52 documents written in order" "$TMP/f.jsonl" '
want = [f"d{i}" for i in range(57) if not 20 <= i <= 24]
assert [d["id"] for d in lines] == want, [d["id"] for d in lines]
'

# --- protobuf in and out (`call` on a pass-through endpoint converts) -----------------
run_host call "$PROBE_SO" --jtype Sharder --on /none --input "$TMP/docs.jsonl" \
    --output "$TMP/in.pb" --output-format protobuf
expect_rc "protobuf input made" 0
post --input "$TMP/in.pb" --format protobuf --output "$TMP/out.pb" --request-size 7
expect_rc "protobuf post exit" 0
run_host call "$PROBE_SO" --jtype Sharder --on /none --format protobuf --input "$TMP/out.pb" \
    --output "$TMP/pb.jsonl" --output-format jsonl
expect_rc "protobuf output decodes" 0
pycheck "protobuf round trip through the flow" "$TMP/pb.jsonl" '
assert [d["id"] for d in lines] == [f"d{i}" for i in range(57)]
assert all(d["tags"]["path"] == ["a", "b"] for d in lines)
'

# --- an empty input: nothing to do, success ---------------------------------------------------
: >"$TMP/empty.jsonl"
post --input "$TMP/empty.jsonl" --output "$TMP/e.jsonl"
expect_rc "empty input exit" 0
check "empty output" test ! -s "$TMP/e.jsonl"
expect_err "empty summary" "posted 0 documents in 0 requests"

# --- progress bar when asked -----------------------------------------------------------------
post --input "$TMP/docs.jsonl" --output "$TMP/g.jsonl" --progress --request-size 10
expect_rc "progress exit" 0
expect_err "progress shows a rate" "docs/s"
expect_err "progress shows the count" "57/57 docs"

# --- bad input: exit 2, nothing sent, nothing written ---------------------------------------------
rm -f "$CALLS"
printf '{"id":"x","text":"doc ok"}\n{"text": oops}\n' >"$TMP/malformed.jsonl"
post --input "$TMP/malformed.jsonl" --output "$TMP/never.jsonl"
expect_rc "malformed input exit" 2
expect_err "malformed input names the line" "malformed.jsonl:2"
check "nothing written for bad input" test ! -e "$TMP/never.jsonl"
check "nothing sent for bad input" test ! -e "$CALLS"
echo '{"texte": "typo"}' >"$TMP/unknown.jsonl"
post --input "$TMP/unknown.jsonl" --output "$TMP/never.jsonl"
expect_rc "unknown document key exit" 2
check "nothing sent for an unknown key" test ! -e "$CALLS"
post --input "$TMP/no-such-file.jsonl"
expect_rc "missing input exit" 2

# --- usage errors ----------------------------------------------------------------------------------
run_host post --help
expect_rc "help exit" 0
check "help on stdout" grep -q "usage: docflow-host post --flow FLOW.yml --on ENDPOINT" "$TMP/out"
for opt in --request-size --concurrency --target-executor --parameters --results --context; do
    check "help lists $opt" grep -q -- "$opt" "$TMP/out"
done
run_host post --on /index --input "$TMP/docs.jsonl"
expect_rc "missing --flow exit" 2
expect_err "missing --flow message" "missing --flow"
run_host post --flow "$TMP/flow.yml" --input "$TMP/docs.jsonl"
expect_rc "missing --on exit" 2
run_host post --flow "$TMP/flow.yml" --on index --input "$TMP/docs.jsonl"
expect_rc "endpoint without slash exit" 2
post --input "$TMP/docs.jsonl" --request-size 0
expect_rc "request size 0 exit" 2
expect_err "request size message" "--request-size"
post --input "$TMP/docs.jsonl" --concurrency x
expect_rc "bad concurrency exit" 2
post --input "$TMP/docs.jsonl" --parameters '{"stamp": '
expect_rc "malformed parameters exit" 2
expect_err "malformed parameters named" "--parameters"
post --input "$TMP/docs.jsonl" --parameters '[1, 2]'
expect_rc "parameters not an object exit" 2
post --input "$TMP/docs.jsonl" --no-such-option
expect_rc "unknown option exit" 2
post --input "$TMP/docs.jsonl" --format xml
expect_rc "bad format exit" 2
post --input "$TMP/docs.jsonl" --target-executor '('
expect_rc "bad target regex exit" 2
expect_err "bad target regex named" "--target-executor '('"
check "bad usage sends nothing" test ! -e "$CALLS"

# a flow YAML error: exit 2 with file:line
printf 'jtype: Flow\nexecutors:\n  - {name: a, replicas: 0}\n' >"$TMP/bad_flow.yml"
run_host post --flow "$TMP/bad_flow.yml" --on /index --input "$TMP/docs.jsonl"
expect_rc "bad flow exit" 2
expect_err "bad flow position" "bad_flow.yml:3:"
run_host post --flow "$TMP/missing_flow.yml" --on /index --input "$TMP/docs.jsonl"
expect_rc "missing flow exit" 2
# an unset ${{ ENV.X }}
unset DF_TEST_POST_LABEL
post --input "$TMP/docs.jsonl"
expect_rc "unset environment variable exit" 2
expect_err "unset variable named" "DF_TEST_POST_LABEL"

finish
