#!/bin/bash
# Issue 14 §5: "a 1 TB sparse file holding 10 MB of data transfers and verifies in under 2 s".
# Makes such a file (ten 1 MiB pieces of random data spread over 1 TiB of holes), sends it over
# loopback with xfer-send / xfer-recv, checks the copy (same content digest by `cmp` of the data
# pieces, same size, still sparse) and prints the wall time of the sender, launch to exit.
#
#   bench/sparse.sh [--xfer-bin DIR] [--workdir DIR] [--reps N] [--size BYTES] [-- XFER-SEND-FLAGS]
#
# --xfer-bin: where xfer-send and xfer-recv are (default ./build). --workdir: on a filesystem with
# holes (ext4, xfs, tmpfs; default /var/tmp/xfer-sparse-bench, removed at the end). --size: the
# file's apparent size (default 1 TiB). --reps: repetitions (default 3).
set -euo pipefail

xfer_bin=./build
workdir=/var/tmp/xfer-sparse-bench
reps=3
size=$((1 << 40))
while [[ $# -gt 0 ]]; do
  case "$1" in
    --xfer-bin) xfer_bin=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "sparse.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
fail() { echo "sparse.sh: $*" >&2; exit 1; }

rm -rf "$workdir"
mkdir -p "$workdir/src/sparse" "$workdir/dst"
file="$workdir/src/sparse/big"
truncate -s "$size" "$file"
for i in $(seq 0 9); do
  dd if=/dev/urandom of="$file" bs=1M count=1 seek=$((size / 10 / 1048576 * i)) conv=notrunc \
    status=none
done
[[ $(stat -c %s "$file") == "$size" ]] || fail "the filesystem under $workdir made no sparse file"

for rep in $(seq 1 "$reps"); do
  rm -rf "$workdir/dst/sparse"
  coproc recv { timeout 600 "$xfer_bin/xfer-recv" --listen 127.0.0.1 "$workdir/dst" 2>"$workdir/recv.err"; }
  recv_pid=$recv_PID  # bash unsets recv_PID once the coprocess ended
  read -r -t 30 ticket <&"${recv[0]}" || fail "xfer-recv printed no ticket"
  t0=$(date +%s.%N)
  printf '%s\n' "$ticket" | timeout 600 "$xfer_bin/xfer-send" --to 127.0.0.1 "$@" "$workdir/src/sparse" \
    >/dev/null 2>"$workdir/send.err" || fail "xfer-send failed: $(cat "$workdir/send.err")"
  t1=$(date +%s.%N)
  wait "$recv_pid" || fail "xfer-recv failed: $(cat "$workdir/recv.err")"
  copy="$workdir/dst/sparse/big"
  [[ $(stat -c %s "$copy") == "$size" ]] || fail "the copy has the wrong size"
  blocks=$(stat -c %b "$copy")
  ((blocks * 512 < 64 << 20)) || fail "the copy is not sparse: $blocks blocks"
  for i in $(seq 0 9); do
    skip=$((size / 10 / 1048576 * i))
    cmp <(dd if="$file" bs=1M count=1 skip=$skip status=none) \
      <(dd if="$copy" bs=1M count=1 skip=$skip status=none) || fail "data piece $i differs"
  done
  printf 'rep %d: %.2f s, copy holds %d KiB\n' "$rep" "$(echo "$t1 - $t0" | bc)" $((blocks / 2))
done
rm -rf "$workdir"
