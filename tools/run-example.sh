#!/bin/sh
# run-example.sh: the README's first command. Installs what is missing,
# builds docflow, and runs the bundled example: the Echo executor over
# examples/hello/docs.jsonl (a later release makes this the hello-world flow).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
./tools/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null
echo "== docflow-host call plugins/echo/config.yml --on /index --input examples/hello/docs.jsonl" >&2
"$BUILD_DIR/host/docflow-host" call plugins/echo/config.yml --on /index \
    --input examples/hello/docs.jsonl --with prefix='echo: '
