// cano/cpp/detail/native_object.hpp - C++ values handed to the library as native objects
// (internal).
//
// The store and the resource set keep `void *` objects with a destroy hook. The wrapper gives
// them heap copies of C++ values and `delete` as the hook, always with the same stored type
// that the object's type tag names.
//
// Since 0.1.0.
#pragma once

#include <string>
#include <type_traits>

namespace cano::detail {

// What a typed insert stores for an argument of type T: the decayed type, with C strings as
// std::string, because a stored pointer would outlive the text it points to.
template <class T>
struct stored_type {
  using type = T;
};
template <>
struct stored_type<const char*> {
  using type = std::string;
};
template <>
struct stored_type<char*> {
  using type = std::string;
};
template <class T>
using stored_type_t = typename stored_type<std::decay_t<T>>::type;

// The destroy hook of an object created with `new T`.
template <class T>
void delete_object(void* object) noexcept {
  delete static_cast<T*>(object);
}

}  // namespace cano::detail
