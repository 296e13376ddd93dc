#!/usr/bin/env bash
# Installs, builds, and runs every test (as root: the tests mount small filesystems, change owners
# and create device nodes; where they cannot, they skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600
