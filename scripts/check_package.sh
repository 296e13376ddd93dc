#!/usr/bin/env bash
# Proves the Debian package installs cleanly and works on a fresh Debian 12: bootstraps a minimal
# bookworm root with debootstrap, installs xfer_*.deb there with `apt-get install ./xfer_*.deb`
# (apt fetches its Depends from the mirror), then, inside that root, copies a tree over loopback
# with the installed xfer-recv/xfer-send and with `xfer localhost:SRC localhost:DIR`, checks both
# copies, and checks the man pages, libxfer and `pkg-config xfer` there.
#
# NOT part of CI or scripts/test.sh: it downloads about 50 MB from the Debian mirror (31 MB for
# the minimal system, 16 MB for the package's dependencies and recommends), takes about two
# minutes, and needs root (debootstrap, chroot).
#
#   scripts/check_package.sh [DEB]      default: the .deb scripts/package.sh builds
#   MIRROR=http://... scripts/check_package.sh    default: http://deb.debian.org/debian
#
# The root lives in a temporary directory: /proc, /sys and a private /dev/pts are mounted in it
# for the run, unmounted and the whole root removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "check_package.sh: needs root (debootstrap, chroot)" >&2; exit 2; }
mirror=${MIRROR:-http://deb.debian.org/debian}
deb=${1:-$(scripts/package.sh)}
[ -f "$deb" ] || { echo "check_package.sh: no package $deb" >&2; exit 2; }
step() { echo "== check_package: $*"; }

if ! command -v debootstrap > /dev/null; then
  step "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap > /dev/null
fi

root=$(mktemp -d /tmp/xfer-deb12.XXXXXX)
chmod 755 "$root"  # its /: mktemp's 0700 would keep apt's unprivileged _apt user out
cleanup() {
  for mount in "$root/dev/pts" "$root/sys" "$root/proc"; do
    if mountpoint -q "$mount"; then umount "$mount"; fi
  done
  # Never remove a root that still has something mounted in it.
  if ! grep -q " $root/" /proc/mounts; then rm -rf "$root"; else
    echo "check_package.sh: left $root (still mounted)" >&2
  fi
}
trap cleanup EXIT

step "debootstrap --variant=minbase bookworm $root $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log"; rm -f "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
step "bootstrapped: $(du -sm "$root/var/cache/apt/archives" | cut -f1) MB of packages downloaded"
# What an installed system has and a bare debootstrap root lacks: a resolver configuration,
# the installer's /etc/hosts (xfer resolves "localhost"), /proc, /sys (the CPU count).
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
# dpkg logs through a pseudo-terminal: a private devpts instance, not the host's.
mkdir -p "$root/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
# In /tmp, which apt's unprivileged _apt user can read (no "unsandboxed download" notice).
cp "$deb" "$root/tmp/"
chmod 644 "$root/tmp/$(basename "$deb")"
deb_name=$(basename "$deb")

# Everything below runs inside the fresh root, with a clean environment.
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive DEB="$deb_name" /bin/bash -euo pipefail -c '
step() { echo "== check_package (Debian $(cat /etc/debian_version)): $*"; }
fail() { echo "== check_package: FAIL: $*" >&2; exit 1; }
cd /tmp

step "apt-get install ./$DEB"
apt-get update -q > update.log 2>&1 || { cat update.log; fail "apt-get update"; }
apt-get install -y -q "./$DEB" > install.log 2>&1 ||
  { cat install.log; fail "apt-get install ./$DEB"; }
grep -E "^(Need to get|Get|Setting up)" install.log | sed "s/^/   /"
if grep -E "^(W|E|N): |dpkg: (warning|error)" install.log; then
  fail "apt-get install printed the above"
fi
[ "$(dpkg-query -W -f="\${Status}" xfer)" = "install ok installed" ] || fail "xfer not installed"
[ -z "$(dpkg --audit)" ] || { dpkg --audit; fail "dpkg --audit"; }
step "installed: $(dpkg-query -W -f="\${Package} \${Version}" xfer)"

for program in xfer xfer-send xfer-recv; do
  "$program" --version || fail "$program --version"
  [ -s "/usr/share/man/man1/$program.1.gz" ] || fail "no man page for $program"
done
# Captured first: `ldd | grep -q` under pipefail fails on SIGPIPE when grep exits early.
libs=$(ldd /usr/bin/xfer-send)
grep -Eq "libxfer\.so\.[0-9.]+ => /(usr/)?lib/" <<< "$libs" ||
  { echo "$libs"; fail "xfer-send does not load the installed libxfer"; }
grep -q "not found" <<< "$libs" && { echo "$libs"; fail "missing library"; }
step "xfer-send loads $(grep -o "libxfer\.so[^ ]* => [^ ]*" <<< "$libs")"

# A tree to copy: text, random bytes, a subdirectory, an empty one, a symlink.
mkdir -p /srv/data/sub/deeper /srv/data/empty /srv/by-hand /srv/orchestrated
head -c 5000000 /dev/urandom > /srv/data/random.bin
seq 1 100000 > /srv/data/sub/numbers
cp /etc/os-release /srv/data/sub/deeper/
ln -s ../random.bin /srv/data/sub/link

step "xfer-recv --listen 127.0.0.1 /srv/by-hand  +  xfer-send --to 127.0.0.1 /srv/data"
# The receiver prints its ticket, then its report; a fifo held open on fd 3 carries both.
mkfifo recv.out
xfer-recv --listen 127.0.0.1 /srv/by-hand > recv.out &
recv_pid=$!
exec 3< recv.out
read -r ticket <&3 || fail "xfer-recv printed no ticket"
[[ "$ticket" == xfer1:* ]] || fail "xfer-recv printed \"$ticket\", not a ticket"
echo "$ticket" | xfer-send --to 127.0.0.1 /srv/data > send.out || fail "xfer-send"
read -r report <&3 || true
wait "$recv_pid" || fail "xfer-recv exited non-zero"
exec 3<&-
echo "   xfer-recv: $report"
diff -r --no-dereference /srv/data /srv/by-hand/data || fail "the copy by hand differs"
step "copy by hand identical"

step "xfer localhost:/srv/data localhost:/srv/orchestrated"
xfer localhost:/srv/data localhost:/srv/orchestrated 2>&1 | sed "s/^/   /"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "xfer exited non-zero"
diff -r --no-dereference /srv/data /srv/orchestrated/data || fail "the copy by xfer differs"
step "copy by xfer identical"

# The .pc needs no -dev package: libxfer keeps its dependencies private.
apt-get install -y -q --no-install-recommends pkgconf > pkgconf.log 2>&1 ||
  { cat pkgconf.log; fail "apt-get install pkgconf"; }
flags=$(pkg-config --cflags --libs xfer) || fail "pkg-config xfer"
flags=$(echo $flags)  # pkg-config ends with a space
step "pkg-config --cflags --libs xfer: $flags (version $(pkg-config --modversion xfer))"
[ "$flags" = "-lxfer" ] || fail "pkg-config flags"
step "OK"
'
step "OK: $deb installs cleanly on a fresh Debian 12 and transfers"
