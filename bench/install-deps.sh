#!/usr/bin/env bash
# Installs what the benchmark needs (Debian 12, as root), and only what is missing.
#
# Package installs must not start system services: a distribution sshd on port 22 or a
# MariaDB server would be noise at best. Debian asks /usr/sbin/policy-rc.d whether a
# package may start its service; if the machine has none, a temporary one says no.
set -euo pipefail

packages=(mariadb-server mariadb-client sysbench pigz zstd netcat-openbsd iperf3 rsync
  openssh-server openssh-client openssl python3 python3-matplotlib time iproute2 nftables
  tar coreutils procps util-linux
  build-essential cmake pkg-config libarchive-dev libzstd-dev libssl-dev libxxhash-dev
  libcli11-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# xfer bench: no service starts during install\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
echo "install-deps: installing ${missing[*]}" >&2
timeout 600 apt-get update -q
DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
