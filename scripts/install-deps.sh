#!/usr/bin/env bash
# Installs what xfer needs to build and test on Debian 12 (as root, or through sudo).
#
# Package installs must not start system services: a distribution sshd on port 22 or a MariaDB
# server would be noise at best (the tests start their own). Debian asks /usr/sbin/policy-rc.d
# whether a package may start its service; if the machine has none, a temporary one says no.
set -euo pipefail
packages=(build-essential cmake pkg-config
  dpkg-dev file  # scripts/package.sh: cpack's DEB generator runs dpkg-shlibdeps, which needs both
  libarchive-dev libzstd-dev libssl-dev libxxhash-dev libcli11-dev googletest libgtest-dev
  acl attr openssh-server openssh-client nftables iptables iproute2
  tar zstd  # the --to-archive tests restore with tar --zstd
  mariadb-server mariadb-client mariadb-backup  # the --type mariabackup tests start a server
  clang libclang-rt-14-dev)  # scripts/fuzz.sh: clang 14 and its libFuzzer/sanitizer runtimes
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# xfer install-deps: no service starts during install\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
