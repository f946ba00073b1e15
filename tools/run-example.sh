#!/bin/sh
# run-example.sh: the README's first command. Installs what is missing,
# builds docflow, and runs the hello world: the bundled digits indexed
# through ImageEncoder -> VectorIndexer (2 shards) -> Evaluator, figures
# printed, hello-report.html written, then the flow served over HTTP until
# Ctrl-C (it prints how to send it a request). DOCFLOW_PORT picks the port
# (default 12345).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
./tools/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null
exec "$BUILD_DIR/host/docflow-host" hello --serve --port "${DOCFLOW_PORT:-12345}"
