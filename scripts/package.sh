#!/usr/bin/env bash
# Builds the Debian package xfer_<version>_amd64.deb and prints its path: a Release build for
# /usr in its own directory (./build-package, or $BUILD_DIR; tests off), then `cpack -G DEB`
# (cmake/deb_package.cmake; dpkg-shlibdeps fills in Depends). Needs what scripts/install-deps.sh
# installs (dpkg-dev and file for dpkg-shlibdeps). scripts/check_package.sh installs the result
# on a fresh Debian 12 and runs a transfer there.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(realpath -m "${BUILD_DIR:-build-package}")
# Debian's own compiler and linker flags for packages (dpkg-buildflags): -O2, the hardening
# options (stack protector, _FORTIFY_SOURCE, format checks, full RELRO; +all adds bindnow), no -g
# (the package ships stripped). -O2 rather than CMake's Release -O3 also sidesteps GCC 12's false
# -Wrestrict inside std::string that -O3 -Werror turns into an error (archive_source_walk.cc).
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CXXFLAGS_MAINT_STRIP=-g \
  dpkg-buildflags --export=sh)"
# CMAKE_INSTALL_PREFIX=/usr: GNUInstallDirs then picks Debian's multiarch lib/x86_64-linux-gnu,
# where the loader finds libxfer without an RPATH.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_CXX_FLAGS="$CPPFLAGS $CXXFLAGS" -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG \
  -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS" \
  -DBUILD_TESTING=OFF > /dev/null
cmake --build "$build_dir" -j"$(nproc)" > /dev/null
rm -f "$build_dir"/xfer_*.deb
(cd "$build_dir" && cpack -G DEB > cpack.log 2>&1) || { cat "$build_dir/cpack.log" >&2; exit 1; }
debs=("$build_dir"/xfer_*.deb)
[ -f "${debs[0]}" ] || { echo "package.sh: cpack made no xfer_*.deb" >&2; exit 1; }
echo "${debs[0]}"
