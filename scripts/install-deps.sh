#!/usr/bin/env bash
# Installs what xfer needs to build and test on Debian 12 (as root, or through sudo).
set -euo pipefail
packages=(build-essential cmake pkg-config
  libarchive-dev libzstd-dev libssl-dev libxxhash-dev libcli11-dev googletest libgtest-dev
  acl attr openssh-server openssh-client nftables iptables iproute2
  clang libclang-rt-14-dev)  # scripts/fuzz.sh: clang 14 and its libFuzzer/sanitizer runtimes
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
