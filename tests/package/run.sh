#!/usr/bin/env bash
# Driver of the package-consumer tests (see tests/package/CMakeLists.txt, which sets the
# environment below for every test).
#
# usage: run.sh install | pkgconfig | cmake
#   install    installs the build tree into $CANO_PREFIX and checks what was installed;
#   pkgconfig  builds and runs tests/package/c/main.c with pkg-config's flags;
#   cmake      configures, builds and runs the CMake project in tests/package/cmake/.
#
# Environment: CANO_BUILD_DIR, CANO_PREFIX, CANO_WORK_DIR, CANO_LIBDIR (relative to the prefix),
# CANO_VERSION, CANO_SANITIZE (may be empty), CANO_CMAKE, CANO_GENERATOR, CANO_BUILD_TYPE, CC, CXX.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${CANO_BUILD_DIR:?}" "${CANO_PREFIX:?}" "${CANO_WORK_DIR:?}" "${CANO_LIBDIR:?}"
: "${CANO_VERSION:?}" "${CANO_SANITIZE=}" "${CANO_CMAKE:=cmake}" "${CANO_GENERATOR:=}"
: "${CANO_BUILD_TYPE:=Release}" "${CC:=cc}" "${CXX:=c++}"
libdir="$CANO_PREFIX/$CANO_LIBDIR"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A sanitized libcano.so needs sanitized consumers: the sanitizer runtime must be loaded first.
sanitize_flags=()
if [[ -n $CANO_SANITIZE ]]; then
  sanitize_flags=("-fsanitize=$CANO_SANITIZE" -fno-omit-frame-pointer)
fi

# Checks that the installed program loads libcano from the scratch prefix, not from the build
# tree or the system.
check_loads_installed_lib() {
  local program=$1 resolved
  resolved="$(ldd "$program" | awk '$1 ~ /^libcano\.so/ {print $3}')"
  [[ -n $resolved ]] || fail "$program does not load libcano"
  [[ "$(realpath "$resolved")" == "$(realpath "$libdir")"/* ]] \
    || fail "$program loads $resolved, not the library installed in $libdir"
}

do_install() {
  rm -rf "$CANO_PREFIX"
  "$CANO_CMAKE" --install "$CANO_BUILD_DIR" --prefix "$CANO_PREFIX"

  # The shared library: the real file, the SONAME link and the development link.
  local abi_major
  abi_major="$(sed -n 's/^#define CANO_ABI_MAJOR \([0-9]*\).*/\1/p' \
    "$CANO_PREFIX/include/cano/version.h")"
  [[ -n $abi_major ]] || fail "installed cano/version.h has no CANO_ABI_MAJOR"
  [[ -f $libdir/libcano.so.$CANO_VERSION && ! -L $libdir/libcano.so.$CANO_VERSION ]] \
    || fail "missing $libdir/libcano.so.$CANO_VERSION"
  [[ -L $libdir/libcano.so.$abi_major ]] || fail "missing SONAME link libcano.so.$abi_major"
  [[ -L $libdir/libcano.so ]] || fail "missing development link libcano.so"
  readelf -d "$libdir/libcano.so.$CANO_VERSION" | grep -q "Library soname: \[libcano.so.$abi_major\]" \
    || fail "libcano.so.$CANO_VERSION does not have SONAME libcano.so.$abi_major"

  # The headers: every installed header is a public one (from include/cano or generated), so no
  # internal header from src/ or capi/ leaks out.
  local src_include="$here/../../include"
  local header rel
  while IFS= read -r header; do
    rel="${header#"$CANO_PREFIX/include/"}"
    [[ -f $src_include/$rel || $rel == cano/version.h ]] \
      || fail "installed header $rel is not a public header"
  done < <(find "$CANO_PREFIX/include" -type f)
  for header in cano/cano.h cano/version.h cano/engine.h cano/export.h; do
    [[ -f $CANO_PREFIX/include/$header ]] || fail "$header was not installed"
  done
  if [[ -f $src_include/cano/cano.hpp && ! -f $CANO_PREFIX/include/cano/cano.hpp ]]; then
    fail "cano/cano.hpp was not installed"
  fi

  # The CMake package exports the two public targets and names nothing private.
  local cmakedir="$libdir/cmake/cano"
  for file in canoConfig.cmake canoConfigVersion.cmake canoTargets.cmake; do
    [[ -f $cmakedir/$file ]] || fail "missing $cmakedir/$file"
  done
  if grep -nEi 'cano_core|cano_deps|spdlog|fmt::|libuv|PkgConfig::|cjson|Threads::|sqlite' \
    "$cmakedir"/canoTargets*.cmake; then
    fail "the exported CMake targets name private dependencies (lines above)"
  fi

  [[ -f $libdir/pkgconfig/cano.pc ]] || fail "missing $libdir/pkgconfig/cano.pc"
  echo "install OK: $CANO_PREFIX"
}

do_pkgconfig() {
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  local version cflags libs
  pkg-config --exists --print-errors cano
  version="$(pkg-config --modversion cano)"
  [[ $version == "$CANO_VERSION" ]] || fail "pkg-config says version $version, expected $CANO_VERSION"

  # A shared build hides its dependencies: Libs is -L<libdir> -lcano and nothing else.
  libs="$(pkg-config --libs cano)"
  local flag
  for flag in $libs; do
    [[ $flag == -L* || $flag == -lcano ]] || fail "unexpected flag '$flag' in Libs: $libs"
  done
  cflags="$(pkg-config --cflags cano)"
  echo "pkg-config: cflags '$cflags' libs '$libs'"

  local out="$CANO_WORK_DIR/pkgconfig-consumer"
  # Warnings are shown but do not fail this test: tests/headers/ holds the headers to
  # -pedantic -Werror. $cflags and $libs are split into words on purpose, as a Makefile would.
  # shellcheck disable=SC2086
  "$CC" -std=c99 -Wall -Wextra -pedantic "${sanitize_flags[@]}" $cflags \
    "$here/c/main.c" -o "$out" $libs "-Wl,-rpath,$libdir"
  check_loads_installed_lib "$out"
  "$out"
}

do_cmake() {
  local build="$CANO_WORK_DIR/cmake-consumer"
  local args=(-S "$here/cmake" -B "$build"
    "-DCMAKE_PREFIX_PATH=$CANO_PREFIX" "-DEXPECTED_PREFIX=$CANO_PREFIX"
    "-DCMAKE_BUILD_TYPE=$CANO_BUILD_TYPE" "-DCMAKE_CXX_COMPILER=$CXX"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  if [[ -n $CANO_GENERATOR ]]; then
    args+=(-G "$CANO_GENERATOR")
  fi
  if ((${#sanitize_flags[@]})); then
    args+=("-DCMAKE_CXX_FLAGS=${sanitize_flags[*]}" "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags[*]}")
  fi
  rm -rf "$build"
  "$CANO_CMAKE" "${args[@]}"
  "$CANO_CMAKE" --build "$build" --config "$CANO_BUILD_TYPE"

  # Multi-config generators put the program in a per-configuration folder.
  local program
  program="$(find "$build" -type f -name consumer -perm -u+x | head -n 1)"
  [[ -n $program ]] || fail "the CMake consumer was not built"
  check_loads_installed_lib "$program"
  "$program"
}

case "${1:-}" in
  install) do_install ;;
  pkgconfig) do_pkgconfig ;;
  cmake) do_cmake ;;
  *)
    echo "usage: $0 install | pkgconfig | cmake" >&2
    exit 2
    ;;
esac
