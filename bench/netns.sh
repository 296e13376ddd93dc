#!/usr/bin/env bash
# The benchmark's private networks. Every process the benchmark starts runs inside one of
# these namespaces, so its traffic never leaves this machine and its counters see only ours.
#
#   netns.sh loopback        namespace xb-lo: only its own lo (127.0.0.1)
#   netns.sh link RATE       namespaces xb-snd (10.77.0.1) and xb-rcv (10.77.0.2) joined
#                            by a veth pair, each direction shaped by tbf to RATE (1gbit, 10gbit)
#   netns.sh down            kill whatever still runs in them, delete them (idempotent)
#
# netem is not built into this kernel; tbf is, and a rate limit is what a LAN link is.
set -euo pipefail

NAMESPACES=(xb-lo xb-snd xb-rcv)

exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

new_ns() {
  exists "$1" && ip netns delete "$1"
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# tbf needs a bucket of at least one rate-tick of bytes and room for a 64 KiB GSO segment;
# rate/1000 (one millisecond) with a 256 KiB floor does both. latency bounds the queue.
shape() {  # shape NS DEV RATE
  local bits burst
  bits=$(rate_bits "$3")
  burst=$(( bits / 8 / 1000 ))
  [ "$burst" -ge 262144 ] || burst=262144
  ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst "$burst" latency 20ms
}

rate_bits() {  # 1gbit -> 1000000000
  local v=${1%bit} mult=1
  case $v in
    *g) mult=1000000000; v=${v%g} ;;
    *m) mult=1000000; v=${v%m} ;;
    *k) mult=1000; v=${v%k} ;;
  esac
  echo $(( v * mult ))
}

up_loopback() {
  new_ns xb-lo
}

up_link() {
  local rate=${1:?rate, e.g. 1gbit}
  new_ns xb-snd
  new_ns xb-rcv
  ip link add xb-veth-s netns xb-snd type veth peer name xb-veth-r netns xb-rcv
  ip -n xb-snd addr add 10.77.0.1/24 dev xb-veth-s
  ip -n xb-rcv addr add 10.77.0.2/24 dev xb-veth-r
  ip -n xb-snd link set xb-veth-s up
  ip -n xb-rcv link set xb-veth-r up
  shape xb-snd xb-veth-s "$rate"
  shape xb-rcv xb-veth-r "$rate"
}

down() {
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    exists "$ns" || continue
    # Anything left (a listener whose sender died, an sshd) is ours: end it first, or the
    # namespace would linger as long as it runs.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" || true
  done
}

case ${1:-} in
  loopback) up_loopback ;;
  link) up_link "${2:-}" ;;
  down) down ;;
  *) echo "usage: netns.sh loopback | link RATE | down" >&2; exit 2 ;;
esac
