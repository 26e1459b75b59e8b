# Installation rules: the shared library with its SONAME symlinks, the public headers, a
# pkg-config file and a relocatable CMake package (find_package(cano CONFIG) gives cano::cano and
# cano::cpp).
#
# Only the C ABI is installed. The core (cano_core) is an object library whose objects are
# linked into libcano.so; it is never installed or exported. libcano.so links libuv, cJSON,
# spdlog and Threads PRIVATE, so consumers of the shared library need none of them and the
# CMake package calls no find_dependency().
#
# Components: "Runtime" holds libcano.so.<VERSION> and its SONAME link; "Development" holds the
# unversioned link, the headers, cano.pc and the CMake package. A plain `cmake --install` installs
# both.

include(CMakePackageConfigHelpers)

set(CANO_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/cano"
    CACHE STRING "Where to install the CMake package files, relative to the prefix")
mark_as_advanced(CANO_INSTALL_CMAKEDIR)

# The header-only wrapper target is called cano_cpp in this tree (a target name cannot contain
# "::"); consumers of the installed package see it as cano::cpp.
set_target_properties(cano_cpp PROPERTIES EXPORT_NAME cpp)

install(TARGETS cano cano_cpp
  EXPORT canoTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
          COMPONENT Runtime
          NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Development
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT Runtime)
# cano::cano carries the include directory itself ($<INSTALL_INTERFACE:include> in the top-level
# CMakeLists.txt) and cano::cpp inherits it, so no INCLUDES DESTINATION is given here.

# Public headers. The globs run at configure time; headers added later are picked up by the next
# configure, which CMake triggers itself because the source globs use CONFIGURE_DEPENDS.
# Directories (cpp/, sys/) are installed whole when they exist, but only their headers.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/cano/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/cano"
  COMPONENT Development
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/include/cano/version.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/cano"
  COMPONENT Development)

# The CMake package: canoTargets.cmake (the imported targets, relocatable), canoConfig.cmake and
# canoConfigVersion.cmake (same major version is compatible, as the SONAME promises).
install(EXPORT canoTargets
  NAMESPACE cano::
  DESTINATION "${CANO_INSTALL_CMAKEDIR}"
  COMPONENT Development)
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/canoConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/canoConfig.cmake"
  INSTALL_DESTINATION "${CANO_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cmake/canoConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/cmake/canoConfig.cmake"
  "${PROJECT_BINARY_DIR}/cmake/canoConfigVersion.cmake"
  DESTINATION "${CANO_INSTALL_CMAKEDIR}"
  COMPONENT Development)

# pkg-config. The prefix is only known for sure at install time (`cmake --install --prefix P`
# overrides the configured one), so the file is written in two steps: at configure time every
# value but the prefix is filled in; at install time the prefix the installation really uses is
# filled in and the result is installed. libdir and includedir stay relative to ${prefix} unless
# they were configured as absolute paths. The shared library hides its dependencies, so Libs
# names only -lcano and there is no Requires.private / Libs.private.
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(CANO_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(CANO_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
# Keep the prefix placeholder in the first step; the install-time step replaces it.
set(CANO_PC_PREFIX "@CANO_PC_PREFIX@")
configure_file("${PROJECT_SOURCE_DIR}/pkgconfig/cano.pc.in"
  "${PROJECT_BINARY_DIR}/pkgconfig/cano.pc.stage" @ONLY)
unset(CANO_PC_PREFIX)
install(CODE "
  set(CANO_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/pkgconfig/cano.pc.stage\"
                 \"${PROJECT_BINARY_DIR}/pkgconfig/cano.pc\" @ONLY)
  " COMPONENT Development)
install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/cano.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
  COMPONENT Development)
