#!/usr/bin/env bash
# Installs, builds, and runs every test (as root: the tests mount small filesystems, change owners
# and create device nodes; where they cannot, they skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage says how long it took, so a slow CI run shows where its time went.
stage() {
  local started=$SECONDS
  "$@"
  echo "== stage '$*' took $((SECONDS - started)) s (total $SECONDS s)"
}
stage scripts/install-deps.sh
stage scripts/build.sh
stage ctest --test-dir build --output-on-failure -j2 --timeout 600
# The whole suite again under ASan+UBSan, then under TSan, every xfer program instrumented, each in
# its own build dir (about 5 minutes each with the build); any sanitizer report fails the run.
stage scripts/sanitize.sh address
stage scripts/sanitize.sh thread
# A short run of every fuzz target, two at a time (about 3 minutes with the build); longer runs:
# scripts/fuzz.sh SECONDS.
stage scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
