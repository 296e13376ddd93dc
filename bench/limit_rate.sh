#!/bin/bash
# Measures how well xfer-send --limit-rate holds its rate: one real transfer on loopback (TLS,
# uncompressed, so every byte read is a byte on the wire), the sender's --json progress events
# (wire_bytes, seconds) turned into the wire rate over every 10 s window, and the largest
# deviation from the limit. The promise is within 5% over any 10 s; the design aims at 1%.
#
#   bench/limit_rate.sh [--rate 100M] [--seconds 40] [--xfer-bin DIR] [--workdir DIR]
#
# --xfer-bin: where xfer-send and xfer-recv are built (default /tmp/bench-build).
# --workdir: scratch space for the source and its copy, both rate x seconds (default
# /dev/shm/xfer-limit-rate, so the disk is never what limits; it is removed afterwards).
set -euo pipefail

rate=100M
seconds=40
xfer_bin=/tmp/bench-build
workdir=/dev/shm/xfer-limit-rate
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --xfer-bin) xfer_bin=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) echo "limit_rate.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

for program in xfer-send xfer-recv; do
  if [[ ! -x "$xfer_bin/$program" ]]; then
    echo "limit_rate.sh: $xfer_bin/$program not found; build xfer there first" >&2
    exit 2
  fi
done

# The rate in bytes per second, as xfer's ParseSize reads it (powers of 1024).
rate_bytes=$(python3 -c '
import re, sys
m = re.fullmatch(r"(\d+)([KkMmGg]?)", sys.argv[1])
if not m: sys.exit("limit_rate.sh: --rate: not a rate like 100M")
print(int(m[1]) << {"": 0, "k": 10, "m": 20, "g": 30}[m[2].lower()])' "$rate")

receiver_pid=
cleanup() {
  if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT
rm -rf "$workdir"
mkdir -p "$workdir/src/data" "$workdir/dst"

# Enough data for the run to last `seconds` at the limit: 64 MiB random blocks, copied.
total_bytes=$((rate_bytes * seconds))
blocks=$(( (total_bytes + (64 << 20) - 1) / (64 << 20) ))
head -c $((64 << 20)) /dev/urandom >"$workdir/block"
for ((i = 0; i < blocks; i++)); do cp "$workdir/block" "$workdir/src/data/part$i"; done
rm "$workdir/block"
echo "source: $blocks x 64 MiB, limit $rate ($rate_bytes bytes/s), expecting ~$seconds s" >&2

coproc RECEIVER { exec "$xfer_bin/xfer-recv" --listen 127.0.0.1 --no-sync "$workdir/dst"; }
receiver_pid=$RECEIVER_PID
read -r -t 30 ticket <&"${RECEIVER[0]}"
echo "$ticket" | "$xfer_bin/xfer-send" --to 127.0.0.1 --no-compress --json \
  --limit-rate "$rate" "$workdir/src/data" >"$workdir/events.jsonl"
wait "$receiver_pid"
receiver_pid=

python3 - "$rate_bytes" "$workdir/events.jsonl" <<'EOF'
import json, sys

rate = int(sys.argv[1])
points = []
summary = None
for line in open(sys.argv[2]):
    event = json.loads(line)
    if event.get("event") == "progress":
        points.append((event["seconds"], event["wire_bytes"]))
    else:
        summary = event
if len(points) < 2 or points[-1][0] - points[0][0] < 10:
    sys.exit("limit_rate.sh: the transfer lasted less than 10 s; raise --seconds")

# Every window of at least 10 s between two progress events: from each event, to the first one
# 10 s or more later. Events come about once a second, right after a frame was written.
windows = []
j = 0
for i, (t0, w0) in enumerate(points):
    while j < len(points) and points[j][0] - t0 < 10:
        j += 1
    if j == len(points):
        break
    t1, w1 = points[j]
    windows.append((t0, t1, (w1 - w0) / (t1 - t0)))

mib = 1 << 20
print(f"limit: {rate / mib:.1f} MiB/s; {len(points)} progress events over "
      f"{points[-1][0]:.1f} s; {len(windows)} windows of 10 s")
print(f"{'from s':>8} {'to s':>8} {'MiB/s':>9} {'deviation':>10}")
for t0, t1, r in windows:
    print(f"{t0:8.2f} {t1:8.2f} {r / mib:9.2f} {100 * (r / rate - 1):+9.2f}%")
worst = max(windows, key=lambda w: abs(w[2] / rate - 1))
average = (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
print(f"max deviation: {100 * (worst[2] / rate - 1):+.2f}% (window {worst[0]:.2f}-{worst[1]:.2f} s)")
print(f"highest window: {max(w[2] for w in windows) / mib:.2f} MiB/s; lowest: "
      f"{min(w[2] for w in windows) / mib:.2f} MiB/s; average from first to last event: "
      f"{average / mib:.2f} MiB/s")
if summary:
    print("sender's result:", json.dumps(summary))
EOF
