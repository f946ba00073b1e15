#!/bin/bash
# test_protobuf_interop.sh -- docflow's DocArray v1 protobuf bytes against
# Google's reference implementation (python3-protobuf), in both directions:
#   1. the committed fixture (written by Python) is what make_fixture.py
#      writes today, and the checker accepts it and catches a changed field;
#   2. documents built from the fixture's description through docflow's
#      document API, encoded by docflow, read back in Python field by field;
#   3. the fixture decoded and re-encoded by docflow reads back the same.
# The C-side decode of the fixture is checked by unit/test_protobuf_codec.
# python3-protobuf and protoc are required (tools/install-deps.sh installs
# them): their absence is a failure, not a skip.
set -euo pipefail

: "${DF_SOURCE_DIR:?run through ctest (DF_SOURCE_DIR unset)}"
: "${DF_BINARY_DIR:?run through ctest (DF_BINARY_DIR unset)}"
DATA="$DF_SOURCE_DIR/tests/data/interop"
TOOL="$DF_BINARY_DIR/tests/interop/df_pb_interop"
# Debian's interpreter: python3-protobuf is installed for it, not for
# whatever python3 comes first in PATH.
PY="${DF_PYTHON:-/usr/bin/python3}"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -x "$PY" ] || fail "$PY not found (tools/install-deps.sh installs python3)"
"$PY" -c 'import google.protobuf' 2>/dev/null ||
    fail "python3-protobuf is missing for $PY (tools/install-deps.sh installs it)"
command -v protoc >/dev/null || fail "protoc is missing (tools/install-deps.sh installs protobuf-compiler)"
[ -x "$TOOL" ] || fail "$TOOL not built"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== the committed fixture is current and the checker is strict"
"$PY" "$DATA/make_fixture.py" --check
"$PY" "$DATA/check_docs.py" "$DATA/docarray_v1.bin" "$DATA/docarray_v1.expected.json"
sed 's/"weight": 1\.5$/"weight": 1.25/' "$DATA/docarray_v1.expected.json" >"$tmp/changed.json"
cmp -s "$tmp/changed.json" "$DATA/docarray_v1.expected.json" && fail "could not change a field in the description"
rc=0
"$PY" "$DATA/check_docs.py" "$DATA/docarray_v1.bin" "$tmp/changed.json" >"$tmp/changed.out" || rc=$?
[ "$rc" -eq 1 ] || fail "check_docs.py exited $rc on a changed weight, want 1"
grep -q 'docs\[0\].weight' "$tmp/changed.out" || fail "check_docs.py did not name docs[0].weight: $(cat "$tmp/changed.out")"

echo "== documents built and encoded by docflow, read by Python"
"$TOOL" from-json "$DATA/docarray_v1.expected.json" "$tmp/built.bin"
"$PY" "$DATA/check_docs.py" "$tmp/built.bin" "$DATA/docarray_v1.expected.json"

echo "== the fixture decoded and re-encoded by docflow, read by Python"
"$TOOL" reencode "$DATA/docarray_v1.bin" "$tmp/reencoded.bin"
"$PY" "$DATA/check_docs.py" "$tmp/reencoded.bin" "$DATA/docarray_v1.expected.json"

echo "PASS: protobuf interop"
