#!/bin/sh
# run-example.sh: the README's first command. Installs what is missing,
# builds docflow, and serves the bundled example flow (examples/hello/flow.yml:
# the Echo executor) over HTTP until Ctrl-C. DOCFLOW_PORT picks the port
# (default 12345, the flow's own).
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export DOCFLOW_PORT=${DOCFLOW_PORT:-12345}
./tools/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" >/dev/null
cat >&2 <<MSG
== serving examples/hello/flow.yml on http://127.0.0.1:$DOCFLOW_PORT (Ctrl-C stops it)
   send it a request from another terminal:
     curl -s localhost:$DOCFLOW_PORT/post -H 'content-type: application/json' \\
          -d '{"execEndpoint":"/index","data":[{"text":"hello"}],"parameters":{}}'
     $BUILD_DIR/host/docflow-host post --host http://127.0.0.1:$DOCFLOW_PORT --on /index \\
          --input examples/hello/docs.jsonl
MSG
exec "$BUILD_DIR/host/docflow-host" run examples/hello/flow.yml --port "$DOCFLOW_PORT"
