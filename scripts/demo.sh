#!/usr/bin/env bash
# The main job, on one machine: install, build, then copy a sample directory with `xfer` from
# "host A" to two targets in a chain (localhost runs each side without ssh; give real hosts
# instead and it goes through ssh), and check both copies.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=$PWD/build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/source" "$work/target1" "$work/target2"
cp -a /usr/include/openssl /usr/include/zstd.h "$work/source/"
head -c 64M /dev/urandom > "$work/source/random.bin"
echo "copying $(du -sh "$work/source" | cut -f1) from $work/source to two targets"

"$bin/xfer" "localhost:$work/source" "localhost:$work/target1" "localhost:$work/target2"

for target in target1 target2; do
  diff -r "$work/source" "$work/$target/source"
done
echo "OK: both copies are identical"

# The same pair by hand: the receiver prints its ticket (port + one-time secret) first, and the
# sender reads it from its stdin.
mkdir "$work/target3"
coproc RECV { "$bin/xfer-recv" --listen 127.0.0.1 "$work/target3"; }
read -r ticket <&"${RECV[0]}"
echo "$ticket" | "$bin/xfer-send" --to 127.0.0.1 "$work/source" > /dev/null
read -r report <&"${RECV[0]}"
wait "$RECV_PID"
echo "xfer-recv: $report"
diff -r "$work/source" "$work/target3/source" && echo "OK: the copy is identical"
