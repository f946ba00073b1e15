#!/usr/bin/env bash
# test_install.sh -- an installed docflow is usable the way
# docs/writing-an-executor.md says, by someone who has only the install.
#
# Installs the build into a temporary prefix and checks: the installed tree
# (binary, library, header, pkg-config file, CMake package, built-in
# executors); that the installed docflow-host runs and finds the installed
# Echo executor by metas.library; that examples/my-executor, copied out of
# the source tree, builds with find_package(docflow) and with pkg-config +
# cc, and that the doc's own shell snippets (extracted from the doc) produce
# the output the doc shows; that the installed docflow_add_executor() links
# with --no-undefined and -z now; and that the install still works after the
# prefix is moved.
#
# Sanitizer builds (DF_SANITIZE=ON): the installed docflow-host is
# sanitized. The example is still built as a plain module (what a user of
# the install gets: the installed DocflowExecutor.cmake does not know
# DOCFLOW_SANITIZE, so it adds --no-undefined), which loads fine into a
# sanitized host; in addition a sanitized build of the example
# (-fsanitize=address,undefined, without --no-undefined since the sanitizer
# runtime stays undefined in a module) is run through the same host.
#
# Run by ctest with DF_SOURCE_DIR, DF_BINARY_DIR (and DF_SANITIZE) set.
set -euo pipefail

: "${DF_SOURCE_DIR:?set DF_SOURCE_DIR to the docflow source tree}"
: "${DF_BINARY_DIR:?set DF_BINARY_DIR to the docflow build tree}"
sanitize=${DF_SANITIZE:-OFF}
doc=$DF_SOURCE_DIR/docs/writing-an-executor.md
CC=${CC:-cc}
# Nothing from the caller's environment may point at another docflow.
unset DOCFLOW_PLUGIN_PATH CMAKE_PREFIX_PATH PKG_CONFIG_PATH

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DOCFLOW_HOME=$tmp/home
prefix=$tmp/prefix

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# Stops at once: later checks depend on this one.
die() {
    echo "FAIL: $*" >&2
    exit 1
}
show() { sed 's/^/  | /' "$@" >&2; }

# same_jsonl EXPECTED ACTUAL WHAT: the JSON lines are equal as JSON values.
same_jsonl() {
    if ! python3 - "$1" "$2" <<'EOF'; then
import json, sys
def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
want, got = load(sys.argv[1]), load(sys.argv[2])
if want != got:
    for w in want: print("  want:", json.dumps(w), file=sys.stderr)
    for g in got: print("  got: ", json.dumps(g), file=sys.stderr)
    sys.exit(1)
EOF
        fail "$3"
    fi
}

# check_json FILE WHAT EXPR: EXPR (Python) holds, `docs` = the JSON lines.
check_json() {
    if ! python3 - "$1" "$3" <<'EOF'; then
import json, sys
with open(sys.argv[1]) as f:
    docs = [json.loads(line) for line in f if line.strip()]
try:
    ok = eval(sys.argv[2], {"docs": docs})
except Exception as e:
    print(f"  {type(e).__name__}: {e}", file=sys.stderr)
    ok = False
if not ok:
    print("  expected:", sys.argv[2], file=sys.stderr)
    for d in docs: print("  got:", json.dumps(d), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
        fail "$2"
    fi
}

# run_snippet NAME DIR: runs the doc's shell snippet NAME in DIR, as a user
# would paste it; stdout and stderr go to DIR/NAME.stdout and .stderr.
run_snippet() {
    local name=$1 dir=$2
    [[ -f $snip/$name ]] || die "the doc has no snippet $name any more"
    if ! (cd "$dir" && bash -eo pipefail "$snip/$name") >"$dir/$name.stdout" 2>"$dir/$name.stderr"; then
        fail "snippet $name failed in $dir:"
        show "$dir/$name.stderr"
        return 1
    fi
}

# ---- the doc's snippets --------------------------------------------------------------
snip=$tmp/snippets
bash "$DF_SOURCE_DIR/tools/extract-doc-snippets.sh" "$doc" "$snip" ||
    die "cannot extract the snippets of $doc"

# ---- install ----------------------------------------------------------------------------
cmake --install "$DF_BINARY_DIR" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { show "$tmp/install.log"; die "cmake --install failed"; }

# ---- the installed tree ---------------------------------------------------------------------
# The library folder is lib, lib64 or lib/<multiarch>: find it by its content.
libdocflow=$(find "$prefix" -name 'libdocflow.so' \( -type f -o -type l \) | head -n 1)
[[ -n $libdocflow ]] || die "no libdocflow.so under $prefix (installed: $(cd "$prefix" && find . -type f | tr '\n' ' '))"
libdir=$(dirname "$libdocflow")
[[ $libdir == "$prefix"/lib* ]] || fail "libdocflow.so is in $libdir, not under $prefix/lib*"
expect_file() { [[ -f $prefix/$1 ]] || fail "the install lacks $1"; }
[[ -x $prefix/bin/docflow-host ]] || die "the install lacks an executable bin/docflow-host"
expect_file include/docflow/executor.h
cmp -s "$prefix/include/docflow/executor.h" "$DF_SOURCE_DIR/plugin-api/include/docflow/executor.h" ||
    fail "the installed executor.h differs from plugin-api/include/docflow/executor.h"
rel_libdir=${libdir#"$prefix"/}
for f in pkgconfig/docflow.pc cmake/docflow/docflowConfig.cmake cmake/docflow/docflowConfigVersion.cmake \
    cmake/docflow/docflowTargets.cmake cmake/docflow/DocflowExecutor.cmake docflow/plugins/echo.so \
    docflow/plugins/text_case.so; do
    expect_file "$rel_libdir/$f"
done
for f in config.yml README.md manifest.yml; do expect_file "share/docflow/plugins/echo/$f"; done
exported=$(nm -D --defined-only "$libdir/docflow/plugins/echo.so" | awk '{print $NF}' | tr '\n' ' ')
[[ $exported == "docflow_plugin_v1 " ]] || fail "the installed echo.so exports '$exported', expected only docflow_plugin_v1"

# ---- the installed docflow-host runs on its own --------------------------------------------------
# No LD_LIBRARY_PATH: an installed program must find its own libdocflow.
# When it does not, the checks below go on with LD_LIBRARY_PATH, so one run
# reports every problem.
if ! "$prefix/bin/docflow-host" version >"$tmp/version.out" 2>&1; then
    show "$tmp/version.out"
    fail "the installed docflow-host does not find its libdocflow ($(ldd "$prefix/bin/docflow-host" 2>&1 |
        grep -i docflow | tr -s ' \t' ' ')); it needs an INSTALL_RPATH of \$ORIGIN/../${libdir#"$prefix"/}"
    export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    "$prefix/bin/docflow-host" version >"$tmp/version.out" 2>&1 || die "docflow-host does not run even with LD_LIBRARY_PATH=$libdir"
fi
grep -q 'executor ABI 1\.' "$tmp/version.out" || fail "docflow-host version does not name the executor ABI"
"$prefix/bin/docflow-host" call --help >"$tmp/help.out" || fail "docflow-host call --help failed"
grep -q 'exit status: 0 ok, 1 the executor failed, 2 bad usage or bad input' "$tmp/help.out" ||
    fail "docflow-host call --help no longer states the exit statuses the doc repeats"

export DOCFLOW_PREFIX=$prefix
export PATH="$prefix/bin:$PATH"
[[ $(command -v docflow-host) == "$prefix/bin/docflow-host" ]] || die "PATH does not pick the installed docflow-host"

# The installed Echo executor, found by metas.library through the plugin
# folder of the install (the doc's run-echo.sh).
mkdir -p "$tmp/echo"
if run_snippet run-echo.sh "$tmp/echo"; then
    check_json "$tmp/echo/run-echo.sh.stdout" "the installed Echo (config.yml: dim 8) indexes the document" \
        'len(docs) == 1 and docs[0]["text"] == "hello world" and docs[0]["tags"]["echoed"] is True and len(docs[0]["embedding"]) == 8'
fi

# ---- the example, with CMake (the doc's build-cmake.sh) ------------------------------------------
copy_example() { # a fresh copy, as if made from an empty folder
    rm -rf "$1"
    cp -r "$DF_SOURCE_DIR/examples/my-executor" "$1"
    rm -rf "$1/build"
}
ex=$tmp/my-executor
copy_example "$ex"
run_snippet build-cmake.sh "$ex" || die "the example does not build with find_package(docflow)"
so=$ex/build/my_executor.so
[[ -f $so ]] || die "build-cmake.sh did not produce build/my_executor.so"
exported=$(nm -D --defined-only "$so" | awk '{print $NF}' | tr '\n' ' ')
[[ $exported == "docflow_plugin_v1 " ]] || fail "my_executor.so exports '$exported', expected only docflow_plugin_v1"
readelf -d "$so" | grep -q 'FLAGS.*NOW' || fail "my_executor.so is not linked with -z now"
readelf -d "$so" | grep -q 'NEEDED.*libdocflow' && fail "my_executor.so links libdocflow; executors must not"

# run_example DIR: the doc's run snippets in DIR, compared with the doc's output blocks.
run_example() {
    local dir=$1
    rm -f "$dir/results.jsonl"
    if run_snippet run-index.sh "$dir"; then
        same_jsonl "$snip/run-index.out.jsonl" "$dir/run-index.sh.stdout" "$dir: /index output differs from the doc"
        same_jsonl "$snip/run-index.results.jsonl" "$dir/results.jsonl" "$dir: /index results differ from the doc"
    fi
    if run_snippet run-filter.sh "$dir"; then
        same_jsonl "$snip/run-filter.out.jsonl" "$dir/run-filter.sh.stdout" "$dir: /filter output differs from the doc"
    fi
    if run_snippet run-fail.sh "$dir"; then
        # The doc shows stderr's error line and stdout's "exit status" line;
        # log lines (timestamped) come on top.
        while IFS= read -r line; do
            grep -qxF -- "$line" "$dir/run-fail.sh.stdout" "$dir/run-fail.sh.stderr" ||
                fail "$dir: run-fail.sh did not print the doc's line: $line"
        done <"$snip/run-fail.out.txt"
    fi
    if run_snippet run-so.sh "$dir"; then
        same_jsonl "$snip/run-so.out.jsonl" "$dir/run-so.sh.stdout" "$dir: the bare .so run differs from the doc"
    fi
}
run_example "$ex"

# A bad with: argument is an init failure: exit 2 and the message, nothing on stdout.
rc=0
docflow-host call "$ex/config.yml" --with 'keywords=[]' --on /index --input "$ex/sample.jsonl" \
    >"$tmp/badwith.out" 2>"$tmp/badwith.err" || rc=$?
[[ $rc == 2 ]] || fail "an empty with.keywords should exit 2, got $rc"
grep -q 'with.keywords: expected a non-empty list of strings' "$tmp/badwith.err" ||
    { fail "the init failure message did not reach the user:"; show "$tmp/badwith.err"; }
[[ ! -s $tmp/badwith.out ]] || fail "a failed init should write no documents"

# A blob is refused with the document's id, exit 1.
echo '{"id": "img", "blob": "AAEC"}' >"$tmp/blob.jsonl"
rc=0
docflow-host call "$ex/config.yml" --on /index --input "$tmp/blob.jsonl" >/dev/null 2>"$tmp/blob.err" || rc=$?
[[ $rc == 1 ]] || fail "a blob document should fail the request with exit 1, got $rc"
grep -q "document 'img' holds a blob" "$tmp/blob.err" || { fail "the blob failure message is missing:"; show "$tmp/blob.err"; }

# cmake --install of the example puts it next to the built-ins, where a
# YAML without metas.library finds it by jtype.
cmake --install "$ex/build" >"$tmp/ex-install.log" 2>&1 || { show "$tmp/ex-install.log"; fail "cmake --install of the example failed"; }
[[ -f $libdir/docflow/plugins/my_executor.so ]] || fail "the example's install did not reach DOCFLOW_PLUGIN_DIR ($libdir/docflow/plugins)"
printf 'jtype: KeywordTagger\nwith: {keywords: [walk]}\n' >"$tmp/by-jtype.yml"
echo '{"id": "w", "text": "A walk"}' | docflow-host call "$tmp/by-jtype.yml" --on /index --quiet \
    >"$tmp/by-jtype.out" 2>"$tmp/by-jtype.err" || { fail "KeywordTagger was not found by jtype:"; show "$tmp/by-jtype.err"; }
check_json "$tmp/by-jtype.out" "KeywordTagger found by jtype tags the document" 'docs[0]["tags"]["keywords"] == ["walk"]'

# ---- the installed docflow_add_executor() refuses undefined symbols ----------------------------------
bad=$tmp/bad-executor
mkdir -p "$bad"
cat >"$bad/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(bad_executor LANGUAGES C)
find_package(docflow REQUIRED)
docflow_add_executor(bad SOURCES bad.c)
EOF
cat >"$bad/bad.c" <<'EOF'
#include <docflow/executor.h>
size_t df_docs_len(const df_docs *docs); /* libdocflow's, not the ABI's: must not link */
size_t bad_count(const df_docs *docs);
size_t bad_count(const df_docs *docs) { return df_docs_len(docs); }
EOF
if cmake -S "$bad" -B "$bad/build" -DCMAKE_PREFIX_PATH="$prefix" >"$bad/log" 2>&1; then
    if cmake --build "$bad/build" >>"$bad/log" 2>&1; then
        fail "docflow_add_executor() linked a module with an undefined symbol (no -Wl,--no-undefined)"
    elif ! grep -q "undefined reference to .df_docs_len" "$bad/log"; then
        show "$bad/log"
        fail "the module with an undefined symbol failed to build, but not at link time"
    fi
else
    show "$bad/log"
    fail "configuring a second project with find_package(docflow) failed"
fi

# ---- the example, with pkg-config and cc (the doc's build-pkgconfig.sh) ------------------------------
pc=$tmp/pc-executor
copy_example "$pc"
export PKG_CONFIG_PATH=$libdir/pkgconfig # the doc's snippet adds lib/ and lib64/ in front
# The same folder, not the same spelling: a relocatable .pc file says
# ${pcfiledir}/../../include.
pc_include=$(pkg-config --cflags-only-I docflow | sed -e 's/^-I//' -e 's/[[:space:]]*$//')
[[ $pc_include -ef $prefix/include ]] ||
    fail "pkg-config --cflags docflow gives -I'$pc_include', expected $prefix/include (is prefix= in docflow.pc the prefix given to cmake --install?)"
[[ $(pkg-config --variable=plugindir docflow) -ef $libdir/docflow/plugins ]] ||
    fail "pkg-config --variable=plugindir docflow gives '$(pkg-config --variable=plugindir docflow)', expected $libdir/docflow/plugins"
if run_snippet build-pkgconfig.sh "$pc"; then
    run_example "$pc"
fi
unset PKG_CONFIG_PATH

if [[ $sanitize == ON ]]; then
    san=$tmp/san-executor
    copy_example "$san"
    mkdir -p "$san/build"
    "$CC" -std=c11 -O1 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden -fsanitize=address,undefined \
        -fno-omit-frame-pointer -I"$prefix/include" -shared -Wl,-z,now \
        -o "$san/build/my_executor.so" "$san/my_executor.c" 2>"$tmp/san.err" ||
        { show "$tmp/san.err"; fail "the sanitized build of the example failed"; }
    [[ -f $san/build/my_executor.so ]] && run_example "$san"
fi

# ---- a moved install still works ------------------------------------------------------------------------------
moved=$tmp/moved
mv "$prefix" "$moved"
mlibdir=$moved/${libdir#"$prefix"/}
[[ -z ${LD_LIBRARY_PATH:-} ]] || export LD_LIBRARY_PATH=${LD_LIBRARY_PATH//$libdir/$mlibdir}
export PATH="$moved/bin:${PATH#"$prefix/bin:"}"
mkdir -p "$tmp/echo-moved"
printf 'jtype: Echo\nmetas: {library: echo.so}\n' >"$tmp/echo-moved/echo.yml"
if echo '{"text": "moved"}' | "$moved/bin/docflow-host" call "$tmp/echo-moved/echo.yml" --on /index --quiet \
    >"$tmp/echo-moved/out" 2>"$tmp/echo-moved/err"; then
    check_json "$tmp/echo-moved/out" "the moved install's Echo runs" 'docs[0]["tags"]["echoed"] is True'
else
    fail "the moved install does not find its libdocflow or its plugins:"
    show "$tmp/echo-moved/err"
fi
moved_include=$(PKG_CONFIG_PATH=$mlibdir/pkgconfig pkg-config --cflags-only-I docflow |
    sed -e 's/^-I//' -e 's/[[:space:]]*$//')
[[ $moved_include -ef $moved/include ]] ||
    fail "docflow.pc is not relocatable: after moving the prefix, --cflags gives -I'$moved_include' (use \${pcfiledir} in prefix=)"
mv_ex=$tmp/moved-executor
copy_example "$mv_ex"
if cmake -S "$mv_ex" -B "$mv_ex/build" -DCMAKE_PREFIX_PATH="$moved" >"$mv_ex/log" 2>&1 &&
    cmake --build "$mv_ex/build" >>"$mv_ex/log" 2>&1; then
    (cd "$mv_ex" && docflow-host call config.yml --on /index --input sample.jsonl --quiet) >"$mv_ex/out" 2>&1 ||
        fail "the example built against the moved install does not run"
else
    show "$mv_ex/log"
    fail "the CMake package is not relocatable: building the example against the moved prefix failed"
fi

if ((failures)); then
    echo "test_install: $failures failure(s)" >&2
    exit 1
fi
echo "test_install: ok (libdir ${libdir#"$prefix"/}; sanitized example run: $sanitize)"
