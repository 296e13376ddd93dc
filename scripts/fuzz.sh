#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan, and runs each for SECONDS
# (default 25), one after the other, starting from its committed seed corpus (fuzz/corpus/TARGET,
# only read: new inputs go to a scratch directory in the build). Fails if any target found a
# crash, leak, sanitizer report or timeout; the input that did it is left in
# $FUZZ_BUILD_DIR/fuzz/artifacts/ (add it to fuzz/corpus/TARGET/ once fixed).
#
#   scripts/fuzz.sh [SECONDS]        FUZZ_BUILD_DIR (default build-fuzz) holds the build.
#   FUZZ_TARGETS="hello manifest" scripts/fuzz.sh 600    only those targets
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-25}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DXFER_FUZZ=ON -DBUILD_TESTING=OFF \
  -DXFER_FUZZ_SECONDS="$seconds" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build_dir" -j"$(nproc)" --target fuzz_targets
# Every run starts from the committed seeds alone, so its result does not depend on what earlier
# runs in this build directory found.
rm -rf "$build_dir"/fuzz/scratch/*/*
regex=.
if [ -n "${FUZZ_TARGETS:-}" ]; then regex="^fuzz_($(echo $FUZZ_TARGETS | tr ' ' '|'))\$"; fi
# One per core: each fuzzer is a single thread that keeps its core busy for the whole run.
ctest --test-dir "$build_dir" -L fuzz -R "$regex" --output-on-failure -j"$(nproc)"
