// cano/cpp/store.hpp - cano::memory_store, cano's MemoryStore with typed access.
//
// A memory_store is a handle: copies share one store, like clones of cano's MemoryStore, and
// the store lives while any handle, or any resource set holding it, does. Every member may be
// called from any thread; the store does its own locking.
//
// Typed values (put<T> / get<T> / get_shared<T> / append<T>) are native objects: the store
// keeps a heap copy of the value tagged with cano::type_tag<T> and destroys it with `delete`
// when the last reference goes. Reads name the type they expect, and a read of another type
// throws cano::type_mismatch_error, as cano's get::<T>() returns StoreError::TypeMismatch:
// matching is exact, a uint32_t is not readable as an int64_t. A string literal is stored as
// std::string, never as a dangling `const char*`.
//
// JSON text and bytes are separate kinds (put_json / put_bytes) that every language can read.
//
// Errors: key_not_found_error, type_mismatch_error, append_type_mismatch_error (all
// store_error), invalid_argument_error (e.g. invalid JSON), no_memory_error; exceptions thrown
// by T's copy or move constructor propagate unchanged.
//
// Since 0.1.0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/store.h"
#include "cano/cpp/detail/c_memory.hpp"
#include "cano/cpp/detail/json_strings.hpp"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/string_ref.hpp"
#include "cano/cpp/type_tag.hpp"

namespace cano {

// The kind of a stored value (cano_value_kind).
enum class value_kind {
  bytes = CANO_VALUE_BYTES,
  json = CANO_VALUE_JSON,
  object = CANO_VALUE_OBJECT
};

namespace detail {

// The state of one append<T> call, shared with the C callback that builds the new list.
template <class T>
struct append_call {
  T* item;
  std::exception_ptr failure;
};

// Builds the new std::vector<T> from the current one plus the item, under the store's lock.
// A C callback must not throw, so any exception is kept and rethrown by append() afterwards.
template <class T>
cano_status append_object(void** out_object, void (**out_destroy)(void*), const void* current,
                          void* user_data) noexcept {
  auto* call = static_cast<append_call<T>*>(user_data);
  try {
    std::unique_ptr<std::vector<T>> list;
    if (current == nullptr) {
      list = std::make_unique<std::vector<T>>();
    } else {
      list = std::make_unique<std::vector<T>>(*static_cast<const std::vector<T>*>(current));
    }
    list->push_back(std::move(*call->item));
    *out_object = list.release();
    *out_destroy = &delete_object<std::vector<T>>;
    return CANO_OK;
  } catch (...) {
    call->failure = std::current_exception();
    return CANO_E_USER;
  }
}

}  // namespace detail

class memory_store {
 public:
  // Creates an empty store. Throws no_memory_error.
  memory_store() {
    cano_store* store = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_store_create(&store, &err), err);
    store_.reset(store, &cano_store_destroy);
  }

  // A handle over `store` that shares ownership with `owner` (or borrows it when `owner` is
  // empty: the store must then outlive the handle). Used for stores found in resources.
  memory_store(std::shared_ptr<void> owner, cano_store* store) noexcept
      : store_(std::move(owner), store) {}

  // --- Typed native values -------------------------------------------------------------

  // Inserts or replaces `key` with a copy of `value` (moved when it is an rvalue).
  template <class T>
  void put(string_ref key, T&& value) {
    using stored = detail::stored_type_t<T>;
    auto object = std::make_unique<stored>(std::forward<T>(value));
    cano_error* err = nullptr;
    // The store owns the object from the call on, even when it fails, so release it first.
    stored* raw = object.release();
    detail::check(cano_store_put_object(native(), key.c_str(), type_tag_of<stored>(), raw,
                                        &detail::delete_object<stored>, &err),
                  err);
  }

  // A copy of the T under `key`. Throws key_not_found_error or type_mismatch_error.
  template <class T>
  T get(string_ref key) const {
    return T(*get_shared<T>(key));
  }

  // The T under `key` without copying: the value stays alive while the pointer (or a copy of
  // it) does, even after the key is replaced or removed. Same errors as get().
  template <class T>
  std::shared_ptr<const T> get_shared(string_ref key) const {
    cano_object_ref* ref = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_store_get_object(&ref, native(), key.c_str(), type_tag_of<T>(), &err),
                  err);
    const T* object = static_cast<const T*>(cano_object_ref_get(ref));
    // On allocation failure shared_ptr runs the deleter, so the reference is released.
    return std::shared_ptr<const T>(object, [ref](const T*) { cano_object_ref_release(ref); });
  }

  // Appends `item` to the std::vector<T> under `key` (a missing key becomes {item}), as one
  // atomic step. Readers holding the previous list keep it unchanged. Throws
  // append_type_mismatch_error, leaving the value untouched, when the key holds anything else.
  template <class T>
  void append(string_ref key, T item) {
    detail::append_call<T> call{&item, nullptr};
    cano_error* err = nullptr;
    cano_status status = cano_store_append_object(native(), key.c_str(),
                                                  type_tag_of<std::vector<T>>(),
                                                  &detail::append_object<T>, &call, &err);
    if (call.failure) {
      cano_error_free(err);
      std::rethrow_exception(call.failure);
    }
    detail::check(status, err);
  }

  // --- JSON and bytes ------------------------------------------------------------------

  // Inserts or replaces `key` with JSON text. Throws invalid_argument_error for invalid JSON.
  void put_json(string_ref key, string_ref json) {
    cano_error* err = nullptr;
    detail::check(cano_store_put_json(native(), key.c_str(), json.c_str(), &err), err);
  }

  // The JSON text under `key`.
  std::string get_json(string_ref key) const {
    char* text = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_store_get_json(&text, native(), key.c_str(), &err), err);
    return detail::take_string(text);
  }

  // Appends the JSON value `item_json` to the JSON array under `key`.
  void append_json(string_ref key, string_ref item_json) {
    cano_error* err = nullptr;
    detail::check(cano_store_append_json(native(), key.c_str(), item_json.c_str(), &err), err);
  }

  // Inserts or replaces `key` with a copy of `size` bytes.
  void put_bytes(string_ref key, const void* data, std::size_t size) {
    cano_error* err = nullptr;
    detail::check(cano_store_put_bytes(native(), key.c_str(), data, size, &err), err);
  }
  void put_bytes(string_ref key, std::string_view data) {
    put_bytes(key, data.data(), data.size());
  }
  void put_bytes(string_ref key, const std::vector<std::uint8_t>& data) {
    put_bytes(key, data.data(), data.size());
  }

  // A copy of the bytes under `key`.
  std::vector<std::uint8_t> get_bytes(string_ref key) const {
    void* data = nullptr;
    std::size_t size = 0;
    cano_error* err = nullptr;
    detail::check(cano_store_get_bytes(&data, &size, native(), key.c_str(), &err), err);
    detail::c_ptr<void> owned(data);
    const auto* first = static_cast<const std::uint8_t*>(owned.get());
    return std::vector<std::uint8_t>(first, first + size);
  }

  // --- The map -------------------------------------------------------------------------

  // Removes `key`; a missing key is not an error.
  void remove(string_ref key) {
    cano_error* err = nullptr;
    detail::check(cano_store_remove(native(), key.c_str(), &err), err);
  }

  bool contains(string_ref key) const { return cano_store_contains(native(), key.c_str()) != 0; }
  std::size_t len() const { return cano_store_len(native()); }
  std::size_t size() const { return len(); }
  bool empty() const { return len() == 0; }

  // The keys in ascending byte order.
  std::vector<std::string> keys() const {
    char* json = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_store_keys(&json, native(), &err), err);
    detail::c_ptr<char> owned(json);
    return detail::parse_json_string_array(owned.get());
  }

  // Removes every key.
  void clear() {
    cano_error* err = nullptr;
    detail::check(cano_store_clear(native(), &err), err);
  }

  // The kind of the value under `key`; type_of() names its tag ("bytes", "json" or the
  // object's type tag). Both throw key_not_found_error.
  value_kind kind(string_ref key) const {
    cano_value_kind kind = CANO_VALUE_BYTES;
    cano_error* err = nullptr;
    detail::check(cano_store_kind(&kind, nullptr, native(), key.c_str(), &err), err);
    return static_cast<value_kind>(kind);
  }
  std::string type_of(string_ref key) const {
    cano_value_kind kind = CANO_VALUE_BYTES;
    char* type = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_store_kind(&kind, &type, native(), key.c_str(), &err), err);
    return detail::take_string(type);
  }

  // The C handle, borrowed for the life of this handle.
  cano_store* native() const noexcept { return store_.get(); }

  // Two handles are equal when they share one store.
  friend bool operator==(const memory_store& a, const memory_store& b) noexcept {
    return a.native() == b.native();
  }
  friend bool operator!=(const memory_store& a, const memory_store& b) noexcept {
    return !(a == b);
  }

 private:
  std::shared_ptr<cano_store> store_;
};

}  // namespace cano
