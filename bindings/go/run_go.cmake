# Runs the Go toolchain for a CTest test (bindings/go/CMakeLists.txt), in the current directory:
#   MODE=test  go vet ./... then go test -race -count=1 ./... (no -race when unavailable)
#   MODE=run   go run .
# Inputs (-D): GO, CC, PKG_CONFIG_PATH (the build tree's cano.pc), WORK_DIR (Go's caches).

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
