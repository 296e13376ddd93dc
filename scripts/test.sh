#!/usr/bin/env bash
# Installs, builds, and runs every test (as root: the tests mount small filesystems, change owners
# and create device nodes; where they cannot, they skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600
# The whole suite again under ASan+UBSan, then under TSan, every xfer program instrumented, each in
# its own build dir (about 5 minutes each with the build); any sanitizer report fails the run.
scripts/sanitize.sh address
scripts/sanitize.sh thread
# A short run of every fuzz target (about 4 minutes with the build); longer runs: scripts/fuzz.sh.
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
