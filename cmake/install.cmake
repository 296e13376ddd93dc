# What `cmake --install` puts where (GNUInstallDirs; CMAKE_INSTALL_PREFIX=/usr gives Debian's
# multiarch lib/x86_64-linux-gnu), included from the top-level CMakeLists.txt:
#   bin/                            xfer, xfer-send, xfer-recv
#   LIBDIR/                         libxfer.so.0.1 (+ libxfer.so for linking)
#   include/xfer/                   the public headers
#   LIBDIR/cmake/xfer/              find_package(xfer) -> xfer::xfer
#   LIBDIR/pkgconfig/xfer.pc        pkg-config xfer
#   share/man/man1/                 man/*.1, gzipped
#   share/doc/xfer/examples/        examples/*.cc
# tests/install/install_test.sh installs into a scratch prefix and builds an example against it.
include(CMakePackageConfigHelpers)

# Programs installed outside the loader's default directories (a `cmake --install --prefix DIR`,
# /usr/local before ldconfig ran) find libxfer relative to themselves; in /usr (the .deb) they
# need no RPATH, which Debian asks packages not to set.
if(NOT CMAKE_INSTALL_FULL_LIBDIR IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  set_target_properties(xfer_program xfer-send xfer-recv PROPERTIES
    INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
endif()

install(TARGETS xfer_program xfer-send xfer-recv RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# (The include directory reaches xfer::xfer through the target's $<INSTALL_INTERFACE:...>.)
install(TARGETS xfer EXPORT xferTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/xfer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# find_package(xfer): the exported target plus a config that finds what its interface names.
set(XFER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xfer)
install(EXPORT xferTargets NAMESPACE xfer:: DESTINATION ${XFER_CMAKE_DIR})
configure_package_config_file(cmake/xferConfig.cmake.in ${PROJECT_BINARY_DIR}/xferConfig.cmake
  INSTALL_DESTINATION ${XFER_CMAKE_DIR})
# Before 1.0 a minor release may break the API, hence SameMinorVersion (0.1.x satisfies 0.1).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xferConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xferConfig.cmake ${PROJECT_BINARY_DIR}/xferConfigVersion.cmake
  DESTINATION ${XFER_CMAKE_DIR})

# xfer.pc names the prefix it is installed under, which `cmake --install --prefix DIR` and CPack
# choose only at install time: configuring leaves @CMAKE_INSTALL_PREFIX@ in it, and the second
# configure_file, which runs inside `cmake --install`, replaces it with that prefix.
set(XFER_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(XFER_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(XFER_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(cmake/xfer.pc.in ${PROJECT_BINARY_DIR}/xfer.pc.in @ONLY)
install(CODE
  "configure_file([[${PROJECT_BINARY_DIR}/xfer.pc.in]] [[${PROJECT_BINARY_DIR}/xfer.pc]] @ONLY)")
install(FILES ${PROJECT_BINARY_DIR}/xfer.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Man pages: whatever man/*.1 exist, gzipped as Debian wants them (gzip -n: no name or time stamp
# in the header, so the .deb's bytes do not depend on when it was built).
file(GLOB XFER_MAN_PAGES CONFIGURE_DEPENDS man/*.1)
set(XFER_MAN_GZ)
foreach(page IN LISTS XFER_MAN_PAGES)
  get_filename_component(name ${page} NAME)
  set(gz ${PROJECT_BINARY_DIR}/man/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E copy ${page} ${PROJECT_BINARY_DIR}/man/${name}
    COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/man/${name}
    DEPENDS ${page} VERBATIM)
  list(APPEND XFER_MAN_GZ ${gz})
endforeach()
add_custom_target(xfer_man_pages ALL DEPENDS ${XFER_MAN_GZ})
install(FILES ${XFER_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

file(GLOB XFER_EXAMPLES CONFIGURE_DEPENDS examples/*.cc)
install(FILES ${XFER_EXAMPLES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
