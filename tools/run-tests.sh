#!/bin/sh
# run-tests.sh: the README's second command. Installs what is missing,
# builds docflow and its tests, and runs every test (unit and integration).
#   BUILD_DIR=dir        build folder (default: build)
#   CMAKE_ARGS="..."     extra configure options, e.g. -DDOCFLOW_SANITIZE=ON
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
./tools/install-deps.sh
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" -j"$(nproc)" --output-on-failure
