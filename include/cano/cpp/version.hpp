// cano/cpp/version.hpp - the version the wrapper was compiled against and the library's.
//
// The wrapper is header-only, so it is compiled against one version of the C headers and may
// run against another shared library. abi_compatible() tells whether the loaded library keeps
// the ABI these headers describe.
//
// Since 0.1.0.
#pragma once

#include <string>

#include "cano/version.h"

namespace cano {

// The headers' version.
inline constexpr int compiled_version_number = CANO_VERSION_NUMBER;
inline constexpr int compiled_abi_major = CANO_ABI_MAJOR;

// The loaded library's version.
inline std::string version_string() { return cano_version_string(); }
inline int version_number() noexcept { return cano_version_number(); }
inline int abi_major() noexcept { return cano_abi_major(); }

// True when the loaded library has the ABI major these headers were written for.
inline bool abi_compatible() noexcept { return cano_abi_major() == CANO_ABI_MAJOR; }

}  // namespace cano
