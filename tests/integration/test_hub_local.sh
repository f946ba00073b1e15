#!/usr/bin/env bash
# test_hub_local.sh -- docflow-hub end to end on the local store (no
# registry: tests/integration/test_hub_registry.sh covers that).
#
#  1. every command's --help, usage errors, bad identifiers (exit 2, with the
#     grammar in the message);
#  2. build: a package folder (the Echo executor's .so) gives a reproducible
#     tarball (same digest after touching every file), wrong folders are
#     refused with the file and the fix;
#  3. push / list / inspect / pull / rm / install of several versions:
#     version resolution (":1" is the newest 1.x.y, pre-releases only when
#     asked), immutable versions (--force), ID checks, the unpacked package
#     runs in docflow-host;
#  4. hostile tarballs made here at run time (tests/data/hub/make_hostile.py:
#     absolute path, "..", symlink, hard link, devices, FIFO, setuid/setgid,
#     oversize entry, duplicates, unlisted/tampered/missing files, no
#     manifest, newer ABI, other platform): each refused by install, push and
#     inspect with its reason, nothing written outside, nothing left in the
#     store;
#  5. a corrupted blob is detected by pull and inspect;
#  6. kill -9 of a push of a 20 MB package leaves the store consistent;
#  7. concurrent pushes; a progress bar on a terminal, one line otherwise;
#  8. docflow-hub new + build + the generated test.sh + push + pull + run,
#     against an installed docflow (find_package(docflow)).
#
# Run by ctest with DF_SOURCE_DIR, DF_BINARY_DIR, DF_PLUGIN_DIR set.
source "$(dirname "$0")/lib.sh"
: "${DF_PLUGIN_DIR:?run through ctest (DF_PLUGIN_DIR unset)}"
HUB="$DF_BINARY_DIR/hub/docflow-hub"
unset DOCFLOW_REGISTRY DOCFLOW_PLUGIN_PATH CMAKE_PREFIX_PATH SOURCE_DATE_EPOCH
GRAMMAR='[registry/]namespace/name[:version][@sha256:digest]'

run_hub() {
    "$HUB" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
# expect_out NAME TEXT: stdout of the last run contains TEXT.
expect_out() {
    if grep -qF -- "$2" "$TMP/out"; then pass; else fail "$1: stdout lacks '$2': $(cat "$TMP/out") / $(cat "$TMP/err")"; fi
}
# hub_ok NAME ARGS...: the command succeeds.
hub_ok() {
    local name=$1; shift
    run_hub "$@"
    expect_rc "$name" 0
}
# hub_refused NAME CODE TEXT ARGS...: exits CODE with TEXT on stderr.
hub_refused() {
    local name=$1 code=$2 text=$3; shift 3
    run_hub "$@"
    expect_rc "$name" "$code"
    expect_err "$name" "$text"
}
# jcheck NAME PYTHON: runs python with `j` = the JSON on stdout of the last run.
jcheck() {
    if python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert $2, j
" "$TMP/out" 2>>"$TMP/jerr"; then pass; else fail "$1: $(tail -1 "$TMP/jerr")"; fi
}
digest_of() { "$HUB" build "$1" 2>/dev/null | awk '{print $1}'; }

# mkpkg DIR VERSION [NAME]: a package folder around the Echo executor's .so.
mkpkg() {
    local dir=$1 version=$2 name=${3:-echo}
    mkdir -p "$dir/lib"
    cp "$DF_PLUGIN_DIR/echo.so" "$dir/lib/echo.so"
    printf 'namespace: alice\nname: %s\nversion: %s\ndescription: Echo, packaged\nlicense: Apache-2.0\nkeywords: [test]\n' \
        "$name" "$version" >"$dir/manifest.yml"
    printf 'jtype: Echo\nwith: {dim: 4}\nmetas: {name: echo, library: lib/echo.so}\n' >"$dir/config.yml"
    printf '# alice/%s\n' "$name" >"$dir/README.md"
}

# ---- 1. help, usage, identifiers -------------------------------------------------------------
hub_ok "help" --help
expect_out "help lists push" "push DIR|TARBALL"
for cmd in new build push pull list inspect rm install login logout; do
    hub_ok "$cmd --help" "$cmd" --help
    expect_out "$cmd --help" "usage: docflow-hub $cmd"
    expect_out "$cmd --help exit status" "exit status"
done
hub_ok "version" version
expect_out "version names the ABI" "executor ABI 1."
hub_refused "unknown command" 2 "unknown command 'frobnicate'" frobnicate
hub_refused "missing argument" 2 "missing argument" pull
hub_refused "unknown option" 2 "unknown option" pull alice/echo --frob
hub_refused "option of another command" 2 "--json is not an option of pull" pull alice/echo --json
hub_refused "login without stdin" 2 "--password-stdin" login http://127.0.0.1:1 -u alice
for bad in "Alice/echo" "echo" "alice/echo:v1" "alice/echo:1.2.3.4" "a/b/c" "alice/ec--ho" \
    "alice/echo@sha256:1234" "alice/echo:"; do
    hub_refused "bad identifier '$bad'" 2 "$GRAMMAR" pull "$bad"
    expect_err "bad identifier '$bad' is named" "bad identifier '$bad'"
done
hub_refused "uppercase hint" 2 "must be lowercase (try 'alice')" inspect Alice/echo
hub_refused "rm needs an exact version" 2 "rm needs an exact version" rm alice/echo:1

# ---- 2. build ---------------------------------------------------------------------------------
P=$TMP/pkg
mkpkg "$P" 1.0.0
hub_ok "build" build "$P"
TARBALL=$P/alice-echo-1.0.0.tar.gz
expect_out "build prints the tarball" "$TARBALL"
D1=$(awk '{print $1}' "$TMP/out")
[[ $D1 == "sha256:$(sha256sum "$TARBALL" | cut -d' ' -f1)" ]] && pass || fail "build printed $D1, the file's sha256 differs"
sleep 1
touch "$P"/* "$P"/lib/*
D2=$(digest_of "$P")
[[ $D1 == "$D2" ]] && pass || fail "build twice gave $D1 then $D2"
python3 - "$TARBALL" <<'EOF' && pass || fail "the tarball is not normalised"
import gzip, sys, tarfile
raw = open(sys.argv[1], "rb").read()
assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 8, "gzip header has a time or a name"
with tarfile.open(sys.argv[1]) as t:
    m = t.getmembers()
    names = [x.name for x in m]
    assert names == sorted(names) == ["README.md", "config.yml", "lib/echo.so", "manifest.yml"], names
    assert all(x.mtime == 0 and x.uid == 0 and x.gid == 0 and x.isfile() for x in m)
    assert t.getmember("lib/echo.so").mode == 0o755 and t.getmember("config.yml").mode == 0o644
    man = t.extractfile("manifest.yml").read().decode()
    for want in ("abi_version: \"1.", "jtype: Echo", "/index", "lib/echo.so: sha256:", "default: true"):
        assert want in man, want
EOF
SOURCE_DATE_EPOCH=1700000000 "$HUB" build "$P" -o "$TMP" >/dev/null 2>&1
python3 -c "import tarfile,sys; assert all(m.mtime == 1700000000 for m in tarfile.open(sys.argv[1]))" \
    "$TMP/alice-echo-1.0.0.tar.gz" && pass || fail "SOURCE_DATE_EPOCH does not set the entries' time"
mkdir -p "$TMP/nothing-here"
hub_refused "build of a folder without manifest" 2 "not a package folder (no manifest.yml)" build "$TMP/nothing-here"
hub_refused "build of a missing folder" 2 "no-such-folder: No such file or directory" build "$TMP/no-such-folder"
B=$TMP/badpkg
mkpkg "$B" 1.0.0
printf 'jtype: Nope\nmetas: {library: lib/echo.so}\n' >"$B/config.yml"
hub_refused "build with a foreign jtype" 2 "jtype Nope is not an executor of lib/echo.so" build "$B"
printf 'jtype: Echo\n' >"$B/config.yml"
hub_refused "build without metas.library" 2 "metas.library must name the packaged library" build "$B"
printf 'jtype: Echo\nmetas: {library: lib/echo.so}\n' >"$B/config.yml"
printf 'namespace: alice\nname: echo\nversion: 1.0\n' >"$B/manifest.yml"
hub_refused "build with a numeric version" 2 "manifest.yml:3:" build "$B"
printf 'namespace: alice\nname: echo\nversion: 1.0.0\n' >"$B/manifest.yml"
rm "$B/lib/echo.so"
hub_refused "build without a library" 2 "lib has no .so file" build "$B"

# ---- 3. push, list, inspect, pull, rm, install ------------------------------------------------------
hub_ok "push a folder" push "$P" alice/echo:1.0.0
expect_out "push names the version and digest" "pushed alice/echo:1.0.0@sha256:"
hub_ok "push again" push "$TARBALL" alice/echo:1.0.0
expect_out "push again does nothing" "nothing to do"
hub_refused "push under another version" 2 "has version 1.0.0, but the identifier says '9.9.9'" push "$TARBALL" alice/echo:9.9.9
hub_refused "push under another name" 2 "is the package alice/echo, not bob/echo" push "$TARBALL" bob/echo
hub_refused "push with a digest" 2 "push takes namespace/name[:version]" push "$TARBALL" "alice/echo@sha256:$(printf '%064d' 0)"
printf '\nextra\n' >>"$P/README.md"
hub_refused "push other content under an existing version" 2 "versions are immutable" push "$P"
expect_err "the refusal says --force" "--force"
hub_ok "push --force" push "$P" --force
for v in 1.2.0 1.10.0 2.0.0-rc.1 0.9.0; do
    mkpkg "$TMP/v$v" "$v"
    hub_ok "build $v" build "$TMP/v$v"
    hub_ok "push tarball $v" push "$TMP/v$v/alice-echo-$v.tar.gz" "alice/echo:$v"
done
hub_ok "list" list
for v in 0.9.0 1.0.0 1.2.0 1.10.0 2.0.0-rc.1; do expect_out "list shows $v" "$v"; done
hub_ok "list alice/" list alice/
expect_out "list alice/ shows alice/echo" "alice/echo"
hub_ok "list bob/" list bob/
[[ ! -s $TMP/out ]] && pass || fail "list bob/ printed rows: $(cat "$TMP/out")"
hub_ok "list --json" list --json
jcheck "list --json has five versions with digests and sizes" \
    'len(j) == 5 and all(x["digest"].startswith("sha256:") and x["size"] > 1000 for x in j)'

pull_gives() { # pull_gives ID VERSION [FLAGS...]
    local id=$1 want=$2; shift 2
    run_hub pull "$id" "$@"
    expect_rc "pull $id $*" 0
    expect_out "pull $id $* gives $want" "pulled alice/echo:$want@sha256:"
}
pull_gives alice/echo:1 1.10.0
pull_gives alice/echo 1.10.0
pull_gives alice/echo:latest 1.10.0
pull_gives alice/echo:1.2 1.2.0
pull_gives alice/echo:0 0.9.0
pull_gives alice/echo:2 2.0.0-rc.1 --pre
pull_gives alice/echo:2.0.0-rc.1 2.0.0-rc.1
hub_refused "pull :2 without --pre" 2 "only pre-releases match" pull alice/echo:2
hub_refused "pull a missing version" 2 "stored: 0.9.0, 1.0.0, 1.2.0, 1.10.0, 2.0.0-rc.1" pull alice/echo:3
hub_refused "pull a missing package" 2 "bob/echo is not in the local store" pull bob/echo
DIR=$DOCFLOW_HOME/executors/alice/echo/1.10.0
[[ -f $DIR/config.yml && -x $DIR/lib/echo.so ]] && pass || fail "pull did not unpack into $DIR"
echo '{"id": "d1", "text": "hello"}' | "$HOST" call "$DIR/config.yml" --on /index --quiet >"$TMP/call.out" 2>"$TMP/call.err" &&
    grep -q '"echoed":true' "$TMP/call.out" && pass || fail "the pulled package does not run: $(cat "$TMP/call.err")"
hub_ok "inspect" inspect alice/echo:1.10
for want in "alice/echo:1.10.0" "Echo 0.1.0" "/index" "default handler" "abi          1.0" \
    "library      lib/echo.so" "unpacked     $DIR" "$(sha256sum "$DIR/lib/echo.so" | cut -d' ' -f1)  lib/echo.so"; do
    expect_out "inspect shows '$want'" "$want"
done
hub_ok "inspect --json" inspect alice/echo:1.10.0 --json
jcheck "inspect --json has the manifest and digests" \
    'j["ref"] == "alice/echo:1.10.0" and j["manifest"]["executors"][0]["jtype"] == "Echo" and j["layer_digest"].startswith("sha256:") and j["unpacked"]'
hub_ok "inspect a tarball" inspect "$TMP/v1.2.0/alice-echo-1.2.0.tar.gz"
expect_out "inspect a tarball shows it" "alice/echo:1.2.0"
PIN=$("$HUB" list --json | python3 -c 'import json,sys; print([x["digest"] for x in json.load(sys.stdin) if x["version"]=="1.2.0"][0])')
pull_gives "alice/echo@$PIN" 1.2.0
hub_ok "rm" rm alice/echo:1.2.0
expect_out "rm says what it removed" "removed alice/echo:1.2.0@sha256:"
[[ ! -e $DOCFLOW_HOME/executors/alice/echo/1.2.0 ]] && pass || fail "rm left the unpacked folder"
hub_refused "rm again" 2 "no version of alice/echo in the local store matches '1.2.0'" rm alice/echo:1.2.0
hub_refused "pull a removed version" 2 "matches '1.2'" pull alice/echo:1.2
blobs_before=$(ls "$DOCFLOW_HOME/hub/blobs/sha256" | wc -l)
[[ $blobs_before -eq 12 ]] && pass || fail "4 versions should hold 12 blobs, found $blobs_before"
OTHER_HOME=$DOCFLOW_HOME
export DOCFLOW_HOME=$TMP/home-install
hub_ok "install" install "$TMP/v1.2.0/alice-echo-1.2.0.tar.gz"
expect_out "install says where" "installed alice/echo:1.2.0@sha256:"
[[ -f $DOCFLOW_HOME/executors/alice/echo/1.2.0/config.yml ]] && pass || fail "install did not unpack"
hub_ok "install again" install "$TMP/v1.2.0/alice-echo-1.2.0.tar.gz"
expect_out "install again" "already there"
export DOCFLOW_HOME=$OTHER_HOME

# ---- 4. hostile tarballs ---------------------------------------------------------------------------
EVIL=$TMP/evil
SENTINEL=/tmp/docflow-hub-test-escape-$$
ABI=$("$HUB" version | sed -n 's/.*executor ABI \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
NEWER="${ABI% *}.$((${ABI#* } + 1))"
python3 "$DF_SOURCE_DIR/tests/data/hub/make_hostile.py" "$EVIL" "$SENTINEL" "$NEWER" || fail "make_hostile.py failed"
export DOCFLOW_HOME=$TMP/home-evil
n_cases=0
while IFS=$'\t' read -r file reason; do
    n_cases=$((n_cases + 1))
    hub_refused "install $file" 2 "$reason" install "$EVIL/$file"
    hub_refused "push $file" 2 "$reason" push "$EVIL/$file"
    case $file in newabi.* | platform.*) ;; # inspect only reads; these are fine to look at
    *) hub_refused "inspect $file" 2 "$reason" inspect "$EVIL/$file" ;;
    esac
done <"$EVIL/cases.tsv"
[[ $n_cases -ge 18 ]] && pass || fail "only $n_cases hostile cases ran"
[[ ! -e $SENTINEL && ! -e $DOCFLOW_HOME/escaped && ! -e $DOCFLOW_HOME/tmp/escaped && ! -e $TMP/escaped ]] &&
    pass || fail "a hostile entry escaped the target folder"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["manifests"] == []' \
    "$DOCFLOW_HOME/hub/index.json" && pass || fail "a refused package reached index.json: $(cat "$DOCFLOW_HOME/hub/index.json")"
[[ -z $(ls -A "$DOCFLOW_HOME/tmp/hub") && -z $(ls -A "$DOCFLOW_HOME/hub/blobs/sha256") && ! -e $DOCFLOW_HOME/executors ]] &&
    pass || fail "a refused package left files: $(cd "$DOCFLOW_HOME" && find . -type f | tr '\n' ' ')"
rm -f "$SENTINEL"
export DOCFLOW_HOME=$OTHER_HOME

# ---- 5. a corrupted blob ------------------------------------------------------------------------
LAYER=$("$HUB" inspect alice/echo:1.0.0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["layer_digest"][7:])')
printf 'X' | dd of="$DOCFLOW_HOME/hub/blobs/sha256/$LAYER" bs=1 seek=100 conv=notrunc 2>/dev/null
hub_refused "pull detects a corrupted layer" 1 "the local store is corrupted: blob $DOCFLOW_HOME/hub/blobs/sha256/$LAYER does not match its digest" pull alice/echo:1.0.0
hub_refused "inspect detects a corrupted layer" 1 "does not match its digest" inspect alice/echo:1.0.0
expect_err "the message says what to do" "docflow-hub rm"
MAN=$("$HUB" list --json | python3 -c 'import json,sys; print([x["digest"] for x in json.load(sys.stdin) if x["version"]=="0.9.0"][0][7:])')
printf 'X' | dd of="$DOCFLOW_HOME/hub/blobs/sha256/$MAN" bs=1 seek=10 conv=notrunc 2>/dev/null
hub_refused "list reports a corrupted manifest" 1 "some versions are corrupted" list
expect_out "list still lists the rest" "1.10.0"
expect_out "list marks the corrupted one" "CORRUPTED"
hub_ok "rm of a corrupted version" rm alice/echo:1.0.0
hub_ok "rm of another corrupted version" rm alice/echo:0.9.0
hub_ok "push again after the corruption" push "$TARBALL" --force
hub_ok "pull after the repair" pull alice/echo:1.0.0
hub_ok "list after the repair" list

# ---- 6. kill -9 during a push ---------------------------------------------------------------------
BIG=$TMP/big
mkpkg "$BIG" 1.0.0 big
mkdir -p "$BIG/data"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$BIG/data/blob.bin"
hub_ok "build the 20 MB package" build "$BIG"
BIGTAR=$BIG/alice-big-1.0.0.tar.gz
export DOCFLOW_HOME=$TMP/home-kill
mid_push=0
delays=(0 0 0.01 0 0.05 0 0.1 0 0.3)
for i in 1 2 3 4 5 6 7 8; do
    "$HUB" rm alice/big:1.0.0 >/dev/null 2>&1
    "$HUB" push "$BIGTAR" alice/big:1.0.0 >/dev/null 2>&1 &
    pid=$!
    if ((i % 2)); then # kill while a staging file is being written
        for _ in $(seq 5000); do
            compgen -G "$DOCFLOW_HOME/tmp/hub/*" >/dev/null && break
            kill -0 $pid 2>/dev/null || break
        done
    else
        sleep "${delays[$i]}"
    fi
    compgen -G "$DOCFLOW_HOME/tmp/hub/*" >/dev/null && kill -0 $pid 2>/dev/null && mid_push=$((mid_push + 1))
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    run_hub list --json
    expect_rc "list after kill $i" 0
    if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])) else 1)' "$TMP/out"; then
        hub_ok "a version listed after kill $i is complete" inspect alice/big:1.0.0
    else
        hub_refused "a version absent after kill $i is absent" 2 "alice/big is not in the local store" pull alice/big
    fi
done
[[ $mid_push -ge 1 ]] && pass || fail "no kill hit a push in the middle (the test proved nothing)"
echo "kill -9 hit $mid_push of 8 pushes while they were writing"
hub_ok "push after the kills" push "$BIGTAR"
[[ -z $(ls -A "$DOCFLOW_HOME/tmp/hub") ]] && pass || fail "staging files of killed pushes survived the next push"
hub_ok "pull after the kills" pull alice/big:1
cmp -s "$BIG/data/blob.bin" "$DOCFLOW_HOME/executors/alice/big/1.0.0/data/blob.bin" && pass || fail "the 20 MB file differs after the pull"
hub_ok "rm after the kills" rm alice/big:1.0.0
[[ -z $(ls -A "$DOCFLOW_HOME/hub/blobs/sha256") ]] && pass || fail "orphan blobs of killed pushes survived rm: $(ls "$DOCFLOW_HOME/hub/blobs/sha256")"

# ---- 7. concurrency and progress -----------------------------------------------------------------
export DOCFLOW_HOME=$TMP/home-conc
for v in 1.0.1 1.0.2 1.0.3 1.0.4; do
    mkpkg "$TMP/c$v" "$v" conc
    "$HUB" build "$TMP/c$v" >/dev/null 2>&1
done
pids=()
for v in 1.0.1 1.0.2 1.0.3 1.0.4; do
    "$HUB" push "$TMP/c$v/alice-conc-$v.tar.gz" >"$TMP/conc-$v.out" 2>&1 &
    pids+=($!)
done
ok=1
for p in "${pids[@]}"; do wait "$p" || ok=0; done
((ok)) && pass || fail "a concurrent push failed: $(cat "$TMP"/conc-*.out)"
hub_ok "list after concurrent pushes" list --json
jcheck "all four concurrent versions are there" 'sorted(x["version"] for x in j) == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]'
"$HUB" rm alice/conc:1.0.4 >/dev/null
run_hub push "$TMP/c1.0.4/alice-conc-1.0.4.tar.gz"
[[ $RC -eq 0 && ! -s $TMP/err && $(wc -l <"$TMP/out") -eq 1 ]] && pass ||
    fail "push without a terminal should print one summary line and nothing on stderr: $(cat "$TMP/out" "$TMP/err")"
"$HUB" rm alice/conc:1.0.4 >/dev/null
script -qec "$HUB push $TMP/c1.0.4/alice-conc-1.0.4.tar.gz" /dev/null >"$TMP/tty.out" 2>&1
grep -q 'pushing to the local store.*\[#*' "$TMP/tty.out" && grep -q 'pushed alice/conc:1.0.4' "$TMP/tty.out" &&
    pass || fail "push on a terminal shows no progress bar: $(cat -v "$TMP/tty.out")"

# ---- 8. new + build + test.sh, against an installed docflow -------------------------------------------
PREFIX=$TMP/prefix
if cmake --install "$DF_BINARY_DIR" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
    export PATH="$PREFIX/bin:$PATH" DOCFLOW_HOME=$TMP/home-new
    mkdir -p "$TMP/work"
    (
        cd "$TMP/work" || exit 1
        docflow-hub new alice/my-encoder >"$TMP/new.out" 2>&1 || { echo "new failed: $(cat "$TMP/new.out")"; exit 1; }
        for f in my_encoder.c CMakeLists.txt config.yml manifest.yml README.md test.sh sample.jsonl .gitignore; do
            [[ -f my-encoder/$f ]] || { echo "new did not write $f"; exit 1; }
        done
        grep -q 'find_package(docflow' my-encoder/CMakeLists.txt || { echo "CMakeLists.txt lacks find_package(docflow)"; exit 1; }
        grep -q 'jtype: MyEncoder' my-encoder/config.yml || { echo "config.yml lacks jtype MyEncoder"; exit 1; }
        docflow-hub new alice/my-encoder >/dev/null 2>&1 && { echo "new over an existing folder succeeded"; exit 1; }
        cd my-encoder || exit 1
        d1=$(docflow-hub build . 2>"$TMP/build.err" | awk '{print $1}')
        [[ $d1 == sha256:* ]] || { echo "build of the new package failed: $(cat "$TMP/build.err" build/docflow-hub-build.log 2>/dev/null | tail -30)"; exit 1; }
        [[ ! -s $TMP/build.err ]] || { echo "build warned: $(cat "$TMP/build.err")"; exit 1; }
        d2=$(docflow-hub build . 2>/dev/null | awk '{print $1}')
        [[ $d1 == "$d2" ]] || { echo "the new package built twice gave $d1 and $d2"; exit 1; }
        ./test.sh >"$TMP/test.sh.out" 2>&1 || { echo "the generated test.sh failed: $(cat "$TMP/test.sh.out")"; exit 1; }
        docflow-hub push . alice/my-encoder:0.1.0 >/dev/null 2>&1 || { echo "push of the new package failed"; exit 1; }
        docflow-hub inspect alice/my-encoder --json | grep -q '"/index"' || { echo "inspect lacks /index"; exit 1; }
        cd / && docflow-hub pull alice/my-encoder:0.1 >/dev/null 2>&1 || { echo "pull of the new package failed"; exit 1; }
        echo '{"id": "x", "text": "world"}' | docflow-host call "$DOCFLOW_HOME/executors/alice/my-encoder/0.1.0/config.yml" \
            --on /index --quiet --results /dev/null | grep -q '"text":"hello: world"' || { echo "the pulled new package does not run"; exit 1; }
    ) >"$TMP/new-flow.log" 2>&1 && pass || fail "docflow-hub new -> build -> test.sh -> push -> pull: $(cat "$TMP/new-flow.log")"
    hub_refused "new with a bad name" 2 "not a valid package name" new "Bad_Name!"
else
    fail "cmake --install failed: $(tail -5 "$TMP/install.log")"
fi

finish
