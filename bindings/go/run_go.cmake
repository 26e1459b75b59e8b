# Runs the Go toolchain for a CTest test (bindings/go/CMakeLists.txt), in the current directory:
#   MODE=test  go vet ./... then go test -race -count=1 ./... (no -race when unavailable)
#   MODE=run   go run .
# Inputs (-D): GO, CC, PKG_CONFIG_PATH (the build tree's cano.pc), WORK_DIR (Go's caches).
# CGO_CPPFLAGS gets a fingerprint of libcano's headers (see below).

foreach(var GO CC PKG_CONFIG_PATH WORK_DIR MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_go.cmake needs -D${var}=...")
  endif()
endforeach()

# A self-contained Go environment: caches under the build tree, no toolchain downloads, cgo on,
# and -mod=mod so that a module without go.sum builds (neither module has dependencies).
set(ENV{PKG_CONFIG_PATH} "${PKG_CONFIG_PATH}")
set(ENV{GOFLAGS} "-mod=mod")
set(ENV{GOCACHE} "${WORK_DIR}/cache")
set(ENV{GOPATH} "${WORK_DIR}/gopath")
set(ENV{GOMODCACHE} "${WORK_DIR}/gopath/pkg/mod")
set(ENV{GOTOOLCHAIN} "local")
set(ENV{CGO_ENABLED} "1")
set(ENV{CC} "${CC}")
file(MAKE_DIRECTORY "${WORK_DIR}/cache" "${WORK_DIR}/gopath")

# Go's build cache does not track C headers outside the package (`go help cache`: "The build
# cache does not detect changes to C libraries imported with cgo"), so after a change to
# libcano's headers it would reuse cgo objects compiled against the old ones: the binding would
# then hand the library option structs of the old size (for example "cano_task_options.
# struct_size is 96, smaller than any released layout (104)" once a field was added). The
# C preprocessor flags are part of Go's cache key, so a fingerprint of the headers that
# `pkg-config --cflags cano` points at, passed as a harmless -D, makes any header change
# rebuild the cgo objects.
find_program(PKG_CONFIG_EXECUTABLE pkg-config)
set(header_fingerprint "")
if(PKG_CONFIG_EXECUTABLE)
  execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --cflags-only-I cano
    OUTPUT_VARIABLE include_flags RESULT_VARIABLE pc_result ERROR_QUIET
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(pc_result EQUAL 0)
    separate_arguments(include_flags UNIX_COMMAND "${include_flags}")
    set(headers_digest "")
    foreach(flag IN LISTS include_flags)
      string(REGEX REPLACE "^-I" "" dir "${flag}")
      file(GLOB headers "${dir}/cano/*.h")
      list(SORT headers)
      foreach(header IN LISTS headers)
        file(SHA256 "${header}" digest)
        string(APPEND headers_digest "${header}=${digest};")
      endforeach()
    endforeach()
    if(NOT headers_digest STREQUAL "")
      string(SHA256 header_fingerprint "${headers_digest}")
    endif()
  endif()
endif()
if(header_fingerprint STREQUAL "")
  message(STATUS "Could not fingerprint libcano's headers (pkg-config cano); Go's build cache "
                 "may keep cgo objects built against older headers")
else()
  string(SUBSTRING "${header_fingerprint}" 0 16 header_fingerprint)
  string(STRIP "$ENV{CGO_CPPFLAGS} -DCANO_GO_HEADERS=${header_fingerprint}" cppflags)
  set(ENV{CGO_CPPFLAGS} "${cppflags}")
endif()

function(run_or_fail)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()

if(MODE STREQUAL "run")
  run_or_fail(${GO} run .)
  return()
endif()

# Does this toolchain build race-enabled cgo programs? (It needs a supported 64-bit platform
# and the race runtime; Debian ships it with golang-go.)
set(probe "${WORK_DIR}/raceprobe")
file(MAKE_DIRECTORY "${probe}")
file(WRITE "${probe}/go.mod" "module raceprobe\n\ngo 1.19\n")
file(WRITE "${probe}/main.go" "package main\n\n// int probe(void) { return 0; }\nimport \"C\"\n\nfunc main() { _ = C.probe() }\n")
execute_process(COMMAND ${GO} build -race -o "${probe}/raceprobe" .
  WORKING_DIRECTORY "${probe}" RESULT_VARIABLE race_result OUTPUT_VARIABLE race_output
  ERROR_VARIABLE race_output)
set(race_flag -race)
if(NOT race_result EQUAL 0)
  message(STATUS "The race detector is unavailable with this Go toolchain; running the Go tests "
                 "without -race.\n${race_output}")
  set(race_flag)
endif()

run_or_fail(${GO} version)
run_or_fail(${GO} vet ./...)
run_or_fail(${GO} test ${race_flag} -count=1 ./...)
