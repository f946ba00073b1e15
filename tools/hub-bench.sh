#!/usr/bin/env bash
# hub-bench.sh -- how long docflow-hub takes to move a 20 MB package, beside
# skopeo moving the same OCI artifact between the same places, in one run.
#
#   tools/hub-bench.sh [BUILD_DIR] [--size MB] [--repeat N]
#
#   BUILD_DIR   a docflow build with hub/docflow-hub (default: build); use a
#               Release or RelWithDebInfo build, not a sanitizer one
#   --size MB   the package's random extra file, in MiB (default 20)
#   --repeat N  timed runs of each operation; the median is shown (default 3)
#
# The package: examples/my-executor's library (compiled here with cc),
# config.yml, manifest.yml, README.md and data/random.bin (MB MiB from
# /dev/urandom, so gzip cannot shrink it), built once into a tarball with
# `docflow-hub build`. Then, each operation REPEAT times, every run on a fresh
# destination (an empty store, a freshly started registry, an empty folder)
# so nothing is skipped as already there; only the command itself is timed:
#
#   hub push -> local store     docflow-hub push TARBALL ID            (empty DOCFLOW_HOME)
#   hub pull <- local store     docflow-hub pull ID                    (unpacked folder removed)
#   skopeo copy oci -> oci      skopeo copy oci:STORE:ID oci:NEW:ID    (empty layout)
#   hub push -> registry        docflow-hub push TARBALL ID --registry URL   (new registry)
#   hub pull <- registry        docflow-hub pull ID --registry URL     (empty DOCFLOW_HOME)
#   skopeo copy oci -> registry skopeo copy --dest-tls-verify=false oci:STORE:ID docker://HOST/ID
#   skopeo copy registry -> oci skopeo copy --src-tls-verify=false docker://HOST/ID oci:NEW:ID
#
# docflow-hub's pulls verify every blob and every file and unpack the package
# into $DOCFLOW_HOME/executors; skopeo only copies (and digests) the blobs.
# The registry is Debian's docker-registry on loopback, started with
# tests/integration/registry.sh. Prints a Markdown table (seconds and MB/s,
# MB = 10^6 bytes of the tarball) for docs/benchmarks.md. Not a test: it
# checks nothing about speed, and exits non-zero only when an operation fails.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
BUILD=$SRC/build
SIZE_MB=20
REPEAT=3
while [ $# -gt 0 ]; do
    case $1 in
    --size) SIZE_MB=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "hub-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) BUILD=$(cd "$1" && pwd) || exit 2; shift ;;
    esac
done
HUB=$BUILD/hub/docflow-hub
[ -x "$HUB" ] || { echo "hub-bench.sh: no $HUB (build docflow first, or name the build folder)" >&2; exit 2; }
for tool in skopeo docker-registry curl python3 "${CC:-cc}"; do
    command -v "$tool" >/dev/null || { echo "hub-bench.sh: $tool is needed (tools/install-deps.sh)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hub-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=/dev/null
source "$SRC/tests/integration/registry.sh" # chains its EXIT trap before ours
unset DOCFLOW_REGISTRY DOCFLOW_HUB_PULL SOURCE_DATE_EPOCH
die() { echo "hub-bench.sh: $*" >&2; exit 1; }

# ---- the package ------------------------------------------------------------------------------------
ID=bench/payload:1.0.0
PKG=$TMP/pkg
mkdir -p "$PKG/lib" "$PKG/data"
"${CC:-cc}" -std=c11 -O2 -fPIC -fvisibility=hidden -shared -Wl,-z,now -I"$SRC/plugin-api/include" \
    -o "$PKG/lib/my_executor.so" "$SRC/examples/my-executor/my_executor.c" || die "cannot compile the executor"
sed 's#library: build/my_executor.so#library: lib/my_executor.so#' "$SRC/examples/my-executor/config.yml" >"$PKG/config.yml"
cp "$SRC/examples/my-executor/README.md" "$PKG/README.md"
printf 'namespace: bench\nname: payload\nversion: 1.0.0\ndescription: KeywordTagger with %s MiB of random data\nlicense: Apache-2.0\n' \
    "$SIZE_MB" >"$PKG/manifest.yml"
head -c "${SIZE_MB}M" /dev/urandom >"$PKG/data/random.bin"
"$HUB" build "$PKG" -o "$TMP" >"$TMP/build.out" 2>&1 || die "docflow-hub build failed: $(cat "$TMP/build.out")"
TARBALL=$TMP/bench-payload-1.0.0.tar.gz
[ -f "$TARBALL" ] || die "docflow-hub build wrote no $TARBALL: $(cat "$TMP/build.out")"
BYTES=$(stat -c %s "$TARBALL")
STORE=$TMP/store # the local store every source side reads
DOCFLOW_HOME=$STORE "$HUB" push "$TARBALL" "$ID" >/dev/null 2>&1 || die "push to $STORE failed"
cat >"$TMP/policy.json" <<'JSON'
{"default": [{"type": "insecureAcceptAnything"}]}
JSON
SKOPEO=(skopeo --policy "$TMP/policy.json" copy -q)

# ---- timing ------------------------------------------------------------------------------------------
now() { date +%s.%N; }
# timed NAME SETUP CMD...: REPEAT runs of CMD, each after SETUP (a function,
# not timed); records the median in RESULTS. A failing run stops the bench.
RESULTS=()
timed() {
    local name=$1 setup=$2 i t0 t1
    shift 2
    local times=()
    for ((i = 0; i < REPEAT; i++)); do
        "$setup" || die "$name: setting up failed"
        t0=$(now)
        "$@" >"$TMP/run.out" 2>&1 || die "$name failed: $* : $(cat "$TMP/run.out")"
        t1=$(now)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    RESULTS+=("$name|$median|${times[*]}")
    printf '%-30s median %6.3f s  (runs: %s)\n' "$name" "$median" "${times[*]}" >&2
}

fresh_home() { rm -rf "${TMP:?}/home"; }
no_unpacked() { rm -rf "${STORE:?}/executors"; }
fresh_layout() { rm -rf "${TMP:?}/layout"; }
fresh_registry() { registry_stop; registry_start >/dev/null; }
keep() { :; }

hub_push_local() { DOCFLOW_HOME=$TMP/home "$HUB" push "$TARBALL" "$ID"; }
hub_pull_local() { DOCFLOW_HOME=$STORE "$HUB" pull "$ID"; }
skopeo_local() { "${SKOPEO[@]}" "oci:$STORE/hub:$ID" "oci:$TMP/layout:$ID"; }
hub_push_registry() { DOCFLOW_HOME=$STORE "$HUB" push "$TARBALL" "$ID" --registry "$REG_URL"; }
hub_pull_registry() { DOCFLOW_HOME=$TMP/home "$HUB" pull "$ID" --registry "$REG_URL"; }
skopeo_push() { "${SKOPEO[@]}" --dest-tls-verify=false "oci:$STORE/hub:$ID" "docker://$REG_HOSTPORT/$ID"; }
skopeo_pull() { "${SKOPEO[@]}" --src-tls-verify=false "docker://$REG_HOSTPORT/$ID" "oci:$TMP/layout:$ID"; }

LOAD=$(cut -d' ' -f1 /proc/loadavg)
registry_start >/dev/null || die "docker-registry did not start"
timed "hub push -> local store" fresh_home hub_push_local
timed "hub pull <- local store" no_unpacked hub_pull_local
timed "skopeo copy oci -> oci" fresh_layout skopeo_local
timed "hub push -> registry" fresh_registry hub_push_registry
timed "hub pull <- registry" fresh_home hub_pull_registry
timed "skopeo copy oci -> registry" fresh_registry skopeo_push
timed "skopeo copy registry -> oci" fresh_layout skopeo_pull
# skopeo's pull from a registry that docflow-hub pushed to, and the reverse:
# the artifacts are the same bytes (same manifest digest) either way.
hub_digest=$(DOCFLOW_HOME=$STORE "$HUB" inspect "$ID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
reg_digest=$(skopeo inspect --raw --tls-verify=false "docker://$REG_HOSTPORT/$ID" | python3 -c \
    'import hashlib,sys; print("sha256:" + hashlib.sha256(sys.stdin.buffer.read().rstrip(b"\n")).hexdigest())')
[ "$hub_digest" = "$reg_digest" ] || die "skopeo's copy has manifest $reg_digest, the store's is $hub_digest"
registry_stop

# ---- the report --------------------------------------------------------------------------------------
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "Package: $ID, tarball $BYTES bytes ($MB MB, data/random.bin ${SIZE_MB} MiB); median of $REPEAT runs."
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -sr), $(df -T "$TMP" | awk 'NR == 2 { print $2 }') at ${TMPDIR:-/tmp}, load average $LOAD at the start; $("$HUB" version), $(skopeo --version), docker-registry $(docker-registry --version 2>/dev/null | awk '{ print $3 }')."
echo "Build: $BUILD, C flags: $(sed -n 's/^C_FLAGS = //p' "$BUILD/hub/CMakeFiles/docflow_hub.dir/flags.make" 2>/dev/null || echo unknown)."
echo
echo "| operation | seconds (median) | MB/s | runs (s) |"
echo "|---|---:|---:|---|"
for r in "${RESULTS[@]}"; do
    IFS='|' read -r name median runs <<<"$r"
    rate=$(awk -v b="$BYTES" -v s="$median" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "-" }')
    echo "| $name | $median | $rate | ${runs// /, } |"
done
