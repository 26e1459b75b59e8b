// cano/cpp/detail/c_memory.hpp - owners for memory the library hands out (internal).
//
// Strings and buffers documented as "free with cano_free" are held by c_ptr, so that they are
// released even when the code that copies them out throws.
//
// Since 0.1.0.
#pragma once

#include <memory>
#include <string>

#include "cano/error.h"

namespace cano::detail {

struct c_free {
  void operator()(void* ptr) const noexcept { cano_free(ptr); }
};

template <class T>
using c_ptr = std::unique_ptr<T, c_free>;

// A copy of a library string that may be NULL ("" then); the original is freed.
inline std::string take_string(char* text) {
  c_ptr<char> owned(text);
  return owned ? std::string(owned.get()) : std::string();
}

// A shared_ptr that does not own `ptr`: a borrowed handle with the same interface as an owned
// one. The caller guarantees that the object outlives every copy.
template <class T>
std::shared_ptr<T> borrow(T* ptr) noexcept {
  return std::shared_ptr<T>(std::shared_ptr<T>(), ptr);
}

}  // namespace cano::detail
