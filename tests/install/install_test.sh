#!/usr/bin/env bash
# The installed xfer is usable on its own: `cmake --install` into a scratch prefix, then
# examples/embed_example.cc built OUT OF TREE against that prefix twice, with CMake
# (find_package(xfer) + xfer::xfer, tests/install/consumer/) and with the compiler and
# `pkg-config --cflags --libs xfer`; each binary copies a small tree over loopback and the copy
# must equal the source. Also checks the installed layout, that every public header compiles on
# its own as C++17 with pkg-config's flags, and that the installed programs run against the
# installed libxfer. About 6 s (10 s under ASan). Registered in tests/CMakeLists.txt, label
# "install":
#   install_test.sh SOURCE_DIR BUILD_DIR LIBDIR MANDIR DOCDIR VERSION SOVERSION CXX [CXXFLAGS]
# CXX and CXXFLAGS are the build's own: under scripts/sanitize.sh libxfer is instrumented, and a
# program linking it must be too.
set -euo pipefail
[ $# -ge 8 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
src=$1 build=$2 libdir=$3 mandir=$4 docdir=$5 version=$6 soversion=$7 cxx=$8
read -r -a cxxflags <<< "${9:-}"
unset DESTDIR

work=$(mktemp -d "${TMPDIR:-/tmp}/xfer-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
step() { echo "install_test: $*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log" ||
  { cat "$work/install.log"; fail "cmake --install failed"; }

# The layout (GNUInstallDirs).
for f in bin/xfer bin/xfer-send bin/xfer-recv "$libdir/libxfer.so" "$libdir/libxfer.so.$soversion" \
    "$libdir/cmake/xfer/xferConfig.cmake" "$libdir/cmake/xfer/xferConfigVersion.cmake" \
    "$libdir/cmake/xfer/xferTargets.cmake" "$libdir/pkgconfig/xfer.pc" \
    "$docdir/examples/embed_example.cc"; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
for h in "$src"/include/xfer/*.h; do
  cmp -s "$h" "$prefix/include/xfer/${h##*/}" || fail "include/xfer/${h##*/} is not installed"
done
[ "$(readelf -d "$prefix/$libdir/libxfer.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = \
  "libxfer.so.$soversion" ] || fail "libxfer.so has no SONAME libxfer.so.$soversion"
pages=0
for page in "$src"/man/*.1; do
  [ -e "$page" ] || continue
  installed=$prefix/$mandir/man1/${page##*/}.gz
  zcat "$installed" 2>/dev/null | cmp -s - "$page" || fail "man page ${page##*/} is not installed"
  pages=$((pages + 1))
done
step "layout ok: programs, libxfer.so.$soversion, headers, cmake config, xfer.pc, $pages man pages"

# The installed programs load the installed libxfer (their RPATH), not the build tree's. ldd's
# output is captured first: `ldd | grep -q` under pipefail fails when grep exits before ldd has
# written its last line (SIGPIPE), as it did in CI under TSan's longer list.
for program in xfer xfer-send xfer-recv; do
  libs=$(ldd "$prefix/bin/$program") || fail "ldd bin/$program failed"
  grep -q "libxfer.so.$soversion => $prefix/" <<< "$libs" ||
    fail "bin/$program does not load $prefix/$libdir/libxfer.so.$soversion"
  out=$("$prefix/bin/$program" --version) || fail "bin/$program --version failed"
  [[ "$out" == "$program $version "* ]] || fail "bin/$program --version printed '$out'"
done

# A small tree for the examples to copy.
tree=$work/tree
mkdir -p "$tree/sub/deeper" "$tree/empty"
printf 'hello from the installed libxfer\n' > "$tree/a.txt"
head -c 300000 /dev/urandom > "$tree/sub/random.bin"
seq 1 20000 > "$tree/sub/deeper/numbers"
ln -s ../a.txt "$tree/sub/link"

# copy_and_compare NAME COMMAND...: runs COMMAND (an embed_example) with SOURCE DEST_DIR and
# compares what it copied.
copy_and_compare() {
  local name=$1 dest=$work/dest-$1
  shift
  mkdir "$dest"
  "$@" "$tree" "$dest" > "$work/$name.out" 2> "$work/$name.err" ||
    { cat "$work/$name.err"; fail "$name: embed_example failed"; }
  diff -r --no-dereference "$tree" "$dest/tree" || fail "$name: the copy differs from the source"
  step "$name: embed_example copied the tree, identical"
}

# 1. CMake: find_package(xfer) finds the prefix's config and xfer::xfer builds the example.
mkdir "$work/cmake-src"
cp "$src/tests/install/consumer/CMakeLists.txt" "$src/examples/embed_example.cc" "$work/cmake-src/"
CXX=$cxx cmake -S "$work/cmake-src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="${cxxflags[*]}" > "$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "configuring against find_package(xfer) failed"; }
grep -q "xfer $version from $prefix/$libdir/cmake/xfer" "$work/cmake.log" ||
  { cat "$work/cmake.log"; fail "find_package(xfer) did not find $version in $prefix"; }
cmake --build "$work/cmake-build" > "$work/cmake-build.log" 2>&1 ||
  { cat "$work/cmake-build.log"; fail "building against xfer::xfer failed"; }
copy_and_compare cmake "$work/cmake-build/embed_example"

# 2. pkg-config: the prefix the .pc names is the one it was installed into (--prefix, chosen at
# install time), and its flags alone build the example.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
[ "$(pkg-config --modversion xfer)" = "$version" ] || fail "pkg-config --modversion xfer"
[ "$(pkg-config --variable=prefix xfer)" = "$prefix" ] || fail "xfer.pc names prefix \
'$(pkg-config --variable=prefix xfer)', not $prefix"
# Every public header compiles on its own with just those flags (the compiler's default standard:
# C++17 for GCC 12, which xfer::xfer's cxx_std_17 also promises).
for h in "$prefix"/include/xfer/*.h; do
  # shellcheck disable=SC2046  # pkg-config's output is meant to be split into words
  echo "#include <xfer/${h##*/}>" | "$cxx" "${cxxflags[@]}" -Wall -Wextra -Werror -fsyntax-only \
    -x c++ $(pkg-config --cflags xfer) - || fail "xfer/${h##*/} does not compile on its own"
done
# shellcheck disable=SC2046
"$cxx" "${cxxflags[@]}" -Wall -Wextra -Werror -o "$work/embed_example_pc" \
  "$src/examples/embed_example.cc" $(pkg-config --cflags --libs xfer) ||
  fail "building with pkg-config --cflags --libs xfer failed"
copy_and_compare pkg-config env LD_LIBRARY_PATH="$prefix/$libdir" "$work/embed_example_pc"
step "ok"
