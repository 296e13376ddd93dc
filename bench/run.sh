#!/usr/bin/env bash
# The xfer benchmark: xfer against the pipelines it replaces, side by side. See bench/README.md.
#
#   sudo bench/run.sh [--quick] [--datasets db,small,big,db2,db4] [--scenarios loopback,1g,10g]
#                     [--reps N] [--contenders a,b,...] [--xfer-threads N] [--workdir DIR]
#                     [--xfer-bin DIR] [--out DIR] [--name NAME] [--no-install] [--no-build]
#
# Installs what it needs (apt-get, idempotent), builds xfer-send/xfer-recv into --xfer-bin
# (default /tmp/bench-build), prepares and caches the datasets under --workdir (default
# /dev/shm/xfer-bench), runs everything, writes bench/results/<date>.{md,json,png}.
# `bench/run.sh --help` lists every option of the runner.
set -euo pipefail

command="sudo bench/run.sh $*"   # recorded in the results as given
bench_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench_dir")
xfer_bin=/tmp/bench-build
workdir=/dev/shm/xfer-bench
install=1 build=1
runner_args=()

while [ $# -gt 0 ]; do
  case $1 in
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --xfer-bin) xfer_bin=$2; runner_args+=("$1" "$2"); shift ;;
    --workdir) workdir=$2; runner_args+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exec /usr/bin/python3 "$bench_dir/harness/main.py" --help ;;
    *) runner_args+=("$1") ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (namespaces, tc, nft, apt-get): sudo $0" >&2; exit 2; }

# One benchmark at a time: two would share namespaces, ports and cores.
exec 9> /run/lock/xfer-bench.lock
flock -n 9 || { echo "run.sh: another benchmark is running" >&2; exit 1; }

runner_pid=""
cleanup() {
  # The runner cleans up after itself; this is the backstop for when it could not (killed
  # hard): end it, then everything left in the benchmark's namespaces, then the namespaces.
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true
    timeout 30 tail --pid="$runner_pid" -f /dev/null || kill -KILL "$runner_pid" 2>/dev/null || true
  fi
  "$bench_dir/netns.sh" down || true
  # Copies are RAM on tmpfs: a received copy, or the N copies of a dbN dataset, of a run
  # that was killed hard must not stay behind (cached datasets do stay).
  rm -rf "$workdir/scaled" "$workdir"/runs/*/*/dst
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$install" -eq 0 ] || "$bench_dir/install-deps.sh"

if [ "$build" -eq 1 ]; then
  # Only the two programs: the benchmark must not depend on the test suite compiling.
  # Same build type as scripts/build.sh.
  echo "run.sh: building xfer-send and xfer-recv into $xfer_bin" >&2
  timeout 1800 cmake -S "$repo" -B "$xfer_bin" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBUILD_TESTING=OFF > /dev/null
  timeout 1800 cmake --build "$xfer_bin" --target xfer-send xfer-recv -j"$(nproc)" > /dev/null
fi

"$bench_dir/netns.sh" down  # leftovers of a run that was killed hard

export XB_COMMAND="$command"
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the work tree
/usr/bin/python3 "$bench_dir/harness/main.py" "${runner_args[@]}" &
runner_pid=$!
wait "$runner_pid"
