#!/usr/bin/env bash
# test_validate_plot.sh -- `docflow-host validate` and `plot` on the flow
# fixtures of tests/data/flows: the summary of a good flow, every bad
# fixture's message (file:line:col) and exit code, warnings, --context, and
# the drawings (DOT and Mermaid structure; SVG when Graphviz is installed).
source "$(dirname "$0")/lib.sh"
FLOWS="$DF_SOURCE_DIR/tests/data/flows"
cd "$FLOWS" || exit 1

# expect_out NAME TEXT: stdout of the last run contains TEXT.
expect_out() {
    if grep -qF -- "$2" "$TMP/out"; then pass; else fail "$1: stdout lacks '$2': $(cat "$TMP/out")"; fi
}

# --- a good flow: "ok" and the graph ------------------------------------------
run_host validate good.yml
expect_rc "good exit" 0
expect_out "good ok line" "ok: good.yml: 4 executors, prefetch 64"
expect_out "inputs of a join" "needs     encoder, filter (join)"
expect_out "uses from a YAML file" "uses      Sentencizer (executors/segmenter.yml)"
expect_out "inline uses" "uses      TextEncoder (inline)"
expect_out "replicas" "scale     2 replicas x 1 shard"
expect_out "shards and polling" "scale     1 replica x 2 shards, polling ANY, /index: ANY, /search: ALL"
expect_out "uses_after" "after     MatchMerger (built-in or installed jtype)"
expect_out "when" 'when      {"tags__lang":{"$eq":"en"}}'
expect_out "dynamic batching" "batching  /index: up to 64 documents or 10 ms"
check "no warnings for the good flow" test ! -s "$TMP/err"

run_host validate reorder.yml
expect_rc "reorder exit" 0
if [ "$(grep -E '^  [a-z]$' "$TMP/out" | tr -d ' \n')" = "abcd" ]; then pass; else fail "topological order: $(cat "$TMP/out")"; fi

# --- every bad fixture: its message, exit 2 ----------------------------------------
while IFS='|' read -r file message; do
    [ -n "$file" ] || continue
    run_host validate "$file"
    expect_rc "$file exit" 2
    expect_err "$file message" "$message"
    expect_err "$file count" "docflow-host validate: "
done <<'EOF'
bad_unknown_needs.yml|bad_unknown_needs.yml:7:12: needs: no executor named 'encodr' (known: gateway, encoder, indexer); did you mean 'encoder'?
bad_cycle.yml|bad_cycle.yml:5:12: needs: cycle a -> b -> c -> a ('a' needs 'c', which comes after it
bad_self_cycle.yml|bad_self_cycle.yml:5:22: needs: 'a' needs itself
bad_duplicate_name.yml|bad_duplicate_name.yml:5:11: executor name 'encoder' is used twice (also at bad_duplicate_name.yml:3:11)
bad_replicas.yml|bad_replicas.yml:5:15: replicas must be an integer >= 1, got "two"
bad_shards.yml|bad_shards.yml:5:13: shards must be an integer >= 1, got 0
bad_polling.yml|bad_polling.yml:6:37: polling['/search'] must be ANY (one shard answers) or ALL
bad_unreachable_join.yml|bad_unreachable_join.yml:10:16: join 'join' waits for every one of its needs, but 'island' never delivers
bad_jtype.yml|bad_jtype.yml:1:8: 'jtype: Deployment' is not a flow
bad_missing_uses_file.yml|bad_missing_uses_file.yml:4:11: uses: executor YAML 'executors/nowhere.yml' not found
bad_missing_plugin.yml|bad_missing_plugin.yml:4:11: uses: plugin 'no-such-plugin.so' not found
bad_hub.yml|bad_hub.yml:4:11: uses: hub://jina/TextEncoder:1.0: bad identifier 'jina/TextEncoder:1.0': the name 'TextEncoder' must be lowercase
bad_when.yml|bad_when.yml:5:11: when.tags__lang: unknown operator '$equals'
bad_executor_yaml.yml|executors/no_jtype.yml:2:1: missing 'jtype'
bad_name.yml|bad_name.yml:5:11: name "../escape" may only use letters, digits
bad_dynamic_batching.yml|bad_dynamic_batching.yml:7:16: uses_dynamic_batching['/search'] needs preferred_batch_size
bad_types.yml|bad_types.yml:18:5: external: true needs host: and port:
EOF

# every error at once, in file order, and the count
run_host validate bad_types.yml
expect_err "error count" "docflow-host validate: 11 errors in bad_types.yml"
if [ "$(grep -c '^bad_types.yml:' "$TMP/err")" -eq 11 ]; then pass; else fail "11 error lines: $(cat "$TMP/err")"; fi
if grep '^bad_types.yml:' "$TMP/err" | cut -d: -f2 | sort -n -c 2>/dev/null; then pass; else fail "errors not in line order"; fi

# a flow run from another folder resolves executors/ relative to itself
(cd / && "$HOST" validate "$FLOWS/good.yml" >"$TMP/out" 2>"$TMP/err")
RC=$?
expect_rc "validate from another folder" 0

# --- warnings: on stderr, still ok ----------------------------------------------------
run_host validate warnings.yml
expect_rc "warnings exit" 0
expect_out "warnings ok" "ok: warnings.yml: 1 executor"
expect_err "pods warning" "warning: warnings.yml:11:1: 'pods' is Jina 1.x's name for 'executors': rename it"
expect_err "unknown with key" "warning: warnings.yml:10:3: unknown key 'prefetchh' in with: (known: protocol"
expect_err "parallel warning" "warning: warnings.yml:14:5: 'parallel' is Jina 1.x's name for 'shards'"

# --- ${{ ENV.X }} and --context ------------------------------------------------------------
unset DF_FLOW_TEST_PORT
run_host validate env_context.yml --context replicas=3 --context model=small
expect_rc "unset env var exit" 2
expect_err "unset env var named" "env_context.yml:4:9: environment variable DF_FLOW_TEST_PORT is not set"
export DF_FLOW_TEST_PORT=8080 DF_FLOW_TEST_WORKDIR=/srv/work
run_host validate env_context.yml --context replicas=3 --context model=small
expect_rc "env and context exit" 0
expect_out "context number" "scale     3 replicas x 1 shard"
run_host validate env_context.yml --context replicas=two
expect_rc "context bad value exit" 2
expect_err "context bad value" 'env_context.yml:8:15: replicas must be an integer >= 1, got "two"'

# --- usage --------------------------------------------------------------------------------
run_host validate
expect_rc "validate without a file" 2
run_host validate good.yml --context novalue
expect_rc "bad --context" 2
expect_err "bad --context message" "expected KEY=VALUE"
run_host validate no-such-flow.yml
expect_rc "missing flow file" 2
expect_err "missing flow file named" "no-such-flow.yml"
run_host validate --help
expect_rc "validate help" 0

# --- plot: DOT ----------------------------------------------------------------------------------
run_host plot good.yml
expect_rc "plot dot exit" 0
expect_out "digraph" "digraph flow {"
for edge in '"gateway/start" -> "segmenter"' '"segmenter" -> "encoder"' \
    '"encoder" -> "indexer/uses_before"' '"filter" -> "indexer/uses_before"' \
    '"indexer/uses_before" -> "indexer"' '"indexer" -> "indexer/uses_after"' \
    '"indexer/uses_after" -> "gateway/end"'; do
    expect_out "dot edge $edge" "$edge;"
done
expect_out "when as an edge label" '"segmenter" -> "filter" [label="when {\"tags__lang\":{\"$eq\":\"en\"}}"];'
expect_out "replicas annotated" '"encoder" [label="encoder\nTextEncoder\nreplicas: 2"];'
expect_out "shards annotated" 'shards: 2\npolling: ANY, /index: ANY, /search: ALL"'
expect_out "uses_after box" '"indexer/uses_after" [label="uses_after\nMatchMerger"];'
expect_out "group around a sharded executor" 'subgraph "cluster_indexer" {'
if [ "$(grep -c -- ' -> ' "$TMP/out")" -eq 8 ]; then pass; else fail "dot: 8 edges expected: $(cat "$TMP/out")"; fi
if [ "$(tail -n1 "$TMP/out")" = "}" ]; then pass; else fail "dot ends with }"; fi

run_host plot good.yml -o "$TMP/flow.dot"
expect_rc "plot -o exit" 0
check "plot -o writes the file" grep -q 'digraph flow' "$TMP/flow.dot"

# --- plot: Mermaid ---------------------------------------------------------------------------------
run_host plot good.yml --format mermaid
expect_rc "plot mermaid exit" 0
expect_out "mermaid header" "flowchart LR"
for line in 'gateway_start(["gateway"])' 'n0["segmenter<br/>Sentencizer"]' \
    'n1["encoder<br/>TextEncoder<br/>replicas: 2"]' 'subgraph g3 ["indexer"]' \
    'gateway_start --> n0' 'n0 --> n1' 'n1 --> n3_before' 'n2 --> n3_before' \
    'n3_before --> n3' 'n3 --> n3_after' 'n3_after --> gateway_end' \
    'n0 -->|"when {#quot;tags__lang#quot;:{#quot;$eq#quot;:#quot;en#quot;}}"| n2'; do
    expect_out "mermaid $line" "$line"
done
run_host plot good.yml -o "$TMP/flow.mmd"
check "the .mmd extension picks mermaid" grep -q '^flowchart LR' "$TMP/flow.mmd"

run_host plot sequential.yml --format mermaid
expect_out "auto-named chain" "n1 --> n2"
run_host plot reorder.yml
expect_out "a join with the gateway" '"gateway/start" -> "d";'
expect_out "join input" '"c" -> "d";'

# --- plot: errors -------------------------------------------------------------------------------------
run_host plot bad_cycle.yml
expect_rc "plot of a bad flow" 2
expect_err "plot prints the errors" "bad_cycle.yml:5:12: needs: cycle"
run_host plot good.yml --format jpeg
expect_rc "plot bad format" 2

# --- plot: the pipe to Graphviz, with a stand-in `dot` ----------------------------------------------------
mkdir -p "$TMP/fakedot"
cat >"$TMP/fakedot/dot" <<'SH'
#!/bin/sh
# Stands in for Graphviz: the DOT text must arrive on stdin; writes
# "<FORMAT>" and the text where -o says (stdout without -o).
out=; fmt=
while [ $# -gt 0 ]; do
    case $1 in -o) out=$2; shift ;; -T*) fmt=${1#-T} ;; esac
    shift
done
input=$(cat)
case $input in "digraph flow {"*) ;; *) exit 3 ;; esac
if [ -n "$out" ]; then printf '<%s>\n%s\n' "$fmt" "$input" >"$out"; else printf '<%s>\n' "$fmt"; fi
SH
chmod +x "$TMP/fakedot/dot"
PATH="$TMP/fakedot:$PATH" "$HOST" plot good.yml -o "$TMP/fake.svg" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "plot through dot exit" 0
check "dot got -Tsvg and the graph" grep -qx '<svg>' "$TMP/fake.svg"
check "dot got the whole graph" grep -q '"indexer/uses_after" -> "gateway/end";' "$TMP/fake.svg"
PATH="$TMP/fakedot:$PATH" "$HOST" plot good.yml --format png >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "png to stdout exit" 0
expect_out "png to stdout" "<png>"
printf '#!/bin/sh\ncat >/dev/null; exit 4\n' >"$TMP/fakedot/dot"
PATH="$TMP/fakedot:$PATH" "$HOST" plot good.yml -o "$TMP/fail.svg" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "dot failing exit" 1
expect_err "dot failing message" "Graphviz's dot failed (exit status 4)"

# --- plot: SVG through Graphviz -------------------------------------------------------------------------
if command -v dot >/dev/null 2>&1; then
    run_host plot good.yml -o "$TMP/flow.svg"
    expect_rc "plot svg exit" 0
    check "svg written" grep -q '<svg' "$TMP/flow.svg"
    check "svg names the executors" grep -q 'indexer' "$TMP/flow.svg"
    mkdir -p "$TMP/nodot"
    PATH="$TMP/nodot" "$HOST" plot good.yml -o "$TMP/x.png" >"$TMP/out" 2>"$TMP/err"
    RC=$?
else
    echo "skip: Graphviz's dot is not installed, no SVG rendered"
    run_host plot good.yml -o "$TMP/x.svg"
fi
expect_rc "svg/png without dot exit" 1
expect_err "svg/png without dot message" "Graphviz's dot is not installed (apt-get install graphviz); use --format dot"

finish
