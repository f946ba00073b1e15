#!/usr/bin/env bash
# indexer-bench.sh -- the VectorIndexer benchmark (docflow-bench --indexer)
# with FAISS's IndexFlatIP beside it, as docs/benchmarks.md reports it.
#
#   tools/indexer-bench.sh [--build DIR] [docflow-bench --indexer options...]
#
#   --build DIR  the build folder (default: build-indexer-bench), configured
#                Release here; any other option goes to docflow-bench, e.g.
#                --sizes 100000 --threads 1 (see docflow-bench --indexer --help)
#
# FAISS is a benchmark-only dependency: when Debian's archive has
# libfaiss-dev (apt-cache policy) and it is not installed, this script
# installs it (with sudo unless root); tools/install-deps.sh never does, and
# only docflow-bench links it (tools/CMakeLists.txt, guarded). Without it
# the VectorIndexer is measured alone. The run takes a few minutes at the
# default sizes (1,000,000 x 128 floats is 512 MB, held twice: the index
# and FAISS's copy). Figures from a busy machine are low and noisy: the
# load average is printed before the run.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build-indexer-bench
if [ "${1:-}" = "--build" ]; then
    BUILD=$2
    shift 2
fi

if ! dpkg -s libfaiss-dev >/dev/null 2>&1; then
    candidate=$(apt-cache policy libfaiss-dev 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        echo "installing libfaiss-dev $candidate (for this benchmark only)"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            libfaiss-dev
    else
        echo "libfaiss-dev is not in the package archive: the VectorIndexer is measured alone"
    fi
fi

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DDOCFLOW_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target docflow-bench -j"$(nproc)" >/dev/null
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$BUILD/tools/docflow-bench" --indexer "$@"
