// cano_store: cano's MemoryStore (include/cano/store.h, spec section 6).
//
// One map of values behind a std::shared_mutex: reads take the shared lock, writes the
// exclusive one, and every read-modify-write (the appends) happens under a single exclusive
// lock so it is atomic. Native objects live in shared holders: the map owns one reference and
// every cano_object_ref another, so a value replaced or removed while a reader holds it is
// destroyed only when the last reference goes. Replaced values are dropped after the lock is
// released, so a destroy hook never runs while the store is locked (except if the store runs
// out of memory while installing a value).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cano/store.h"
#include "src/refcount.hpp"

namespace cano::detail {

// A native object, its type tag and the hook that frees it. The hook runs exactly once, when
// the holder dies.
class StoredObject {
 public:
  StoredObject(std::string type, void* object, void (*destroy)(void*)) noexcept
      : type_(std::move(type)), object_(object), destroy_(destroy) {}
  StoredObject(const StoredObject&) = delete;
  StoredObject& operator=(const StoredObject&) = delete;
  ~StoredObject() {
    if (destroy_ != nullptr) destroy_(object_);
  }

  const std::string& type() const noexcept { return type_; }
  void* get() const noexcept { return object_; }

 private:
  std::string type_;
  void* object_;
  void (*destroy_)(void*);
};

using ObjectPtr = std::shared_ptr<const StoredObject>;

// Wraps a caller's object in a holder. If that fails (out of memory), destroy(object) runs
// before the exception leaves, because ownership passed to the store either way.
ObjectPtr make_object(std::string_view type, void* object, void (*destroy)(void*));

}  // namespace cano::detail

// The handle cano_store_get_object() returns: one counted reference to a stored object.
struct cano_object_ref {
  cano::detail::ObjectPtr holder;
};

struct cano_store : cano::detail::RefCounted {
  struct KindInfo {
    cano_value_kind kind = CANO_VALUE_BYTES;
    std::string type;  // "bytes", "json" or the object's tag
  };

  cano_store() = default;
  cano_store(const cano_store&) = delete;
  cano_store& operator=(const cano_store&) = delete;
  ~cano_store() = default;

  // Every method below throws Failure with cano's store errors (naming the key) or
  // CANO_E_INVALID_ARGUMENT, and std::bad_alloc when memory runs out.
  void put_bytes(std::string_view key, const void* data, size_t len);
  // `json` must be NUL-terminated text; it is validated with cJSON and stored as given.
  void put_json(std::string_view key, const char* json);
  // Takes ownership of `object` in every case: on failure destroy(object) has already run.
  void put_object(std::string_view key, std::string_view type, void* object,
                  void (*destroy)(void*));

  std::string get_bytes(std::string_view key) const;
  std::string get_json(std::string_view key) const;
  cano::detail::ObjectPtr get_object(std::string_view key, std::string_view type) const;
  KindInfo kind(std::string_view key) const;

  // Appends a JSON value to the JSON array under `key` (a missing key becomes [item]). The
  // array is re-printed by cJSON, so its text comes back in cJSON's compact form.
  void append_json(std::string_view key, const char* item_json);
  // Runs `fn` under the exclusive lock to build the new list from the current one.
  void append_object(std::string_view key, std::string_view type, cano_store_append_fn fn,
                     void* user_data);

  void remove(std::string_view key);
  void clear();
  bool contains(std::string_view key) const noexcept;
  size_t size() const noexcept;
  // The keys in ascending byte order, and the same as a JSON array of strings.
  std::vector<std::string> keys() const;
  std::string keys_json() const;

 private:
  struct Value {
    cano_value_kind kind = CANO_VALUE_BYTES;
    std::string text;                // the bytes or the JSON text
    cano::detail::ObjectPtr object;  // set for CANO_VALUE_OBJECT
  };
  // std::less<> lets lookups take a string_view without building a std::string, and the
  // ordered map gives keys() its sorted order for free.
  using Map = std::map<std::string, Value, std::less<>>;

  // Inserts or replaces `key` and hands back the previous value, so that the caller destroys
  // it after the lock is released.
  Value replace(std::string_view key, Value value);
  const Value& find_or_fail(std::string_view key) const;

  mutable std::shared_mutex mutex_;
  Map values_;
};
