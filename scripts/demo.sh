#!/usr/bin/env bash
# The main job, on one machine: install, build, then copy a sample directory from "host A" to
# "host B" on localhost with xfer-recv and xfer-send, and check the copy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=$PWD/build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/source" "$work/target"
cp -a /usr/include/openssl /usr/include/zstd.h "$work/source/"
head -c 64M /dev/urandom > "$work/source/random.bin"
echo "sending $(du -sh "$work/source" | cut -f1) from $work/source to $work/target"

# Target: prints its ticket (port + one-time secret) first; the sender reads it from its stdin.
coproc RECV { "$bin/xfer-recv" --listen 127.0.0.1 "$work/target"; }
read -r ticket <&"${RECV[0]}"
echo "$ticket" | "$bin/xfer-send" --to 127.0.0.1 "$work/source"
read -r report <&"${RECV[0]}"
wait "$RECV_PID"
echo "receiver: $report"
diff -r "$work/source" "$work/target/source" && echo "OK: the copy is identical"
