# lib.sh -- shared helpers of the integration tests (sourced, not run).
# Each test counts its checks and ends with "N passed, N failed".
set -u
: "${DF_SOURCE_DIR:?run through ctest (DF_SOURCE_DIR unset)}"
: "${DF_BINARY_DIR:?run through ctest (DF_BINARY_DIR unset)}"
HOST="$DF_BINARY_DIR/host/docflow-host"
PASSED=0
FAILED=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export DOCFLOW_HOME="$TMP/home"
# Sanitizer builds: leaks are errors, and plugins stay resident at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# check NAME COMMAND...: the command must succeed.
check() {
    local name=$1; shift
    if "$@"; then pass; else fail "$name"; fi
}

# run_host: runs docflow-host, capturing stdout, stderr and the exit code.
run_host() {
    "$HOST" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# expect_rc NAME CODE: the last run_host exited with CODE.
expect_rc() {
    if [ "$RC" -eq "$2" ]; then pass; else fail "$1: exit $RC, expected $2; stderr: $(cat "$TMP/err")"; fi
}

# expect_err NAME TEXT: stderr of the last run contains TEXT.
expect_err() {
    if grep -qF -- "$2" "$TMP/err"; then pass; else fail "$1: stderr lacks '$2': $(cat "$TMP/err")"; fi
}

# pycheck NAME FILE PYTHON: runs python with `lines` = parsed JSON lines of FILE.
pycheck() {
    local name=$1 file=$2 code=$3
    if python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8') if l.strip()]
$code
" "$file"; then pass; else fail "$name"; fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
