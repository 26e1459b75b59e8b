// The ABI boundary: every extern "C" function body runs inside guard(), so that no C++
// exception ever crosses into C, and every failure becomes a status plus an optional error.
#pragma once

#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "src/error.hpp"

namespace cano::capi {

template <class Body>
cano_status guard(cano_error** err, Body&& body) noexcept {
  if (err != nullptr) *err = nullptr;
  try {
    return std::forward<Body>(body)();
  } catch (detail::Failure& failure) {
    cano_status code = failure.error().code;
    detail::store_error(err, std::move(failure.error()));
    return code;
  } catch (const std::bad_alloc&) {
    detail::store_error(err, detail::Error(CANO_E_NO_MEMORY, "out of memory"));
    return CANO_E_NO_MEMORY;
  } catch (const std::exception& e) {
    detail::store_error(err,
                        detail::Error(CANO_E_INTERNAL, std::string("internal error: ") + e.what()));
    return CANO_E_INTERNAL;
  } catch (...) {
    detail::store_error(err, detail::Error(CANO_E_INTERNAL, "internal error: unknown exception"));
    return CANO_E_INTERNAL;
  }
}

// Fails with CANO_E_INVALID_ARGUMENT naming the parameter when `pointer` is NULL.
template <class T>
void require(const T* pointer, const char* what) {
  if (pointer == nullptr)
    detail::fail(CANO_E_INVALID_ARGUMENT, std::string(what) + " must not be NULL");
}

// Fails when a C string argument is NULL or empty.
inline void require_text(const char* text, const char* what) {
  if (text == nullptr || *text == '\0') {
    detail::fail(CANO_E_INVALID_ARGUMENT, std::string(what) + " must be a non-empty string");
  }
}

// Copies a caller's options struct of any released size into a zero-initialised full-size one.
template <class Options>
Options read_options(const Options* given, size_t oldest_size, const char* what) {
  Options copy{};
  if (given == nullptr) {
    copy.struct_size = sizeof(Options);
    return copy;
  }
  if (given->struct_size < oldest_size) {
    detail::fail(CANO_E_VERSION,
                 std::string(what) + ".struct_size is " + std::to_string(given->struct_size) +
                     ", smaller than any released layout (" + std::to_string(oldest_size) + ")");
  }
  size_t n = given->struct_size < sizeof(Options) ? given->struct_size : sizeof(Options);
  std::memcpy(&copy, given, n);
  return copy;
}

}  // namespace cano::capi
