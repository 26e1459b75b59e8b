// A C++ consumer of the installed libcano through find_package(cano) and cano::cpp. It uses the
// C++ wrapper's header when the installation has one, and the C API in any case, so it works
// both before and after the wrapper is installed.
#if __has_include(<cano/cano.hpp>)
#include <cano/cano.hpp>
#endif
#include <cano/cano.h>

#include <cstdio>
#include <cstring>

static_assert(__cplusplus >= 201703L, "cano::cpp must compile its users as C++17");

int main() {
  if (std::strcmp(cano_version_string(), CANO_VERSION_STRING) != 0) {
    std::fprintf(stderr, "version mismatch: library %s, headers %s\n", cano_version_string(),
                 CANO_VERSION_STRING);
    return 1;
  }
  if (cano_abi_major() != CANO_ABI_MAJOR) {
    std::fprintf(stderr, "ABI major mismatch: library %d, headers %d\n", cano_abi_major(),
                 CANO_ABI_MAJOR);
    return 1;
  }

  cano_engine* engine = nullptr;
  cano_error* err = nullptr;
  const cano_status status = cano_engine_create(&engine, nullptr, &err);
  if (status != CANO_OK || engine == nullptr) {
    std::fprintf(stderr, "cano_engine_create failed: %d %s\n", static_cast<int>(status),
                 err != nullptr ? cano_error_message(err) : "(no error detail)");
    cano_error_free(err);
    return 1;
  }
  cano_engine_destroy(engine);

  std::printf("CMake consumer OK: libcano %s, ABI %d\n", cano_version_string(), cano_abi_major());
  return 0;
}
