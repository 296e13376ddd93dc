# The Debian package, built by scripts/package.sh (Release, CMAKE_INSTALL_PREFIX=/usr, then
# `cpack -G DEB`): xfer_<version>_amd64.deb holding everything cmake/install.cmake installs.
# One package for the programs, the library and its development files, simple to install and to
# check; Debian's usual split (libxfer0.1 for the library, libxfer-dev for headers, libxfer.so,
# the CMake and pkg-config files) can follow once other programs depend on libxfer.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME xfer)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "xfer maintainers <xfer@localhost>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "fast, encrypted, verified transfer of directories between hosts on a LAN")
# The extended description under that summary line (CPack indents it and turns the empty line
# into Debian's " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"xfer copies a directory, an archive or a stream (a database backup) to
one or more hosts in one pass: compressed with zstd on every core, sent
over TLS 1.3 keyed by a one-time ticket, checksummed per chunk, per file
and whole, and renamed into place only once verified and synced.

This package holds the xfer, xfer-send and xfer-recv programs, their
manual pages, and libxfer with its headers, CMake package (xfer::xfer)
and pkg-config file for programs that embed it.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# xfer_0.1.0_amd64.deb (Debian's own naming; no revision, as this is not a distribution build).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# dpkg-shlibdeps turns the programs' and libxfer's NEEDED libraries into Depends; the shlibs file
# and the ldconfig trigger come with the shared libxfer.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# xfer reaches other hosts with ssh; --type mariabackup runs mariadb-backup and mbstream;
# --open-firewall uses nft (or iptables).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openssh-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mariadb-backup, nftables | iptables")
include(CPack)
