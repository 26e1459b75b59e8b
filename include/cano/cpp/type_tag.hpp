// cano/cpp/type_tag.hpp - the type tag under which a C++ type is stored.
//
// The C API identifies native objects (store values, resources) by a type tag string and only
// hands an object out to a reader that names the same tag, so a wrong-type read is an error,
// not undefined behaviour. The wrapper derives the tag from the C++ type: "c++:" followed by
// the demangled type name where the compiler offers demangling, else typeid(T).name(). Both
// are the same in every translation unit and shared object built by the same compiler.
//
// To share a type with another language (a C struct both sides read), specialise
// cano::type_tag for it:
//
//   template <> struct cano::type_tag<Config> {
//     static const char* name() noexcept { return "example.Config"; }
//   };
//
// Since 0.1.0.
#pragma once

#include <cstdlib>
#include <string>
#include <type_traits>
#include <typeinfo>

#if defined(__has_include)
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define CANO_CPP_HAS_CXXABI 1
#endif
#endif

namespace cano {

namespace detail {

// The demangled name of `info`, or its raw name when demangling is unavailable or fails.
inline std::string readable_type_name(const std::type_info& info) {
#ifdef CANO_CPP_HAS_CXXABI
  int status = 0;
  char* demangled = abi::__cxa_demangle(info.name(), nullptr, nullptr, &status);
  if (status == 0 && demangled != nullptr) {
    std::string name(demangled);
    std::free(demangled);
    return name;
  }
  std::free(demangled);
#endif
  return info.name();
}

}  // namespace detail

// The primary template: the tag is computed once per type and kept for the program's life.
template <class T>
struct type_tag {
  static const char* name() {
    static const std::string tag = "c++:" + detail::readable_type_name(typeid(T));
    return tag.c_str();
  }
};

// The tag of T, ignoring references and cv-qualifiers.
template <class T>
const char* type_tag_of() {
  return type_tag<std::remove_cv_t<std::remove_reference_t<T>>>::name();
}

}  // namespace cano
