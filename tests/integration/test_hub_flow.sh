#!/usr/bin/env bash
# test_hub_flow.sh -- `uses: hub://namespace/name[:version]` in flows, end to
# end: docflow-host runs `docflow-hub resolve` (host/hub_resolver.c), which
# finds the package in the local store or pulls it from a registry.
#
#  1. `docflow-hub resolve`: help, usage, the printed config.yml path;
#  2. the local store: examples/my-executor (KeywordTagger) packaged with
#     docflow-hub build/push into DOCFLOW_HOME=$TMP/..., then a flow with
#     `uses: hub://alice/keyword-tagger:0.1` and uses_with through
#     `docflow-host post --flow` and `validate`;
#  3. errors, exit status 2 and the URI in the message: with.hub_pull never
#     and an empty store, no registry to pull from, a bad policy, a version
#     the store does not have, docflow-hub missing;
#  4. a real registry (Debian's docker-registry, tests/integration/registry.sh):
#     a fresh DOCFLOW_HOME pulls the package when missing (DOCFLOW_REGISTRY,
#     then docflow-host --registry), never does not ask the registry,
#     missing keeps a stored version, always takes the registry's newest,
#     DOCFLOW_HUB_PULL overrides the flow.
#
# Run by ctest with DF_SOURCE_DIR, DF_BINARY_DIR set.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/registry.sh"
HUB="$DF_BINARY_DIR/hub/docflow-hub"
unset DOCFLOW_REGISTRY DOCFLOW_HUB_PULL DOCFLOW_PLUGIN_PATH CMAKE_PREFIX_PATH SOURCE_DATE_EPOCH
CC=${CC:-cc}

run_hub() {
    "$HUB" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
expect_out() {
    if grep -qF -- "$2" "$TMP/out"; then pass; else fail "$1: stdout lacks '$2': $(cat "$TMP/out") / $(cat "$TMP/err")"; fi
}
# listed NAME TEXT: `docflow-hub list` of the current DOCFLOW_HOME shows TEXT.
listed() {
    if "$HUB" list 2>&1 | grep -qF -- "$2"; then pass; else fail "$1: list lacks '$2': $("$HUB" list 2>&1)"; fi
}
not_listed() {
    if "$HUB" list 2>&1 | grep -qF -- "$2"; then fail "$1: list has '$2'"; else pass; fi
}

# ---- the package: examples/my-executor, its .so built here -------------------------------
# mkpkg DIR VERSION: KeywordTagger as a package folder (no CMakeLists.txt:
# the library is compiled here, so no installed docflow is needed).
mkpkg() {
    local dir=$1 version=$2
    mkdir -p "$dir/lib"
    "$CC" -std=c11 -O1 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared -Wl,-z,now \
        -I"$DF_SOURCE_DIR/plugin-api/include" -o "$dir/lib/my_executor.so" \
        "$DF_SOURCE_DIR/examples/my-executor/my_executor.c" || return 1
    sed 's#library: build/my_executor.so#library: lib/my_executor.so#' \
        "$DF_SOURCE_DIR/examples/my-executor/config.yml" >"$dir/config.yml"
    cp "$DF_SOURCE_DIR/examples/my-executor/README.md" "$dir/README.md"
    printf 'namespace: alice\nname: keyword-tagger\nversion: %s\ndescription: Tags documents whose text contains a keyword\nlicense: Apache-2.0\n' \
        "$version" >"$dir/manifest.yml"
}
mkpkg "$TMP/pkg" 0.1.0 || { fail "cannot build examples/my-executor"; finish; exit 1; }
mkpkg "$TMP/pkg2" 0.1.1 || { fail "cannot build examples/my-executor"; finish; exit 1; }
DOCS="$DF_SOURCE_DIR/examples/my-executor/sample.jsonl"

# flow FILE [WITH]: the flow under test; uses_with replaces the keywords and the tag.
flow() {
    cat >"$1" <<YML
jtype: Flow
${2:+with: $2}
executors:
  - name: tagger
    uses: hub://alice/keyword-tagger:0.1
    uses_with: {keywords: [park, lunch], tag: found}
YML
}
flow "$TMP/flow.yml"
flow "$TMP/never.yml" "{hub_pull: never}"
flow "$TMP/always.yml" "{hub_pull: always}"
flow "$TMP/bad-policy.yml" "{hub_pull: sometimes}"
flow "$TMP/bool-false.yml" "{hub_pull: false}"

post() {
    rm -f "$TMP/post.jsonl"
    run_host post --flow "$@" --on /index --input "$DOCS" --output "$TMP/post.jsonl"
}
# tagged NAME: the last post tagged d2 and d3 (uses_with applied), not d1/d4.
tagged() {
    pycheck "$1" "$TMP/post.jsonl" '
by = {d["id"]: d for d in lines}
assert [d["id"] for d in lines] == ["d1", "d2", "d3", "d4"], lines
assert by["d2"]["tags"]["found"] == ["lunch"], by["d2"]
assert by["d3"]["tags"]["found"] == ["park"], by["d3"]
assert "found" not in by["d1"].get("tags", {}) and "keywords" not in by["d1"].get("tags", {}), by["d1"]
'
}

# ---- 1. docflow-hub resolve ------------------------------------------------------------------
export DOCFLOW_HOME=$TMP/home
run_hub resolve --help
expect_rc "resolve --help" 0
expect_out "resolve --help" "usage: docflow-hub resolve"
run_hub --help
expect_out "help lists resolve" "resolve hub://"
run_hub resolve
expect_rc "resolve without URI" 2
expect_err "resolve without URI" "missing argument"
run_hub resolve hub://alice/keyword-tagger --policy
expect_rc "resolve --policy without value" 2
run_hub resolve hub://Alice/x
expect_rc "resolve bad identifier" 2
expect_err "resolve bad identifier" "must be lowercase"

# ---- 2. the local store ----------------------------------------------------------------------
run_hub push "$TMP/pkg" alice/keyword-tagger:0.1.0
expect_rc "push to the local store" 0
run_hub resolve hub://alice/keyword-tagger:0.1
expect_rc "resolve" 0
CONFIG="$DOCFLOW_HOME/executors/alice/keyword-tagger/0.1.0/config.yml"
check "resolve prints the unpacked config.yml" test "$(cat "$TMP/out")" = "$CONFIG"
check "the config is there" test -f "$CONFIG"
run_hub resolve alice/keyword-tagger --policy never
expect_rc "resolve without hub:// and version" 0
expect_out "resolve without hub://" "$CONFIG"

post "$TMP/flow.yml"
expect_rc "post through hub://" 0
tagged "hub:// executor ran with uses_with"
post "$TMP/never.yml"
expect_rc "post with hub_pull never (stored)" 0
tagged "hub_pull never uses the stored version"
run_host validate "$TMP/flow.yml"
expect_rc "validate a hub:// flow" 0
run_host validate "$TMP/bad-policy.yml"
expect_rc "bad policy" 2
expect_err "bad policy named" "hub_pull: 'sometimes' is not a policy; use missing (default), always or never"
expect_err "error names the flow and the URI" "bad-policy.yml:"
expect_err "error names the URI once" "uses: hub://alice/keyword-tagger:0.1: hub_pull"
sed 's#keyword-tagger:0.1#keyword-tagger:2#' "$TMP/flow.yml" >"$TMP/v2.yml"
run_host post --flow "$TMP/v2.yml" --on /index --input "$DOCS"
expect_rc "a version the store lacks" 2
expect_err "a version the store lacks" "no version of alice/keyword-tagger in the local store matches '2' (stored: 0.1.0)"
# docflow-host stays free of the hub: it runs the docflow-hub command.
if nm -D --defined-only "$HOST" 2>/dev/null | grep -q hub_resolve_uses ||
    ldd "$HOST" 2>/dev/null | grep -q docflow_hub; then
    fail "docflow-host links the hub"
else
    pass
fi

# ---- 3. errors --------------------------------------------------------------------------------
export DOCFLOW_HOME=$TMP/empty
post "$TMP/never.yml"
expect_rc "never with an empty store" 2
expect_err "never: the URI" "uses: hub://alice/keyword-tagger:0.1: alice/keyword-tagger is not in the local store"
expect_err "never: why no registry" "hub_pull is never: no registry is asked"
post "$TMP/bool-false.yml"
expect_rc "hub_pull: false is never" 2
expect_err "hub_pull: false is never" "hub_pull is never"
post "$TMP/flow.yml"
expect_rc "missing without a registry" 2
expect_err "missing without a registry" "uses: hub://alice/keyword-tagger:0.1: no registry to pull from (set --registry or DOCFLOW_REGISTRY)"
check "nothing printed" test ! -s "$TMP/post.jsonl"
# docflow-hub neither next to docflow-host nor on PATH
mkdir -p "$TMP/alone"
cp "$HOST" "$TMP/alone/docflow-host"
PATH=/usr/bin:/bin "$TMP/alone/docflow-host" validate "$TMP/flow.yml" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "no docflow-hub" 2
expect_err "no docflow-hub" "hub:// executors need docflow-hub, which is neither next to docflow-host nor on PATH"
# ... but on PATH is enough
PATH="$DF_BINARY_DIR/hub:/usr/bin:/bin" DOCFLOW_HOME=$TMP/home "$TMP/alone/docflow-host" \
    validate "$TMP/flow.yml" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_rc "docflow-hub from PATH" 0

# ---- 4. a real registry -----------------------------------------------------------------------
if ! registry_start; then
    fail "docker-registry did not start"
    finish
    exit 1
fi
export DOCFLOW_HOME=$TMP/home
run_hub push "$TMP/pkg" alice/keyword-tagger:0.1.0 --registry "$REG_URL"
expect_rc "push to the registry" 0

export DOCFLOW_HOME=$TMP/fresh1
DOCFLOW_REGISTRY=$REG_URL post "$TMP/never.yml"
expect_rc "never does not ask DOCFLOW_REGISTRY" 2
expect_err "never does not ask the registry" "hub_pull is never"
check "never left the store empty" test ! -d "$DOCFLOW_HOME/executors/alice"
DOCFLOW_REGISTRY=$REG_URL post "$TMP/flow.yml"
expect_rc "pulled from DOCFLOW_REGISTRY when missing" 0
tagged "the pulled package ran"
listed "the pulled version is stored" "0.1.0"
check "and unpacked" test -f "$DOCFLOW_HOME/executors/alice/keyword-tagger/0.1.0/config.yml"
post "$TMP/never.yml"
expect_rc "then never finds it locally" 0

export DOCFLOW_HOME=$TMP/fresh2
post "$TMP/flow.yml" --registry "$REG_URL"
expect_rc "pulled with docflow-host --registry" 0
tagged "docflow-host --registry"
run_host post --flow "$TMP/flow.yml" --registry=http://127.0.0.1:1 --on /index --input "$DOCS"
expect_rc "stored: missing does not ask a dead registry" 0

# 0.1.1 only in the registry: missing keeps 0.1.0, always takes 0.1.1
export DOCFLOW_HOME=$TMP/home
run_hub push "$TMP/pkg2" alice/keyword-tagger:0.1.1 --registry "$REG_URL"
expect_rc "push 0.1.1 to the registry" 0
DOCFLOW_REGISTRY=$REG_URL post "$TMP/flow.yml"
expect_rc "missing with 0.1.0 stored" 0
not_listed "missing did not pull 0.1.1" "0.1.1"
DOCFLOW_REGISTRY=$REG_URL DOCFLOW_HUB_PULL=never post "$TMP/always.yml"
expect_rc "DOCFLOW_HUB_PULL=never overrides always" 0
not_listed "DOCFLOW_HUB_PULL=never did not pull" "0.1.1"
DOCFLOW_REGISTRY=$REG_URL post "$TMP/always.yml"
expect_rc "always" 0
tagged "always: the registry's newest ran"
listed "always pulled 0.1.1" "0.1.1"
check "always unpacked 0.1.1" test -f "$DOCFLOW_HOME/executors/alice/keyword-tagger/0.1.1/config.yml"
post "$TMP/always.yml"
expect_rc "always without a registry" 2
expect_err "always without a registry" "hub_pull: always needs a registry: set --registry or DOCFLOW_REGISTRY"
registry_stop
DOCFLOW_REGISTRY=$REG_URL post "$TMP/always.yml"
expect_rc "always with the registry down" 2
expect_err "always with the registry down names the URI" "uses: hub://alice/keyword-tagger:0.1: "

finish
