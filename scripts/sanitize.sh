#!/usr/bin/env bash
# Builds xfer with a sanitizer into its own directory and runs the whole test suite under it:
#   scripts/sanitize.sh address   ASan + UBSan, leaks included   (./build-address)
#   scripts/sanitize.sh thread    TSan                            (./build-thread)
# Every program is instrumented, since the tests start the real xfer, xfer-send and xfer-recv;
# ssh, sshd and nft are the system's, not instrumented. A report from any instrumented process
# fails the run, even from a child whose exit status its test does not look at (a receiver the
# test killed, a sender expected to fail): reports go to files, checked after the suite.
# Needs what scripts/install-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
  address) sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
  thread) sanitize="-fsanitize=thread" ;;
  *) echo "usage: $0 address|thread" >&2; exit 2 ;;
esac
root=$PWD
build_dir=$(realpath -m "${BUILD_DIR:-build-$mode}")
reports=$build_dir/sanitizer-reports
suppressions=$root/scripts/sanitizer-suppressions

# -O1 with line tables only (-g1) builds about as fast as the normal build and still gives
# file:line in every stack; assertions stay on (no NDEBUG). GCC 12 warns "may be used
# uninitialized" inside libstdc++'s std::regex when ASan instruments it (GCC bug 105562, a false
# positive); the normal build keeps that warning.
flags="$sanitize -fno-omit-frame-pointer -O1 -g1 -Wno-maybe-uninitialized"
# GCC by default: build-essential already brings its sanitizer runtimes.
CXX=${CXX:-g++} cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$flags" \
  > /dev/null
cmake --build "$build_dir" -j"$(nproc)"

rm -rf "$reports"
mkdir -p "$reports"
# log_path: each process writes its reports to $reports/<tool>.<pid> instead of stderr.
# Not detect_stack_use_after_return: its per-thread fake stacks inflate the receiver's RSS, which
# dos_test.cc bounds, and no finding here needed it.
common="log_path=$reports/$mode:print_suppressions=0"
if [ "$mode" = address ]; then
  export ASAN_OPTIONS="$common:halt_on_error=1:detect_leaks=1:exitcode=86:check_initialization_order=1:strict_init_order=1"
  export UBSAN_OPTIONS="$common:halt_on_error=1:print_stacktrace=1:exitcode=86"
  export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp"
else
  export TSAN_OPTIONS="$common:halt_on_error=1:exitcode=86:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp"
fi

# The fault-injection suite (tests/faults) injects 50 faults of each kind in the normal run;
# instrumented, 10 of each keep this run short.
export XFER_FAULT_POINTS=${XFER_FAULT_POINTS:-10}
echo "== $mode sanitizer: running the test suite from $build_dir"
status=0
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 || status=$?
if compgen -G "$reports/*" > /dev/null; then
  for report in "$reports"/*; do
    echo "== sanitizer report $(basename "$report"):"
    cat "$report"
  done
  echo "== $mode sanitizer: reports above (also in $reports)" >&2
  exit 1
fi
exit "$status"
